"""``/v1/retrain``: start a retraining job in the background and follow it (admin only)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from triage.api.deps import AdminDep, SettingsDep
from triage.api.schemas import ErrorPublic
from triage.errors import ConflictError
from triage.retrain_job import JobStore, start_job

router = APIRouter(prefix="/v1/retrain", tags=["retrain"],
                   responses={401: {"model": ErrorPublic}, 403: {"model": ErrorPublic}})

JobState = Literal["queued", "running", "promoted", "rejected", "dry_run", "failed"]


class RetrainCreate(BaseModel):
    """Options of a retraining job."""

    dry_run: bool = Field(False, description="Train, evaluate and report; save and promote nothing.")


class RetrainJobPublic(BaseModel):
    """A retraining job as the API shows it.

    ``state``: queued, running, then promoted (the new model serves), rejected (the gate kept the serving
    model; ``reasons`` says why), dry_run, or failed (``error``; the serving model is unchanged).
    """

    job: str
    state: JobState
    stage: str | None = Field(None, description="load, prepare, train, evaluate or save")
    percent: int = Field(0, ge=0, le=100)
    message: str | None = None
    dry_run: bool = False
    created: str | None = None
    started: str | None = None
    finished: str | None = None
    heartbeat: str | None = Field(None, description="Last sign of life of the job's process.")
    pid: int | None = Field(None, description="The job's process on the server.")
    version: str | None = Field(None, description="The challenger's model version, once saved.")
    champion: str | None = Field(None, description="The model it was compared with.")
    passed: bool | None = Field(None, description="Whether the gate passed.")
    reasons: list[str] = []
    report: dict[str, str] = Field({}, description="Paths of the report (json, markdown) on the server.")
    error: str | None = None
    status_url: str | None = None

    @classmethod
    def of(cls, data: dict, request: Request) -> RetrainJobPublic:
        fields = {k: v for k, v in data.items() if k in cls.model_fields and v is not None}
        return cls(**fields, status_url=str(request.url_for("retrain_status", job=data["job"])))


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=RetrainJobPublic,
             responses={409: {"model": ErrorPublic}})
def start(request: Request, settings: SettingsDep, caller: AdminDep,
          body: RetrainCreate | None = None) -> RetrainJobPublic:
    """Start retraining in the background (one job at a time: 409 while one runs); poll ``status_url``."""
    try:
        job = start_job(settings, dry_run=body.dry_run if body else False)
    except ConflictError as exc:
        holder = getattr(exc, "holder", {})
        raise ConflictError(f"Pelatihan ulang lain sedang berjalan (pekerjaan {holder.get('job', '?')}, "
                            f"sejak {holder.get('started', '?')}). Tunggu sampai selesai; statusnya ada di "
                            f"GET /v1/retrain/{holder.get('job', '')}.") from None
    return RetrainJobPublic.of(job, request)


@router.get("/{job}", response_model=RetrainJobPublic, name="retrain_status",
            responses={404: {"model": ErrorPublic}})
def read(job: str, request: Request, settings: SettingsDep, caller: AdminDep) -> RetrainJobPublic:
    """The state of a retraining job: stage and percentage while it runs, the verdict when done."""
    return RetrainJobPublic.of(JobStore(settings.models_dir).read(job), request)
