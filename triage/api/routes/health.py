"""``/healthz`` (open: the process answers) and ``/readyz`` (with a key: database and model usable)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from triage.api.deps import CallerDep, HolderDep, SessionDep
from triage.api.schemas import Health, Readiness
from triage.errors import ModelError

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """Liveness: the process answers. Needs no key."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(session: SessionDep, holder: HolderDep, caller: CallerDep):
    """Readiness: the database answers and a model serves; 503 otherwise."""
    ready = Readiness(status="ok", database="ok", model_version=None)
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means not ready; report it, do not crash
        ready.status, ready.database = "unavailable", f"{type(exc).__name__}"
    try:
        ready.model_version = holder.get().version
        ready.model_error = holder.last_error
    except ModelError as exc:
        ready.status, ready.model_error = "unavailable", str(exc)
    if ready.status != "ok":
        return JSONResponse(ready.model_dump(), status_code=503)
    return ready
