"""The lifecycle after routing: ``POST /v1/complaints/{id}/events`` (acknowledge, progress, settle, return,
forward, archive, reopen), ``GET /v1/complaints/{id}/events`` (the timeline), ``GET
/v1/complaints/{id}/message`` (what the focal point is told), and ``GET /v1/reports/outcomes`` (JSON or CSV).
Routing itself stays ``POST /v1/complaints/{id}/decisions``. Role and scope checks are
:mod:`triage.lifecycle`'s."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from triage.api.deps import CallerDep, SessionDep, SettingsDep, SuggesterDep
from triage.api.schemas import ErrorPublic, EventPublic, Stored, _In
from triage.complaints import MAX_ID, get_complaint
from triage.db import utcnow
from triage.deadlines import Deadlines, install, of_session
from triage.lifecycle import TEXT_MAX, check_may, is_overdue, record_event, timeline
from triage.notify import Notifier, compose
from triage.outcomes import OutcomeRow, outcomes, row_names, to_csv
from triage.taxonomy import load_taxonomy

ComplaintId = Annotated[int, Path(ge=1, le=MAX_ID, description="The complaint's id.")]

router = APIRouter(prefix="/v1/complaints", tags=["lifecycle"],
                   responses={401: {"model": ErrorPublic}, 403: {"model": ErrorPublic}, 404: {"model": ErrorPublic},
                              422: {"model": ErrorPublic}})
reports = APIRouter(prefix="/v1/reports", tags=["reports"],
                    responses={401: {"model": ErrorPublic}, 422: {"model": ErrorPublic}})


def start(sessions, settings) -> Notifier:
    """At the app's start: sessions count with the deployment's deadlines, and routed complaints are told to
    their focal points after commit."""
    deadlines = Deadlines.from_settings(settings)
    install(sessions, deadlines)
    notifier = Notifier(sessions, load_taxonomy(settings.deployment), settings, deadlines.calendar,
                        attempts=settings.notify_attempts, backoff_seconds=settings.notify_backoff_seconds)
    notifier.install()
    return notifier


class EventCreate(_In):
    """A step of the follow-up. ``route`` is a decision (``POST .../decisions``), not an event."""

    action: Literal["acknowledge", "progress", "settle", "return", "forward", "archive", "reopen"] = Field(
        description="acknowledge, progress, settle, return (focal point); forward, archive, reopen (handler).")
    note: Stored | None = Field(None, max_length=TEXT_MAX, description="What was done or why (required to return).")
    reply: Stored | None = Field(None, max_length=TEXT_MAX, description="settle: the reply to the citizen (required).")
    destination: Stored | None = Field(None, max_length=TEXT_MAX,
                                       description="forward: the body outside the pemda that is competent (required).")
    reason: Literal["duplicate", "spam", "incomplete"] | None = Field(None, description="archive: why (required).")
    duplicate_of: int | None = Field(None, ge=1, le=MAX_ID, description="archive as duplicate: the original's id.")


class StageChange(BaseModel):
    event: EventPublic
    stage: str
    due_at: datetime | None
    overdue: bool


class MessagePublic(BaseModel):
    """The ready message for the focal point of the complaint's OPD."""

    opd: str
    opd_name: str
    focal_point: str | None
    phone: str | None = Field(description="In wa.me form (62...), when the deployment configures one.")
    email: str | None
    urgency: str
    due_at: datetime | None
    link: str
    subject: str
    text: str = Field(description="Copyable text (Bahasa Indonesia).")
    whatsapp_url: str = Field(description="https://wa.me/<phone>?text=...: opens WhatsApp with the text filled in.")


class OutcomeReport(BaseModel):
    date_from: date | None
    date_to: date | None
    as_of: datetime
    rows: list[OutcomeRow] = Field(description="One row per OPD, then the total (opd null); see triage/outcomes.py.")


@router.post("/{complaint_id}/events", status_code=status.HTTP_201_CREATED, response_model=StageChange,
             responses={409: {"model": ErrorPublic}})
def add_event(complaint_id: ComplaintId, body: EventCreate, session: SessionDep, caller: CallerDep) -> StageChange:
    """Take a step of the follow-up; an illegal one for the complaint's stage answers 409, one outside the
    key's role or OPDs 403."""
    data = body.model_dump(exclude={"action", "note"}, exclude_none=True)
    event = record_event(session, complaint_id, body.action, by=caller, note=body.note, data=data)
    complaint = get_complaint(session, complaint_id)
    return StageChange(event=EventPublic.of(event), stage=complaint.stage, due_at=complaint.due_at,
                       overdue=is_overdue(complaint))


@router.get("/{complaint_id}/events", response_model=list[EventPublic])
def events(complaint_id: ComplaintId, session: SessionDep, caller: CallerDep) -> list[EventPublic]:
    """The complaint's timeline, oldest first (it was received at its received_at)."""
    check_may(caller, get_complaint(session, complaint_id))
    return [EventPublic.of(e) for e in timeline(session, complaint_id)]


@router.get("/{complaint_id}/message", response_model=MessagePublic)
def message(complaint_id: ComplaintId, session: SessionDep, caller: CallerDep, settings: SettingsDep,
            suggester: SuggesterDep, request: Request) -> MessagePublic:
    """What the focal point of the complaint's OPD is told: copyable text and a WhatsApp link."""
    complaint = get_complaint(session, complaint_id)
    check_may(caller, complaint)
    composed = compose(complaint, suggester.taxonomy, settings.public_url, of_session(session).calendar)
    return MessagePublic(**{k: getattr(composed, k) for k in MessagePublic.model_fields})


@reports.get("/outcomes", response_model=OutcomeReport,
             responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}})
def outcome_report(session: SessionDep, caller: CallerDep, suggester: SuggesterDep,
                   date_from: Annotated[date | None, Query(description="Received on or after (UTC day)")] = None,
                   date_to: Annotated[date | None, Query(description="Received on or before (UTC day)")] = None,
                   format: Annotated[Literal["json", "csv"], Query()] = "json"):
    """Per OPD: received, routed, in progress, settled, overdue, forwarded, archived, returned; time to route
    and to settle (median, p90); share settled on time. A focal point gets its OPDs only."""
    as_of = utcnow()
    rows = outcomes(session, date_from, date_to, deadlines=of_session(session), as_of=as_of,
                    opds=caller.opds if caller.role == "focal_point" else None)
    if format == "csv":
        names = row_names(suggester.taxonomy)
        filename = f"laporan-pengaduan-{date_from or 'awal'}-{date_to or 'akhir'}.csv"
        return Response(to_csv(rows, names).encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return OutcomeReport(date_from=date_from, date_to=date_to, as_of=as_of, rows=rows)
