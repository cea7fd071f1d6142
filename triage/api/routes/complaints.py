"""``/v1/complaints``: take complaints in, decide them, read them back."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response, status

from triage.api.deps import CallerDep, SessionDep, SettingsDep, SuggesterDep
from triage.api.schemas import (
    Channel,
    ComplaintCreate,
    ComplaintDetail,
    ComplaintPage,
    ComplaintPublic,
    DecisionCreate,
    DecisionPublic,
    ErrorPublic,
    EventPublic,
    Status,
    Stored,
)
from triage.complaints import MAX_ID, ComplaintFilter, create_complaint, get_complaint, list_complaints
from triage.decisions import Decider, history, record_decision
from triage.idempotency import KEY_MAX, KEY_PATTERN, decide_once, request_sha256
from triage.lifecycle import STAGES, check_may, timeline

ComplaintId = Annotated[int, Path(ge=1, le=MAX_ID, description="The complaint's id.")]

router = APIRouter(prefix="/v1/complaints", tags=["complaints"],
                   responses={401: {"model": ErrorPublic}, 422: {"model": ErrorPublic}})


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ComplaintPublic,
             responses={409: {"model": ErrorPublic}})
def create(body: ComplaintCreate, session: SessionDep, suggester: SuggesterDep, settings: SettingsDep,
           caller: CallerDep) -> ComplaintPublic:
    """Store a complaint and return the routing suggested for it."""
    caller.require("handler")
    complaint = create_complaint(session, suggester, body.text, external_id=body.external_id, channel=body.channel,
                                 received_at=body.received_at, max_chars=settings.max_text_chars)
    return ComplaintPublic.of(complaint)


@router.get("", response_model=ComplaintPage)
def list_(session: SessionDep, caller: CallerDep,
          status: Annotated[Status | None, Query(description="pending or decided")] = None,
          opd: Annotated[Stored | None, Query(description="OPD code of the routing in force")] = None,
          category: Annotated[Stored | None, Query(description="Category code of the routing in force")] = None,
          channel: Annotated[Channel | None, Query()] = None,
          needs_review: Annotated[bool | None, Query()] = None,
          q: Annotated[Stored | None, Query(description="Words the text must hold, each as a word or the start "
                                                     "of one (full-text search)")] = None,
          date_from: Annotated[date | None, Query(description="Received on or after (UTC day)")] = None,
          date_to: Annotated[date | None, Query(description="Received on or before (UTC day)")] = None,
          stage: Annotated[Literal[STAGES] | None, Query(description="Lifecycle stage")] = None,
          overdue: Annotated[bool | None, Query(description="Past due in the current stage")] = None,
          order: Annotated[Literal["newest", "least_certain"], Query()] = "newest",
          limit: Annotated[int, Query(ge=1, le=200)] = 50,
          offset: Annotated[int, Query(ge=0)] = 0) -> ComplaintPage:
    """Complaints matching the filters, a page at a time: newest first, or least certain first."""
    where = ComplaintFilter(status=status, opd=opd, category=category, channel=channel, needs_review=needs_review,
                            date_from=date_from, date_to=date_to, q=q, stage=stage, overdue=overdue,
                            opds=caller.opds if caller.role == "focal_point" else None)
    items, total = list_complaints(session, where, order=order, limit=limit, offset=offset)
    return ComplaintPage(items=[ComplaintPublic.of(c) for c in items], total=total, limit=limit, offset=offset)


@router.get("/{complaint_id}", response_model=ComplaintDetail, responses={404: {"model": ErrorPublic}})
def read(complaint_id: ComplaintId, session: SessionDep, caller: CallerDep) -> ComplaintDetail:
    """A complaint with its suggestion and every decision on it."""
    complaint = get_complaint(session, complaint_id)
    check_may(caller, complaint)  # a focal point reads only complaints routed to its OPDs
    return ComplaintDetail(**ComplaintPublic.of(complaint).model_dump(),
                           decisions=[DecisionPublic.of(d) for d in history(session, complaint_id)],
                           timeline=[EventPublic.of(e) for e in timeline(session, complaint_id)])


@router.post("/{complaint_id}/decisions", status_code=status.HTTP_201_CREATED, response_model=DecisionPublic,
             responses={200: {"model": DecisionPublic, "description": "Replayed: the decision this "
                                                                       "Idempotency-Key made before."},
                        404: {"model": ErrorPublic}, 409: {"model": ErrorPublic}})
def decide(complaint_id: ComplaintId, body: DecisionCreate, session: SessionDep, suggester: SuggesterDep,
           caller: CallerDep, response: Response,
           idempotency_key: Annotated[str | None, Header(
               alias="Idempotency-Key", max_length=KEY_MAX, pattern=KEY_PATTERN,
               description="Any unique string (e.g. a UUID) of printable ASCII: a retry with the same key and "
                           "body returns the first decision (200) instead of adding a revision.")] = None,
           ) -> DecisionPublic:
    """Confirm or correct the routing; each call adds a revision, none is overwritten."""
    caller.require("handler")
    decision_args = dict(category=body.category, opd=body.opd, maladministration=body.maladministration,
                         note=body.note, decider=Decider(name=caller.name, key_id=caller.key_id),
                         expected_revision=body.expected_revision)
    if idempotency_key is None:
        return DecisionPublic.of(record_decision(session, suggester.taxonomy, complaint_id, **decision_args))
    decision, replayed = decide_once(session, suggester.taxonomy, complaint_id, key=idempotency_key,
                                     fingerprint=request_sha256(complaint_id, body.model_dump(mode="json")),
                                     **decision_args)
    if replayed:
        response.status_code = status.HTTP_200_OK
    return DecisionPublic.of(decision)
