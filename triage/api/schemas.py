"""Request and response bodies of the API, named by role (``...Create`` comes in, ``...Public`` goes out)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from triage.complaints import EXTERNAL_ID_MAX, MAX_ID, check_storable, to_utc
from triage.db import Complaint, ComplaintEvent, Decision
from triage.errors import InvalidInputError
from triage.lifecycle import is_overdue
from triage.taxonomy import HEADS, Taxonomy

Channel = Literal["sms", "web", "wa", "desk", "lapor"]
Status = Literal["pending", "decided"]
NOTE_MAX = 2000
"""Longest decision note, in characters."""


def _checked_by(check: Callable[..., Any]) -> AfterValidator:
    """A pydantic validator that runs one of the store's own checks (:mod:`triage.complaints`), so that the
    API refuses exactly what the store would, as a 422 naming the field."""
    def validate(value: Any, info: ValidationInfo) -> Any:
        try:
            return check(value, f"'{info.field_name}'" if info.field_name else "Nilai")
        except InvalidInputError as exc:
            raise PydanticCustomError("invalid_input", "{reason}", {"reason": str(exc)}) from None
    return AfterValidator(validate)


Stored = Annotated[str, _checked_by(check_storable)]
"""Text both stores keep: no NUL character, no lone UTF-16 surrogate (every text field and text filter)."""
Moment = Annotated[datetime, _checked_by(to_utc)]
"""A timestamp whose UTC day lies in the years served (2000 to 2099, as the date filters)."""


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComplaintCreate(_In):
    """A complaint to route."""

    text: Stored = Field(description="The complaint as the citizen wrote it (at most settings.max_text_chars).")
    external_id: Stored | None = Field(None, max_length=EXTERNAL_ID_MAX,
                                    description="The complaint's id in the channel it came from; unique.")
    channel: Channel | None = Field(None, description="Where it came from.")
    received_at: Moment | None = Field(None, description="When it was received (ISO 8601; without an "
                                                           "offset it is taken as UTC). Default: now.")


class DecisionCreate(_In):
    """A handler's routing of a complaint: the suggestion confirmed, or corrected."""

    category: Stored = Field(description="Category code.")
    opd: Stored = Field(description="OPD code.")
    maladministration: Stored = Field(description="Maladministration code.")
    note: Stored | None = Field(None, max_length=NOTE_MAX, description="Why, for the next handler.")
    expected_revision: int | None = Field(None, ge=0, le=MAX_ID, description=(
        "The revision count the handler saw (`revisions` of the complaint). If someone decided the complaint "
        "since, nothing is stored and the answer is 409 saying who decided what; omit it to always add a "
        "revision."))


class FocalPointPublic(BaseModel):
    name: str
    phone: str | None = None
    email: str | None = None


class AlternativePublic(BaseModel):
    code: str
    name: str
    confidence: float


class HeadSuggestionPublic(BaseModel):
    code: str
    name: str
    confidence: float
    needs_review: bool
    alternatives: list[AlternativePublic] = Field(description="The top 3 codes, best first.")


class OpdSuggestionPublic(HeadSuggestionPublic):
    focal_point: FocalPointPublic | None = Field(None, description="The OPD's narahubung, if configured.")
    outside: bool = Field(False, description="The body is outside the pemda (*bukan wewenang*): forward it.")
    forward_text: str | None = Field(None, description="Where to forward and how, for a body outside the pemda.")
    review_reason: str | None = Field(None, description="Why the body needs a handler's look although the "
                                                        "model may be sure (Bahasa Indonesia).")


class PlacePublic(BaseModel):
    code: str = Field(description="The office's OPD code (kec_..., kel_..., desa_...).")
    name: str
    kind: str
    matched: str = Field(description="The words of the text that named it.")


class WherePublic(BaseModel):
    kecamatan: PlacePublic | None = None
    village: PlacePublic | None = Field(None, description="The kelurahan or desa.")


class TermPublic(BaseModel):
    term: str
    weight: float


class SuggestionPublic(BaseModel):
    model_version: str
    needs_review: bool
    category: HeadSuggestionPublic
    opd: OpdSuggestionPublic
    maladministration: HeadSuggestionPublic
    explanation: dict[str, list[TermPublic]] = Field(description="Per head, the stems that weighed most.")
    where: WherePublic | None = Field(None, description="The kecamatan and kelurahan/desa the text names, "
                                                        "from the deployment's gazetteer.")
    routing: str = Field("learned", description="How the OPD was chosen: 'learned' (an OPD head trained on this "
                                                "pemda's decisions) or 'national' (from the national code "
                                                "through the pemda's SOTK).")


class RoutingPublic(BaseModel):
    """Codes of the three heads."""

    category: str
    opd: str
    maladministration: str


class DecisionPublic(BaseModel):
    revision: int
    category: str
    opd: str
    maladministration: str
    kept: dict[str, bool] = Field(description="Per head, whether the suggested code was kept.")
    note: str | None
    decided_by: str
    decided_at: datetime

    @classmethod
    def of(cls, decision: Decision) -> DecisionPublic:
        return cls(revision=decision.revision, category=decision.category, opd=decision.opd,
                   maladministration=decision.maladministration,
                   kept={h: getattr(decision, f"{h}_kept") for h in HEADS}, note=decision.note,
                   decided_by=decision.decided_by, decided_at=decision.decided_at)


class ComplaintPublic(BaseModel):
    id: int
    external_id: str | None
    channel: str | None
    text: str
    received_at: datetime
    created_at: datetime
    status: Status
    revisions: int = Field(description="How many decisions were made on it.")
    routing: RoutingPublic = Field(description="The routing in force: the latest decision, else the suggestion.")
    suggestion: SuggestionPublic
    stage: str = Field("received", description="Lifecycle stage (docs/lifecycle.md): received, routed, acknowledged, "
                                               "in_progress, settled, forwarded, archived, returned, reopened.")
    due_at: datetime | None = Field(None, description="When the current stage is due (UTC); null once closed.")
    overdue: bool = Field(False, description="Past due in the current stage.")

    @classmethod
    def of(cls, complaint: Complaint) -> ComplaintPublic:
        return cls(id=complaint.id, external_id=complaint.external_id, channel=complaint.channel,
                   text=complaint.text, received_at=complaint.received_at, created_at=complaint.created_at,
                   status=complaint.status, revisions=complaint.revisions,
                   routing=RoutingPublic(category=complaint.category, opd=complaint.opd,
                                         maladministration=complaint.maladministration),
                   suggestion=SuggestionPublic.model_validate(complaint.suggestion),
                   stage=complaint.stage, due_at=complaint.due_at, overdue=is_overdue(complaint))


class EventPublic(BaseModel):
    """One step of a complaint's lifecycle."""

    id: int
    action: str = Field(description="route, acknowledge, progress, settle, return, forward, archive, reopen; "
                                    "notify for a message to the focal point.")
    stage: str = Field(description="The stage the complaint was in after it.")
    at: datetime
    actor: str = Field(description="Name of the key (or service) that took it.")
    opd: str | None = Field(description="The OPD the complaint was routed to at the time.")
    note: str | None
    data: dict[str, Any] = Field(description="reply (settle), destination (forward), reason and duplicate_of "
                                             "(archive), revision (route), channel and ok (notify) ...")

    @classmethod
    def of(cls, event: ComplaintEvent) -> EventPublic:
        return cls(id=event.id, action=event.action, stage=event.stage, at=event.at, actor=event.actor,
                   opd=event.opd, note=event.note, data=event.data or {})


class ComplaintDetail(ComplaintPublic):
    decisions: list[DecisionPublic] = Field(description="Every decision, oldest first.")
    timeline: list[EventPublic] = Field(default_factory=list, description="Every lifecycle event, oldest first "
                                                                           "(received is received_at).")


class ComplaintPage(BaseModel):
    items: list[ComplaintPublic]
    total: int = Field(description="How many complaints match the filters in all.")
    limit: int
    offset: int


class LabelPublic(BaseModel):
    code: str
    name: str
    description: str = ""
    focal_point: FocalPointPublic | None = None
    outside: bool = Field(False, description="True for a destination outside the pemda (LAPOR! *Bukan "
                                              "Wewenang*): the complaint is forwarded there, not dispositioned.")
    kind: str = Field("", description="category: function, outside or outcome; opd: perangkat_daerah, unit, "
                                      "kecamatan, kelurahan, desa, pemda or outside (deployments built from a "
                                      "SOTK file).")
    functions: list[str] = Field(default_factory=list, description="National function codes (Permendagri "
                                                                   "90/2019) of the code or that the body carries.")
    forward_text: str | None = Field(None, description="For an outside destination: where to forward and how.")


class TaxonomyPublic(BaseModel):
    deployment: str
    name: str
    category: list[LabelPublic]
    opd: list[LabelPublic]
    maladministration: list[LabelPublic]

    @classmethod
    def of(cls, taxonomy: Taxonomy) -> TaxonomyPublic:
        def labels(head: str) -> list[LabelPublic]:
            return [LabelPublic(code=label.code, name=label.name, description=label.description,
                                focal_point=FocalPointPublic(**vars(label.focal_point)) if label.focal_point else None,
                                outside=label.outside, kind=label.kind, functions=list(label.functions),
                                forward_text=label.forward_text)
                    for label in taxonomy.labels[head].values()]
        return cls(deployment=taxonomy.code, name=taxonomy.name, **{h: labels(h) for h in HEADS})


class ModelPublic(BaseModel):
    version: str
    deployment: str
    created: str
    thresholds: dict[str, float] = Field(description="Per head, the confidence below which review is asked.")
    metrics: dict = Field(description="The model's evaluation, as saved with it.")


class AcceptancePublic(BaseModel):
    kept: int
    decisions: int
    rate: float | None = Field(description="kept / decisions; null without decisions.")


class StatsPublic(BaseModel):
    date_from: date | None
    date_to: date | None
    complaints: int
    by_status: dict[str, int]
    by_opd: dict[str, int]
    by_category: dict[str, int]
    needs_review: int
    decisions: int
    acceptance: dict[str, AcceptancePublic]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    model_version: str | None
    model_error: str | None = None


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(default_factory=list)
    type: str
    msg: str


class ErrorPublic(BaseModel):
    """Every error response: a message for people (Bahasa Indonesia) and details for programs."""

    message: str
    error: str = Field(description="Stable machine-readable kind: validation, not_found, unauthorized, ...")
    detail: list[ErrorItem] = Field(default_factory=list)
