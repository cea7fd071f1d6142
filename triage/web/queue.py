"""The queue's filters and order as they travel in URLs, and where "next" leads from a complaint."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode

from sqlalchemy.orm import Session

from triage.complaints import MAX_ID, ORDERS, ComplaintFilter, list_complaints
from triage.db import CHANNELS, STATUSES
from triage.errors import InvalidInputError
from triage.lifecycle import STAGES, TO_ROUTE
from triage.search import words
from triage.taxonomy import Taxonomy

PAGE_SIZE = 50  # the dense queue shows 18 rows a laptop screen; a bulk confirmation takes a page
NEXT_WINDOW = 200  # how far down the queue "next" looks for the complaint after the current one
MAX_SKIPPED = NEXT_WINDOW  # complaints a pass remembers as skipped (more would only lengthen the URL)
_REVIEW = {"ya": True, "tidak": False}


@dataclass(frozen=True)
class QueueQuery:
    """What the handler asked the queue for. ``status`` ``None`` shows every complaint."""

    status: str | None = "pending"
    """``pending``: waiting to be routed (lifecycle stages received, returned, reopened), so a complaint
    archived or forwarded before routing leaves it; ``decided``: routed at least once."""
    opd: str | None = None
    category: str | None = None
    channel: str | None = None
    needs_review: bool | None = None
    order: str = "newest"
    page: int = 1
    q: str | None = None
    """Words the complaint's text must hold (full-text search, URL parameter ``q``)."""
    stage: str | None = None
    """Lifecycle stage (URL parameter ``tahap``, :data:`triage.lifecycle.STAGES`)."""
    overdue: bool | None = None
    """Past due in its stage (URL parameter ``terlambat``: ya / tidak)."""
    skipped: tuple[int, ...] = ()
    """Complaints skipped in this pass through the queue ("Lewati"): "next" passes them by until the handler
    starts a new pass from the queue's filters (URL parameter ``lewati``, ids joined by commas)."""
    unticked: tuple[int, ...] = ()
    """Confident complaints the handler left unticked in a bulk confirmation of this pass: "Pilih semua yang
    yakin" leaves them unticked, so a wrong suggestion is set aside once, not at every batch (URL parameter
    ``lepas``, ids joined by commas). They stay in the queue to be corrected one by one."""

    @classmethod
    def parse(cls, params: Mapping[str, str], taxonomy: Taxonomy) -> QueueQuery:
        """The query in URL parameters ``params``; :class:`InvalidInputError` for a value the queue does not
        know."""
        def pick(name: str, allowed, what: str) -> str | None:
            value = (params.get(name) or "").strip()
            if not value:
                return None
            if value not in allowed:
                raise InvalidInputError(f"{what} '{value}' tidak dikenal. Pilih dari daftar pada formulir "
                                        "penyaring.")
            return value

        status = (params.get("status") or "pending").strip()
        if status not in (*STATUSES, "semua"):
            raise InvalidInputError(f"Status '{status}' tidak dikenal. Pilih: menunggu, sudah diputuskan "
                                    "atau semua.")
        review = (params.get("tinjau") or "").strip()
        if review and review not in _REVIEW:
            raise InvalidInputError(f"Penyaring tinjauan '{review}' tidak dikenal. Pilih: ya, tidak atau "
                                    "semua.")
        try:
            page = max(1, int(params.get("hal") or 1))
        except ValueError:
            raise InvalidInputError("Nomor halaman harus bilangan bulat, misalnya 2.") from None
        skipped = complaint_ids(params.get("lewati"), "yang dilewati")
        unticked = complaint_ids(params.get("lepas"), "yang tidak dicentang")
        return cls(status=None if status == "semua" else status,
                   opd=pick("opd", taxonomy.labels["opd"], "OPD"),
                   category=pick("kategori", taxonomy.labels["category"], "Kategori"),
                   channel=pick("kanal", CHANNELS, "Kanal"),
                   needs_review=_REVIEW.get(review),
                   order=pick("urut", ORDERS, "Urutan") or "newest",
                   page=page, q=_search(params.get("q")), skipped=skipped, unticked=unticked,
                   stage=pick("tahap", STAGES, "Tahap"),
                   overdue=_REVIEW.get(pick("terlambat", _REVIEW, "Penyaring terlambat") or ""))

    @classmethod
    def from_string(cls, query_string: str, taxonomy: Taxonomy) -> QueueQuery:
        return cls.parse(dict(parse_qsl(query_string)), taxonomy)

    def filter(self) -> ComplaintFilter:
        pending = self.status == "pending"
        return ComplaintFilter(status=None if pending else self.status, stages=TO_ROUTE if pending else None,
                               opd=self.opd, category=self.category, channel=self.channel,
                               needs_review=self.needs_review, q=self.q, stage=self.stage, overdue=self.overdue)

    def params(self) -> dict[str, str]:
        """URL parameters of the query, defaults left out."""
        review = {True: "ya", False: "tidak"}.get(self.needs_review)  # type: ignore[arg-type]
        status = "semua" if self.status is None else (None if self.status == "pending" else self.status)
        values = {"q": self.q, "status": status,
                  "opd": self.opd, "kategori": self.category, "kanal": self.channel, "tinjau": review,
                  "urut": None if self.order == "newest" else self.order, "tahap": self.stage,
                  "terlambat": {True: "ya", False: "tidak"}.get(self.overdue),  # type: ignore[arg-type]
                  "hal": str(self.page) if self.page > 1 else None,
                  "lewati": ",".join(map(str, self.skipped)) or None,
                  "lepas": ",".join(map(str, self.unticked)) or None}
        return {k: v for k, v in values.items() if v}

    def string(self, **changes) -> str:
        """The query as a URL query string (without ``?``), with ``changes`` applied."""
        return urlencode((replace(self, **changes) if changes else self).params())

    def skipping(self, complaint_id: int) -> QueueQuery:
        """This pass with ``complaint_id`` skipped too."""
        return replace(self, skipped=tuple(dict.fromkeys((*self.skipped, complaint_id)))[-MAX_SKIPPED:])

    def leaving_unticked(self, ids: Iterable[int]) -> QueueQuery:
        """This pass with ``ids`` left unticked too."""
        return replace(self, unticked=tuple(dict.fromkeys((*self.unticked, *ids)))[-MAX_SKIPPED:])

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


def number(value: str | None) -> int | None:
    """The id or revision number ``value`` (ASCII digits, at most :data:`~triage.complaints.MAX_ID`), else
    ``None``. ``str.isdigit`` alone lets ``²`` and ``١`` through, and a number too large for the database's
    integers fails there."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_ID)) or int(value) > MAX_ID:
        return None
    return int(value)


def complaint_ids(value: str | None, what: str) -> tuple[int, ...]:
    """Complaint ids joined by commas (``lewati``, ``lepas``), the last :data:`MAX_SKIPPED` kept."""
    parts = [number(part) for part in (value or "").split(",") if part.strip()]
    if None in parts:
        raise InvalidInputError(f"Daftar pengaduan {what} tidak sah: harus nomor pengaduan dipisah koma, "
                                "misalnya 62,61. Buka antrean dari menu untuk mulai lagi.")
    return tuple(dict.fromkeys(parts))[-MAX_SKIPPED:]  # type: ignore[arg-type]


def _search(value: str | None) -> str | None:
    """The search box's words, checked now so that a bad search is refused with the other filters."""
    value = " ".join((value or "").split())
    if value:
        words(value)
    return value or None


def next_in_queue(session: Session, query: QueueQuery, after_id: int) -> int | None:
    """The complaint after ``after_id`` in ``query``'s queue (its first if ``after_id`` is not in it), passing
    by the complaints skipped in this pass."""
    items, _ = list_complaints(session, query.filter(), order=query.order, limit=NEXT_WINDOW)  # type: ignore[arg-type]
    ids = [c.id for c in items]
    rest = ids[ids.index(after_id) + 1:] if after_id in ids else ids
    return next((i for i in rest if i != after_id and i not in query.skipped), None)
