"""The lifecycle on the pages (issue 16): a complaint's timeline and the handler's actions on it (forward,
archive with a reason, reopen), the focal points' page (their OPDs' complaints: acknowledge, record
follow-up, settle with the reply, return as wrongly routed), and the printable monthly report.

Every action goes through :func:`triage.lifecycle.record_event`, which checks the key's role and a focal
point's OPDs on the server; a refused step is an Indonesian error page with the API's status (403, 409, 422).
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, timezone
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from triage.api.deps import SessionDep, SuggesterDep
from triage.complaints import ComplaintFilter, get_complaint, list_complaints
from triage.db import Complaint, utcnow
from triage.deadlines import of_session
from triage.decisions import history
from triage.errors import ForbiddenError, InvalidInputError
from triage.lifecycle import (
    ARCHIVE_REASONS,
    AT_OPD,
    CLOSED,
    STAGE_NAMES,
    TRANSITIONS,
    allowed_actions,
    check_may,
    is_overdue,
    record_event,
    timeline,
)
from triage.outcomes import CSV_HEADERS, outcomes, row_names, to_csv
from triage.taxonomy import HEADS, Taxonomy
from triage.web.queue import number
from triage.web.render import PageRoute, local_path, page, snippet
from triage.web.session import MemberDep, PostMemberDep, WebUser
from triage.web.statistics import download

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FOCAL_PAGES = ("/narahubung", "/laporan")
"""Addresses of the pages a focal point may open (besides signing out)."""
PAGE_ACTIONS = ("acknowledge", "progress", "settle", "return", "forward", "archive", "reopen")
"""The steps the pages offer (a routing is the decision form's; ``unroute`` is the bulk undo's)."""
DONE = {"acknowledge": "diterima OPD", "progress": "dicatat tindak lanjutnya", "settle": "diselesaikan",
        "return": "dikembalikan ke pengelola (salah disposisi)", "forward": "diteruskan (bukan wewenang)",
        "archive": "diarsipkan", "reopen": "dibuka kembali"}
"""What a step did, for the message after it (``Pengaduan #7 diarsipkan.``)."""
EVENT_NAMES = {"route": "Didisposisikan", "unroute": "Disposisi dibatalkan", "acknowledge": "Diterima OPD",
               "progress": "Tindak lanjut", "settle": "Diselesaikan", "return": "Dikembalikan (salah disposisi)",
               "forward": "Diteruskan (bukan wewenang)", "archive": "Diarsipkan", "reopen": "Dibuka kembali",
               "notify": "Pesan ke focal point"}
FOCAL_STAGES = (*AT_OPD, *CLOSED)
"""Stages a focal point's list can filter on."""


def done_message(params) -> str | None:
    """``Pengaduan #7 diarsipkan.`` after a step (URL parameters ``selesai`` and ``aksi``), else ``None``."""
    done, action = params.get("selesai", ""), params.get("aksi", "")
    return f"Pengaduan #{done} {DONE[action]}." if done.isdigit() and action in DONE else None


def lifecycle_context(db: Session, complaint: Complaint, user: WebUser, request: Request | None = None) -> dict:
    """What the complaint page shows of the lifecycle: the stage, its due date, the timeline, the steps the
    signed-in key may take now."""
    now = utcnow()
    role = user.caller.role
    events = []
    for event in timeline(db, complaint.id):
        data = dict(event.data or {})
        events.append({"event": event, "name": EVENT_NAMES.get(event.action, event.action),
                       "stage": STAGE_NAMES.get(event.stage, event.stage), "details": _details(event.action, data)})
    return {"lifecycle": {
        "stage": complaint.stage, "stage_name": STAGE_NAMES.get(complaint.stage, complaint.stage),
        "due_at": complaint.due_at, "overdue": is_overdue(complaint, now), "events": events,
        "actions": [a for a in allowed_actions(complaint.stage, role) if a in PAGE_ACTIONS],
        "reasons": ARCHIVE_REASONS, "names": {a: t.name for a, t in TRANSITIONS.items()},
        "message": done_message(request.query_params) if request is not None else None,
    }}


def _details(action: str, data: dict) -> str:
    """The data of a step as a handler reads it."""
    if action == "settle":
        return f"Jawaban kepada warga: {data.get('reply', '')}"
    if action == "forward":
        return f"Diteruskan ke: {data.get('destination', '')}"
    if action == "archive":
        reason = ARCHIVE_REASONS.get(data.get("reason", ""), data.get("reason", ""))
        original = f" dari #{data['duplicate_of']}" if data.get("duplicate_of") else ""
        return f"Alasan: {reason}{original}"
    if action == "notify":  # the webhook's address may hold a token, and the sender's error is English:
        # both stay in the event's data (API) and the service log, not on the pages
        if data.get("channel") == "email":
            sent = f"e-mail ke {data.get('to', '')}"
        else:
            sent = "webhook" if data.get("channel") == "webhook" else str(data.get("channel", ""))
        attempts = data.get("attempts")
        failed = f"gagal setelah {attempts} kali percobaan" if isinstance(attempts, int) else "gagal"
        return f"{sent}: {'terkirim' if data.get('ok') else failed + '; rinciannya ada di log layanan'}"
    if action == "unroute" and data.get("batch_id"):
        return f"Konfirmasi massal #{data['batch_id']} dibatalkan"
    return ""


# -- a step from the pages --------------------------------------------------------------------------


@router.post("/tindakan")
def act(request: Request, user: PostMemberDep, db: SessionDep, nomor: Annotated[str, Form()] = "",
        action: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "", reply: Annotated[str, Form()] = "",
        destination: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
        duplicate_of: Annotated[str, Form()] = "", kembali: Annotated[str, Form()] = "") -> Response:
    """Take a step on complaint ``nomor`` (from its page, the queue's archive form or the focal point's page),
    then go back where it was taken (``kembali``: a path on this site)."""
    complaint_id = number(nomor.strip().lstrip("#"))
    if complaint_id is None:
        raise InvalidInputError(f"Nomor pengaduan '{nomor[:20]}' tidak sah: tulis angkanya, misalnya 62.")
    if action not in PAGE_ACTIONS:
        raise InvalidInputError(f"Tindakan '{action[:40]}' tidak dikenal. Pilih dari tombol di halaman.")
    data: dict = {"reply": reply.strip() or None, "destination": destination.strip() or None,
                  "reason": reason or None}
    if duplicate_of.strip():
        data["duplicate_of"] = number(duplicate_of.strip().lstrip("#"))
        if data["duplicate_of"] is None:
            raise InvalidInputError(f"Nomor pengaduan asli '{duplicate_of[:20]}' tidak sah: tulis angkanya, "
                                    "misalnya 61.")
    record_event(db, complaint_id, action, by=user.caller, note=note.strip() or None, data=data)
    own_page = f"/narahubung/pengaduan/{complaint_id}" if user.caller.role == "focal_point" else \
        f"/pengaduan/{complaint_id}"
    back = local_path(kembali, default=own_page)
    separator = "&" if "?" in back else "?"
    return RedirectResponse(back + separator + urlencode({"selesai": complaint_id, "aksi": action}),
                            status_code=303)


# -- the focal points' page -------------------------------------------------------------------------


def _focal(user: WebUser) -> tuple[str, ...]:
    """The OPDs of a signed-in focal point; :class:`ForbiddenError` for anyone else."""
    if user.caller.role != "focal_point":
        raise ForbiddenError("Halaman Pengaduan OPD untuk focal point (narahubung OPD). Pengelola pengaduan "
                             "memakai halaman Antrean.")
    return user.caller.opds


@router.get("/narahubung")
def focal_list(request: Request, user: MemberDep, db: SessionDep, suggester: SuggesterDep) -> Response:
    """The complaints routed to the focal point's OPDs, those needing a step first."""
    opds = _focal(user)
    params = request.query_params
    stage = params.get("tahap") or None
    if stage is not None and stage not in FOCAL_STAGES:
        raise InvalidInputError(f"Tahap '{stage[:30]}' tidak dikenal. Pilih dari daftar pada formulir penyaring.")
    overdue = {"ya": True, "tidak": False, "": None}.get(params.get("terlambat") or "", None)
    where = ComplaintFilter(opds=opds, stage=stage, stages=None if stage else AT_OPD, overdue=overdue)
    items, total = list_complaints(db, where, order="newest", limit=200)
    taxonomy = suggester.taxonomy
    now = utcnow()
    rows = [{"complaint": c, "overdue": is_overdue(c, now), "opd_name": taxonomy.name_of("opd", c.opd),
             "stage_name": STAGE_NAMES.get(c.stage, c.stage), "snippet": snippet(c.text)} for c in items]
    return page(request, "focal.html", {
        "user": user, "rows": rows, "total": total, "stage": stage, "overdue": overdue,
        "stages": [(s, STAGE_NAMES[s]) for s in FOCAL_STAGES],
        "opd_names": [taxonomy.name_of("opd", code) for code in opds],
        "late": list_complaints(db, ComplaintFilter(opds=opds, overdue=True), limit=1)[1],
        "message": done_message(params)})


@router.get("/narahubung/pengaduan/{complaint_id}")
def focal_complaint(request: Request, complaint_id: int, user: MemberDep, db: SessionDep,
                    suggester: SuggesterDep) -> Response:
    """A complaint routed to the focal point's OPD: its text, the routing, the timeline and the steps."""
    _focal(user)
    complaint = get_complaint(db, complaint_id)
    check_may(user.caller, complaint)
    taxonomy = suggester.taxonomy
    decisions = history(db, complaint_id)
    latest = decisions[-1] if decisions else None
    return page(request, "focal_complaint.html", {
        "user": user, "complaint": complaint, "routing": _routing(taxonomy, complaint),
        "routed_by": latest.decided_by if latest else None, "routed_note": latest.note if latest else None,
        **lifecycle_context(db, complaint, user, request)})


def _routing(taxonomy: Taxonomy, complaint: Complaint) -> list[tuple[str, str]]:
    return [(head, taxonomy.name_of(head, getattr(complaint, head))) for head in HEADS]


# -- the monthly report -----------------------------------------------------------------------------


def _month(value: str | None) -> tuple[date, date]:
    """The first and last day of month ``value`` (``2026-03``); the current month (UTC) without one."""
    if not value:
        today = datetime.now(timezone.utc).date()
        year, month = today.year, today.month
    else:
        try:
            year, month = (int(part) for part in value.split("-"))
            date(year, month, 1)
        except ValueError:
            raise InvalidInputError(f"Bulan '{value[:20]}' tidak sah: tulis tahun dan bulan, misalnya "
                                    "2026-03.") from None
    return date(year, month, 1), date(year, month, monthrange(year, month)[1])


MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")


def _report(request: Request, user: WebUser, db: Session) -> tuple[date, date, datetime, list]:
    first, last = _month(request.query_params.get("bulan"))
    as_of = utcnow()
    rows = outcomes(db, first, last, deadlines=of_session(db), as_of=as_of,
                    opds=user.caller.opds if user.caller.role == "focal_point" else None)
    return first, last, as_of, rows


@router.get("/laporan")
def monthly_report(request: Request, user: MemberDep, db: SessionDep, suggester: SuggesterDep) -> Response:
    """The monthly report a head of office reads and prints: per OPD, what became of the month's complaints."""
    first, last, as_of, rows = _report(request, user, db)
    taxonomy = suggester.taxonomy
    return page(request, "report.html", {
        "user": user, "rows": rows, "first": first, "last": last, "as_of": as_of,
        "month_name": f"{MONTHS[first.month - 1]} {first.year}", "bulan": first.strftime("%Y-%m"),
        "names": row_names(taxonomy), "headers": CSV_HEADERS})


@router.get("/laporan/laporan.csv")
def monthly_report_csv(request: Request, user: MemberDep, db: SessionDep, suggester: SuggesterDep) -> Response:
    """The same report as CSV (Indonesian headers, BOM, semicolons, decimal commas)."""
    first, _, _, rows = _report(request, user, db)
    return download(to_csv(rows, row_names(suggester.taxonomy)), f"laporan_pengaduan_{first.strftime('%Y-%m')}.csv", "text/csv")
