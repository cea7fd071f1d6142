"""``/v1/taxonomy``, ``/v1/model`` and ``/v1/stats``: what the service knows and how it is doing."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from triage.api.deps import AdminDep, CallerDep, HolderDep, SessionDep, SuggesterDep
from triage.api.schemas import ErrorPublic, ModelPublic, StatsPublic, TaxonomyPublic
from triage.decisions import stats as decision_stats
from triage.registry import ModelRegistry

router = APIRouter(prefix="/v1", tags=["reference"], responses={401: {"model": ErrorPublic}})


@router.get("/taxonomy", response_model=TaxonomyPublic)
def taxonomy(suggester: SuggesterDep, caller: CallerDep) -> TaxonomyPublic:
    """The deployment's codes of each head, with names, descriptions and OPD focal points."""
    return TaxonomyPublic.of(suggester.taxonomy)


@router.get("/model", response_model=ModelPublic)
def model(holder: HolderDep, caller: CallerDep) -> ModelPublic:
    """The serving model: version, review thresholds and evaluation."""
    suggester = holder.get()
    meta = ModelRegistry(holder.models_dir).info(suggester.version).metadata
    return ModelPublic(version=suggester.version, deployment=suggester.taxonomy.code, created=meta.get("created", ""),
                       thresholds=meta.get("thresholds", {}), metrics=meta.get("metrics", {}))


@router.get("/stats", response_model=StatsPublic, responses={403: {"model": ErrorPublic}})
def stats(session: SessionDep, caller: AdminDep,
          date_from: Annotated[date | None, Query(description="Received or decided on or after (UTC day)")] = None,
          date_to: Annotated[date | None, Query(description="Received or decided on or before (UTC day)")] = None,
          ) -> StatsPublic:
    """Complaints per status, OPD and category, and how often handlers kept each head's suggestion (admin)."""
    return StatsPublic(**decision_stats(session, date_from, date_to))
