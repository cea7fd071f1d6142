"""Prometheus metrics of the service, correct across uvicorn's worker processes.

Counted as things happen (every worker counts its own; ``triage serve`` gives the workers one
``PROMETHEUS_MULTIPROC_DIR``, so a scrape of any worker sums them all):

    triage_http_requests_total{method, route, status}         requests, by route template (never the raw path)
    triage_http_request_duration_seconds{method, route}       their latency (histogram)
    triage_suggestions_total{head, code, needs_review}        suggestions stored, per head and code
    triage_complaints_suggested_total{needs_review}           complaints stored with a suggestion
    triage_decisions_total{head, kept}                        handlers' decisions: kept the suggested code or not

Computed when scraped, by the worker that answers (one query each; no per-process state to sum):

    triage_model_info{version, deployment}                    1 for the model serving
    triage_queue_pending{needs_review}                        pending complaints (queue depth)
    triage_queue_oldest_pending_age_seconds                   how long the oldest pending complaint waits
    triage_retrain_jobs{state}                                retrain jobs known, by state
    triage_retrain_last_finished_timestamp_seconds            when the last retrain job finished

:func:`exposition` renders a scrape (``triage serve`` makes and removes the workers' directory). The counting functions are called by the library where a suggestion or
decision is committed, so the API and the web page are counted alike.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY

from triage.taxonomy import HEADS

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUESTS = Counter("triage_http_requests", "HTTP requests answered, by route template and status.",
                   ["method", "route", "status"])
LATENCY = Histogram("triage_http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
                    ["method", "route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
SUGGESTIONS = Counter("triage_suggestions", "Suggestions stored with a complaint, per head and suggested code.",
                      ["head", "code", "needs_review"])
COMPLAINTS = Counter("triage_complaints_suggested", "Complaints stored with a suggestion; needs_review when any "
                                                    "head is flagged.", ["needs_review"])
DECISIONS = Counter("triage_decisions", "Handlers' decisions per head: kept the suggested code (true) or "
                                        "corrected it (false).", ["head", "kept"])


def _flag(value: bool) -> str:
    return "true" if value else "false"


def count_suggestion(suggestion: Any) -> None:
    """Count one stored complaint's :class:`~triage.suggest.Suggestion`."""
    for head in HEADS:
        part = suggestion.head(head)
        SUGGESTIONS.labels(head, part.code, _flag(part.needs_review)).inc()
    COMPLAINTS.labels(_flag(suggestion.needs_review)).inc()


def count_decision(kept: dict[str, bool]) -> None:
    """Count one stored decision; ``kept`` maps each head to whether the suggested code was kept."""
    for head, value in kept.items():
        DECISIONS.labels(head, _flag(value)).inc()


# -- a scrape ---------------------------------------------------------------------------------------------------

class _ThisProcess:
    """The counters of this process (when it is the only one)."""

    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


class _ScrapeTime:
    """Gauges computed at the scrape from the database, the model holder and the retrain jobs."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        from sqlalchemy import func, select

        from triage.db import Complaint
        from triage.retrain_job import FINISHED, JobStore

        model = GaugeMetricFamily("triage_model_info", "The model serving (1).", labels=["version", "deployment"])
        suggester = self.state.models.get()
        model.add_metric([suggester.version, suggester.taxonomy.code], 1)
        yield model

        pending = GaugeMetricFamily("triage_queue_pending", "Complaints waiting for a handler's decision.",
                                    labels=["needs_review"])
        with self.state.sessions() as session:
            counts = dict(session.execute(select(Complaint.needs_review, func.count())
                                          .where(Complaint.status == "pending").group_by(Complaint.needs_review)
                                          ).all())
            oldest = session.scalar(select(func.min(Complaint.received_at)).where(Complaint.status == "pending"))
        for flag in (False, True):
            pending.add_metric([_flag(flag)], counts.get(flag, 0))
        yield pending
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=timezone.utc)
        age = (datetime.now(timezone.utc) - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily("triage_queue_oldest_pending_age_seconds",
                                "Seconds the oldest pending complaint has waited since it was received (0: none).",
                                value=max(age, 0.0))

        store = JobStore(self.state.settings.models_dir)
        states: dict[str, int] = {}
        last = 0.0
        for path in sorted(store.folder.glob("*.json")) if store.folder.is_dir() else []:
            try:
                job = store.read(path.stem)
            except Exception:  # a job file being replaced or unreadable: counted at the next scrape
                continue
            states[job.get("state", "unknown")] = states.get(job.get("state", "unknown"), 0) + 1
            if job.get("state") in FINISHED and job.get("finished"):
                last = max(last, datetime.fromisoformat(job["finished"]).timestamp())
        jobs = GaugeMetricFamily("triage_retrain_jobs", "Retrain jobs started over the API, by state.",
                                 labels=["state"])
        for state in ("queued", "running", *sorted(FINISHED)):
            jobs.add_metric([state], states.get(state, 0))
        yield jobs
        yield GaugeMetricFamily("triage_retrain_last_finished_timestamp_seconds",
                                "Unix time the last retrain job finished (0: none yet).", value=last)


def exposition(state: Any) -> bytes:
    """The text a scrape returns: every worker's counters (or this process's) plus the scrape-time gauges
    computed from ``state`` (the app's ``state``: models, sessions, settings)."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_ScrapeTime(state))
    return generate_latest(registry)
