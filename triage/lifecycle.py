"""A complaint's lifecycle after intake: its stages, the transitions allowed between them, and the one
function that records a step (:func:`record_event`).

    received ─route─> routed ─acknowledge─> acknowledged ─progress─> in_progress ─settle─> settled
        │               │  └──────────────── return (salah disposisi) ──> returned ─route─> routed ...
        └ forward (bukan wewenang) / archive (duplikat, spam, tidak lengkap)    settled/forwarded/archived ─reopen─> reopened

Every step is a row of ``complaint_events`` (who, when, note, data), appended and never updated; the
complaint's ``stage``, ``stage_at`` and ``due_at`` follow the latest step, so the queue can filter on them.
A complaint without events is ``received`` (since ``received_at``). A handler's routing decision
(:func:`triage.decisions.record_decision`) records the ``route`` step in its own transaction; after a
``return`` the complaint is ``pending`` again, so the next decision is a correction that retraining learns
from like any other (and the wrong routing, no longer the latest decision of a decided complaint, is not).

Who may do what: handlers route, forward, archive and reopen; focal points (keys scoped to OPDs)
acknowledge, record progress, settle and return complaints routed to their OPDs; admins everything.
Messages a handler or focal point reads are in Bahasa Indonesia.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.complaints import (
    CLOSED,
    MAX_ID,
    WAITING_FOR_ROUTING,
    check_storable,
    complaint_not_found,
    is_routed_to,
)
from triage.db import Complaint, ComplaintEvent, utcnow
from triage.deadlines import Deadlines, due_for, of_session
from triage.errors import ConflictError, ForbiddenError, InvalidInputError

STAGES: tuple[str, ...] = ("received", "routed", "acknowledged", "in_progress", "settled", "forwarded", "archived",
                           "returned", "reopened")
OPEN: tuple[str, ...] = tuple(s for s in STAGES if s not in CLOSED)
TO_ROUTE: tuple[str, ...] = WAITING_FOR_ROUTING
"""Stages in which the complaint waits for a handler's routing (the handlers' pending queue)."""
AT_OPD: tuple[str, ...] = ("routed", "acknowledged", "in_progress")
"""Stages in which the complaint is with the OPD it was routed to (what its focal point sees, with the
closed stages it reached from there)."""
STAGE_NAMES: dict[str, str] = {
    "received": "Diterima", "routed": "Didisposisikan", "acknowledged": "Diterima OPD",
    "in_progress": "Ditindaklanjuti", "settled": "Selesai", "forwarded": "Diteruskan (bukan wewenang)",
    "archived": "Diarsipkan", "returned": "Dikembalikan (salah disposisi)", "reopened": "Dibuka kembali",
}
ARCHIVE_REASONS: dict[str, str] = {"duplicate": "duplikat", "spam": "spam", "incomplete": "tidak lengkap"}
TEXT_MAX = 4000
"""Longest note, reply or destination, in characters."""


@dataclass(frozen=True)
class Transition:
    """What an action does: the stage it leads to, the stages it may start from, who may take it."""

    stage: str
    sources: tuple[str, ...]
    roles: tuple[str, ...]
    name: str


TRANSITIONS: dict[str, Transition] = {
    "route": Transition("routed", (*TO_ROUTE, *AT_OPD), ("handler",), "disposisi"),
    "unroute": Transition("received", ("routed",), ("handler",), "batalkan disposisi"),
    "acknowledge": Transition("acknowledged", ("routed",), ("focal_point",), "terima"),
    "progress": Transition("in_progress", AT_OPD, ("focal_point",), "catat tindak lanjut"),
    "settle": Transition("settled", AT_OPD, ("focal_point",), "selesaikan"),
    "return": Transition("returned", AT_OPD, ("focal_point",), "kembalikan (salah disposisi)"),
    "forward": Transition("forwarded", OPEN, ("handler",), "teruskan (bukan wewenang)"),
    "archive": Transition("archived", OPEN, ("handler",), "arsipkan"),
    "reopen": Transition("reopened", CLOSED, ("handler",), "buka kembali"),
}
"""Every allowed transition, in one table: action -> (target stage, source stages, roles). ``unroute`` takes
back a routing the OPD has not acknowledged yet (undoing a bulk confirmation, :mod:`triage.bulk`): the
complaint goes back to the stage it had before that routing (``received``, ``returned`` or ``reopened``),
with that stage's clock."""
ACTIONS: tuple[str, ...] = tuple(TRANSITIONS)
NOTIFY = "notify"
"""Action of the events that record a message to a focal point (the stage does not change)."""


def allowed_actions(stage: str, role: str | None = None) -> list[str]:
    """Actions that may start from ``stage`` (for ``role`` when given; an admin may take every one)."""
    return [a for a, t in TRANSITIONS.items()
            if stage in t.sources and (role is None or role == "admin" or role in t.roles)]


def record_event(session: Session, complaint_id: int, action: str, *, by: Any, note: str | None = None,
                 data: dict[str, Any] | None = None, deadlines: Deadlines | None = None,
                 now: datetime | None = None, commit: bool = True) -> ComplaintEvent:
    """Record ``action`` on complaint ``complaint_id`` by ``by`` and move the complaint to its stage.

    ``by`` has ``name`` and ``key_id``; when it has a ``role`` too (an API key's :class:`~triage.apikeys.Caller`)
    the role and, for a focal point, its OPDs are checked (:class:`ForbiddenError`). :class:`ConflictError` for
    a transition the table does not allow, :class:`InvalidInputError` for a missing reply, destination or
    reason. ``deadlines``: default the session's (:func:`triage.deadlines.of_session`). With ``commit=False``
    the caller's transaction is used (a routing decision).
    """
    if action == NOTIFY:
        return _notice(session, complaint_id, by, data or {}, now or utcnow())
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise InvalidInputError(f"Tindakan '{action}' tidak dikenal. Pilih salah satu: {', '.join(ACTIONS)}.")
    if not 0 < complaint_id <= MAX_ID:
        raise complaint_not_found(complaint_id)
    data = _checked(session, complaint_id, action, dict(data or {}))
    if note is not None:
        check_storable(note, "Catatan", TEXT_MAX)
    if action == "return" and not (note or "").strip():
        raise InvalidInputError("Alasan pengembalian (salah disposisi) wajib diisi di 'note': tuliskan mengapa "
                                "pengaduan ini bukan tugas OPD Anda dan, bila tahu, OPD mana yang tepat.")
    now = now or utcnow()
    deadlines = deadlines or of_session(session)
    try:
        complaint = session.scalars(select(Complaint).where(Complaint.id == complaint_id)
                                    .with_for_update()).one_or_none()
        if complaint is None:
            raise complaint_not_found(complaint_id)
        role = getattr(by, "role", None)
        if role is not None:
            check_may(by, complaint, action)
        if complaint.stage not in transition.sources:
            raise ConflictError(illegal_message(complaint, action))
        if action == "route":
            routed_at = now
        else:
            routed_at = session.scalar(select(ComplaintEvent.at).where(ComplaintEvent.complaint_id == complaint_id,
                                                                       ComplaintEvent.action == "route")
                                       .order_by(ComplaintEvent.id.desc()).limit(1))
        if action == "unroute":
            stage, stage_at = _before_routing(session, complaint)
            complaint.stage, complaint.stage_at = stage, stage_at
        else:
            if complaint.stage != transition.stage or action == "route" or complaint.stage_at is None:
                complaint.stage_at = now
            complaint.stage = transition.stage
        complaint.due_at = due_for(deadlines, complaint.stage, complaint.stage_at, routed_at)
        if action == "return":
            complaint.status = "pending"  # back to the handlers' queue; the wrong routing is no longer a label
        event = ComplaintEvent(complaint_id=complaint_id, action=action, stage=complaint.stage, at=now,
                               actor=by.name, api_key_id=getattr(by, "key_id", None), opd=complaint.opd,
                               note=note, data=data or None)
        session.add(event)
        if action == "route":
            session.info.setdefault("routed", []).append(complaint_id)  # told after commit (triage.notify)
        if commit:
            session.commit()
    except BaseException:
        if commit:
            session.rollback()
        raise
    return event


def _before_routing(session: Session, complaint: Complaint) -> tuple[str, datetime]:
    """The stage ``complaint`` had before its latest routing, and since when (``received`` since its
    ``received_at`` when nothing came before)."""
    latest = session.scalar(select(ComplaintEvent.id).where(ComplaintEvent.complaint_id == complaint.id,
                                                            ComplaintEvent.action == "route")
                            .order_by(ComplaintEvent.id.desc()).limit(1))
    before = session.execute(select(ComplaintEvent.stage, ComplaintEvent.at)
                             .where(ComplaintEvent.complaint_id == complaint.id, ComplaintEvent.id < (latest or 0),
                                    ComplaintEvent.action != NOTIFY)
                             .order_by(ComplaintEvent.id.desc()).limit(1)).first()
    if before is None or before.stage not in TO_ROUTE:
        return "received", complaint.received_at
    return before.stage, before.at


def _notice(session: Session, complaint_id: int, by: Any, data: dict[str, Any], now: datetime) -> ComplaintEvent:
    """A message to the focal point was sent or failed: recorded in the complaint's stage, which it leaves."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise complaint_not_found(complaint_id)
    event = ComplaintEvent(complaint_id=complaint_id, action=NOTIFY, stage=complaint.stage, at=now, actor=by.name,
                           api_key_id=getattr(by, "key_id", None), opd=complaint.opd, note=None, data=data)
    session.add(event)
    session.commit()
    return event


def check_may(caller: Any, complaint: Complaint, action: str | None = None) -> None:
    """:class:`ForbiddenError` unless ``caller`` may see ``complaint`` (and take ``action`` on it)."""
    role = caller.role
    if role == "focal_point":
        opds = tuple(getattr(caller, "opds", ()) or ())
        if not is_routed_to(complaint, opds):
            raise ForbiddenError(f"Pengaduan #{complaint.id} tidak didisposisikan ke OPD Anda "
                                 f"({', '.join(opds) or 'tidak ada'}); kunci '{caller.name}' hanya boleh membuka "
                                 "dan menindaklanjuti pengaduan yang didisposisikan ke OPD itu.")
    if action is None or role == "admin":
        return
    transition = TRANSITIONS[action]
    if role not in transition.roles:
        who = {"handler": "pengelola pengaduan", "focal_point": "focal point (narahubung) OPD"}
        allowed = " atau ".join(who.get(r, r) for r in transition.roles)
        raise ForbiddenError(f"Tindakan '{transition.name}' hanya untuk {allowed}; kunci '{caller.name}' berperan "
                             f"'{role}'. Minta yang berwenang melakukannya.")


def illegal_message(complaint: Complaint, action: str) -> str:
    """Why ``action`` cannot be taken on ``complaint`` now, and what can."""
    transition = TRANSITIONS[action]
    possible = allowed_actions(complaint.stage)
    hint = (f"Tindakan yang mungkin sekarang: {', '.join(possible)}." if possible else "")
    if complaint.stage in CLOSED and action != "reopen":
        hint = "Buka kembali pengaduannya dulu (tindakan 'reopen') bila memang perlu ditangani lagi."
    return (f"Pengaduan #{complaint.id} berstatus '{STAGE_NAMES[complaint.stage]}' ({complaint.stage}); tindakan "
            f"'{transition.name}' ({action}) hanya bisa dari status "
            f"{', '.join(transition.sources)}. {hint}").strip()


def _checked(session: Session, complaint_id: int, action: str, data: dict[str, Any]) -> dict[str, Any]:
    """The event's data for ``action``, with what it requires checked (Indonesian 422 messages)."""
    for key, value in data.items():
        if isinstance(value, str):
            check_storable(value, f"'{key}'", TEXT_MAX)
    if action == "settle":
        if not str(data.get("reply") or "").strip():
            raise InvalidInputError("Jawaban kepada warga wajib diisi di 'reply' untuk menyelesaikan pengaduan: "
                                    "tuliskan apa yang sudah dilakukan OPD.")
    elif action == "forward":
        if not str(data.get("destination") or "").strip():
            raise InvalidInputError("Tujuan penerusan wajib diisi di 'destination' (instansi yang berwenang, "
                                    "misalnya 'PLN UP3 Samarinda' atau 'Polres Kutai Kartanegara').")
    elif action == "archive":
        reason = data.get("reason")
        if reason not in ARCHIVE_REASONS:
            raise InvalidInputError(f"Alasan pengarsipan wajib di 'reason': salah satu dari "
                                    f"{', '.join(ARCHIVE_REASONS)}; yang dikirim: {reason!r}.")
        if reason == "duplicate":
            original = data.get("duplicate_of")
            if not isinstance(original, int) or isinstance(original, bool) or original == complaint_id:
                raise InvalidInputError("Pengaduan duplikat perlu nomor pengaduan aslinya di 'duplicate_of' "
                                        "(bilangan bulat, bukan nomor pengaduan ini sendiri).")
            if not 0 < original <= MAX_ID or session.get(Complaint, original) is None:
                raise InvalidInputError(f"Pengaduan asli #{original} (duplicate_of) tidak ditemukan. Periksa "
                                        "nomornya.")
    return {k: v for k, v in data.items() if v is not None}


def timeline(session: Session, complaint_id: int) -> list[ComplaintEvent]:
    """Every event of ``complaint_id``, oldest first."""
    return list(session.scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id)
                                .order_by(ComplaintEvent.at, ComplaintEvent.id)))


def is_overdue(complaint: Complaint, now: datetime | None = None) -> bool:
    """Past due in its current stage (closed stages never are)."""
    return complaint.due_at is not None and complaint.stage not in CLOSED and (now or utcnow()) >= complaint.due_at
