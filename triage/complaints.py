"""Complaints in the history database: take one in with its suggestion, read, list, enqueue in bulk.

Write functions commit their own transaction: a complaint and its suggestion are one row, written in one
``INSERT`` and committed together, so a failure leaves nothing behind. Messages of errors a handler
may see (through the API) are in Bahasa Indonesia.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage.db import CHANNELS, STATUSES, Complaint, utcnow
from triage.deadlines import Deadlines, due_for, of_session
from triage.errors import ConflictError, InvalidInputError, NotFoundError
from triage.metrics import count_suggestion
from triage.search import matches
from triage.suggest import Suggester, Suggestion, text_problem
from triage.taxonomy import HEADS

Order = Literal["newest", "least_certain"]
ORDERS: tuple[str, ...] = ("newest", "least_certain")
MAX_ID = 2**31 - 1
"""The largest id a complaint can have: ids are 32-bit integers (PostgreSQL's int4), on SQLite too."""
EXTERNAL_ID_MAX = 200
"""Longest external_id, in characters (its column's width)."""


@dataclass(frozen=True)
class NewComplaint:
    """A complaint as it comes in, before it is stored."""

    text: str
    external_id: str | None = None
    channel: str | None = None
    received_at: datetime | None = None


@dataclass(frozen=True)
class ComplaintFilter:
    """What :func:`list_complaints` keeps; ``None`` keeps everything. Dates are whole UTC days, inclusive."""

    status: str | None = None
    opd: str | None = None
    category: str | None = None
    channel: str | None = None
    needs_review: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None
    """Words the text must hold (full-text search, :mod:`triage.search`)."""
    stage: str | None = None
    """Lifecycle stage (:mod:`triage.lifecycle`)."""
    stages: tuple[str, ...] | None = None
    """One of these lifecycle stages (the handlers' pending queue: those waiting to be routed)."""
    overdue: bool | None = None
    """Past due in the current stage (``True``), or not (``False``)."""
    opds: tuple[str, ...] | None = None
    """Only complaints routed to one of these OPDs and past the handlers (a focal point's scope)."""


@dataclass(frozen=True)
class EnqueueResult:
    """What :func:`enqueue_complaints` did: ids of the new rows, and how many were already there."""

    created: list[int]
    skipped: int


def check_text(text: object, max_chars: int | None = None) -> str:
    """Return ``text`` if a complaint may carry it, else raise :class:`InvalidInputError`."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("Teks pengaduan kosong. Tuliskan isi pengaduan warga sebelum mengirim.")
    if text_problem(text) is not None:
        raise InvalidInputError("Teks pengaduan tidak berisi huruf sama sekali (hanya angka atau tanda baca). "
                                "Tuliskan isi pengaduan warga dengan kata-kata.")
    check_storable(text, "Teks pengaduan")
    if max_chars is not None and len(text) > max_chars:
        raise InvalidInputError(f"Teks pengaduan terlalu panjang: {len(text)} karakter, batasnya {max_chars} "
                                "karakter. Ringkas teksnya atau pecah menjadi beberapa pengaduan.")
    return text


def check_storable(value: str, field: str, max_chars: int | None = None) -> str:
    """Return ``value`` if both stores keep it as text, else raise :class:`InvalidInputError`.

    The one rule for every text a request brings (complaint text, external_id, note, codes, filters), so
    that SQLite and PostgreSQL answer alike: PostgreSQL refuses the NUL character, and no database takes a
    lone UTF-16 surrogate (it is not UTF-8). ``field`` names the value in the message.
    """
    if "\x00" in value or not _encodable(value):
        position = next(i for i, c in enumerate(value) if c == "\x00" or "\ud800" <= c <= "\udfff")
        raise InvalidInputError(f"{field} berisi karakter yang tidak sah di posisi {position + 1} (karakter kosong "
                                "U+0000 atau pengkodean rusak). Kirim teks UTF-8 yang utuh; salin ulang dari "
                                "sumber aslinya.")
    if max_chars is not None and len(value) > max_chars:
        raise InvalidInputError(f"{field} terlalu panjang: {len(value)} karakter, batasnya {max_chars} karakter. "
                                "Persingkat nilainya.")
    return value


def to_utc(moment: datetime, field: str = "Waktu diterima") -> datetime:
    """``moment`` in UTC (without an offset it is taken to be UTC already); :class:`InvalidInputError` if
    its UTC day falls outside the years served (:data:`FIRST_DAY` to :data:`LAST_DAY`, as the date filters):
    a complaint received in the year 9999 is a typing error, and deadlines counted from it could not be."""
    try:
        utc = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    except OverflowError:
        utc = None
    if utc is None or not FIRST_DAY <= utc.date() <= LAST_DAY:
        raise InvalidInputError(f"{field} {moment.isoformat()} di luar rentang yang dilayani ({FIRST_DAY} "
                                f"sampai {LAST_DAY} dalam UTC). Periksa tanggal, jam dan zona waktunya.")
    return utc


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no database can store it
        return False
    return True


def create_complaint(session: Session, suggester: Suggester, text: str, *, external_id: str | None = None,
                     channel: str | None = None, received_at: datetime | None = None,
                     max_chars: int | None = None) -> Complaint:
    """Suggest routing for ``text``, store the complaint with its suggestion and commit.

    :class:`InvalidInputError` for empty or too long text or an unknown channel; :class:`ConflictError`
    if ``external_id`` is already stored.
    """
    if external_id is not None:
        check_storable(external_id, "external_id", EXTERNAL_ID_MAX)
    complaint = NewComplaint(text=check_text(text, max_chars), external_id=external_id, channel=channel,
                             received_at=to_utc(received_at) if received_at else None)
    _check_channel(channel)
    suggestion = suggester.suggest(text)  # before the transaction: no lock is held while the model works
    row = Complaint(**_row(complaint, suggestion, of_session(session)))
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = _id_of_external(session, external_id) if external_id is not None else None
        if existing is not None:
            raise ConflictError(f"Pengaduan dengan external_id '{external_id}' sudah tersimpan (id {existing}). "
                                "Gunakan id itu, jangan kirim ulang.") from None
        raise
    count_suggestion(suggestion)
    return row


def enqueue_complaints(session: Session,
                       rows: Iterable[tuple[NewComplaint | Mapping[str, Any], Suggestion]],
                       chunk_size: int = 500) -> EnqueueResult:
    """Store many complaints whose suggestions are already made (``triage batch --to-queue``).

    Idempotent on ``external_id``: a complaint whose external_id is stored already (or repeats within
    ``rows``) is skipped, even when another process enqueues the same rows at the same time. Rows without
    an external_id are always stored. Commits once per chunk.
    """
    created: list[int] = []
    skipped = 0
    chunk: list[dict[str, Any]] = []
    seen: set[str] = set()
    deadlines = of_session(session)

    def flush() -> None:
        nonlocal skipped
        if not chunk:
            return
        insert = _insert_ignoring_duplicates(session)
        ids = list(session.scalars(insert.returning(Complaint.id), chunk))
        session.commit()
        created.extend(ids)
        skipped += len(chunk) - len(ids)
        chunk.clear()

    for new, suggestion in rows:
        if isinstance(new, Mapping):
            new = NewComplaint(**{k: new.get(k) for k in ("text", "external_id", "channel", "received_at")})
        check_text(new.text)
        _check_channel(new.channel)
        if new.external_id is not None:
            check_storable(new.external_id, "external_id", EXTERNAL_ID_MAX)
            if new.external_id in seen:
                skipped += 1
                continue
            seen.add(new.external_id)
        chunk.append(_row(new, suggestion, deadlines))
        if len(chunk) >= chunk_size:
            flush()
    flush()
    return EnqueueResult(created=created, skipped=skipped)


def get_complaint(session: Session, complaint_id: int) -> Complaint:
    """The complaint ``complaint_id``; :class:`NotFoundError` if there is none."""
    complaint = session.get(Complaint, complaint_id) if 0 < complaint_id <= MAX_ID else None
    if complaint is None:
        raise complaint_not_found(complaint_id)
    return complaint


def complaint_not_found(complaint_id: int) -> NotFoundError:
    """The error for an id no complaint has (any integer, however large)."""
    return NotFoundError(f"Pengaduan dengan id {complaint_id} tidak ditemukan. Periksa nomor pengaduannya.")


def list_complaints(session: Session, where: ComplaintFilter = ComplaintFilter(), *, order: Order = "newest",
                    limit: int = 50, offset: int = 0) -> tuple[list[Complaint], int]:
    """One page of complaints matching ``where`` and how many match in all.

    ``order``: ``newest`` (received last first) or ``least_certain`` (lowest confidence of any head first).
    """
    if order not in ORDERS:
        raise InvalidInputError(f"Urutan '{order}' tidak dikenal. Pilih salah satu: {', '.join(ORDERS)}.")
    if where.status is not None and where.status not in STATUSES:
        raise InvalidInputError(f"Status '{where.status}' tidak dikenal. Pilih salah satu: {', '.join(STATUSES)}.")
    for field in ("opd", "category", "channel"):
        if getattr(where, field) is not None:
            check_storable(getattr(where, field), f"Filter {field}")
    query = _filtered(select(Complaint), where)
    total = session.scalar(_filtered(select(func.count()).select_from(Complaint), where)) or 0
    if order == "least_certain":
        query = query.order_by(Complaint.min_confidence.asc(), Complaint.id.desc())
    else:
        query = query.order_by(Complaint.received_at.desc(), Complaint.id.desc())
    offset = min(max(offset, 0), 2**63 - 1)  # past the end is an empty page, not a database error
    return list(session.scalars(query.limit(limit).offset(offset))), total


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
"""Dates a filter may name: complaints are not older, and a later one is a typing error."""


def day_range(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """``[start, end)`` in UTC covering whole days ``date_from`` .. ``date_to`` (inclusive)."""
    for day in (date_from, date_to):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidInputError(f"Tanggal {day} di luar rentang yang dilayani ({FIRST_DAY} sampai {LAST_DAY}). "
                                    "Periksa tahunnya.")
    start = datetime.combine(date_from, time.min, timezone.utc) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time.min, timezone.utc) if date_to else None
    if start and end and end <= start:
        raise InvalidInputError(f"Rentang tanggal terbalik: dari {date_from} sampai {date_to}. "
                                "Tanggal awal harus sebelum atau sama dengan tanggal akhir.")
    return start, end


WAITING_FOR_ROUTING: tuple[str, ...] = ("received", "returned", "reopened")
"""Lifecycle stages in which a complaint waits for a handler's routing (``triage.lifecycle.TO_ROUTE``)."""
CLOSED: tuple[str, ...] = ("settled", "forwarded", "archived")
"""Lifecycle stages that end a complaint's clocks (``triage.lifecycle`` imports them from here: it builds on
this module)."""


def routed_to(opds: tuple[str, ...]):
    """SQL condition: the complaint is routed to one of ``opds`` (what a focal point of those OPDs may see).

    A routing decision is in force (``status`` decided: a complaint archived or forwarded before any routing
    keeps only its *suggested* OPD, which its focal point never received) and the complaint is not waiting
    for a new routing. :func:`is_routed_to` is the same test on a loaded complaint."""
    return (Complaint.opd.in_(opds) & (Complaint.status == "decided")
            & Complaint.stage.not_in(WAITING_FOR_ROUTING))


def is_routed_to(complaint: Complaint, opds: tuple[str, ...]) -> bool:
    """:func:`routed_to` on a loaded complaint."""
    return (complaint.opd in opds and complaint.status == "decided"
            and complaint.stage not in WAITING_FOR_ROUTING)


def _filtered(query: Select, where: ComplaintFilter) -> Select:
    for column, value in ((Complaint.status, where.status), (Complaint.opd, where.opd),
                          (Complaint.category, where.category), (Complaint.channel, where.channel),
                          (Complaint.needs_review, where.needs_review)):
        if value is not None:
            query = query.where(column == value)
    if where.q is not None and where.q.strip():
        query = query.where(matches(where.q))
    if where.stage is not None:
        query = query.where(Complaint.stage == where.stage)
    if where.stages is not None:
        query = query.where(Complaint.stage.in_(where.stages))
    if where.opds is not None:
        query = query.where(routed_to(where.opds))
    if where.overdue is not None:
        late = (Complaint.due_at <= utcnow()) & Complaint.stage.not_in(CLOSED)
        query = query.where(late if where.overdue else ~late | Complaint.due_at.is_(None))
    start, end = day_range(where.date_from, where.date_to)
    if start is not None:
        query = query.where(Complaint.received_at >= start)
    if end is not None:
        query = query.where(Complaint.received_at < end)
    return query


def _row(new: NewComplaint, suggestion: Suggestion, deadlines: Deadlines) -> dict[str, Any]:
    """The row of a new complaint; its route deadline counted with ``deadlines`` (the deployment's)."""
    heads = {h: suggestion.head(h) for h in HEADS}
    data = suggestion.to_dict()
    received = to_utc(new.received_at) if new.received_at else utcnow()
    return {
        "external_id": new.external_id,
        "channel": new.channel,
        "text": new.text,
        "received_at": received,
        "stage": "received",  # the lifecycle (triage/lifecycle.py) starts: due to be routed by the route deadline
        "stage_at": received,
        "due_at": due_for(deadlines, "received", received, None),
        "created_at": utcnow(),
        "status": "pending",
        "revisions": 0,
        "model_version": suggestion.model_version,
        "suggestion": data,
        "needs_review": suggestion.needs_review,
        "min_confidence": min(h.confidence for h in heads.values()),
        **{f"suggested_{h}": heads[h].code for h in HEADS},
        **{f"{h}_confidence": heads[h].confidence for h in HEADS},
        **{h: heads[h].code for h in HEADS},
    }


def _check_channel(channel: str | None) -> None:
    if channel is not None and channel not in CHANNELS:
        raise InvalidInputError(f"Kanal '{channel}' tidak dikenal. Pilih salah satu: {', '.join(CHANNELS)}.")


def _id_of_external(session: Session, external_id: str) -> int | None:
    return session.scalar(select(Complaint.id).where(Complaint.external_id == external_id))


def _insert_ignoring_duplicates(session: Session):
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(Complaint).on_conflict_do_nothing(index_elements=[Complaint.external_id])
