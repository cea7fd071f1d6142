"""The FastAPI application: ``create_app(settings)`` builds one; ``triage serve`` runs it under uvicorn.

At start (the lifespan) the database is migrated to the newest schema and the serving model is loaded,
so a broken configuration stops the service at once instead of failing its first request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from triage import __version__
from triage.api import docs, errors, openapi
from triage.api.caching import NoStore
from triage.api.limits import RequestLimits
from triage.api.observe import Observe
from triage.api.routes import complaints, health, lifecycle, metrics, reference, retrain
from triage.db import make_engine, make_sessions, upgrade
from triage.serving import ModelHolder
from triage.settings import Settings, get_settings
from triage.throttle import FailureLimit, KeyThrottle
from triage.web import install as install_web

DESCRIPTION = """Routing suggestions for citizens' complaints: category, responsible OPD and form of
maladministration. A handler confirms or corrects each suggestion; the decisions are kept as labelled history.

Every endpoint but `/healthz` needs `Authorization: Bearer <key>` (keys: `triage apikey create`).
Error messages are in Bahasa Indonesia, with a machine-readable `error` and `detail`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new application for ``settings`` (default: the process's, from the environment)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(upgrade, settings.database_url)
        engine = make_engine(settings.database_url)
        holder = ModelHolder(settings.models_dir, settings.deployment, settings.model_check_seconds)
        await run_in_threadpool(holder.get)
        app.state.settings, app.state.engine = settings, engine
        app.state.sessions, app.state.models = make_sessions(engine), holder
        notifier = lifecycle.start(app.state.sessions, settings)  # deadlines, and messages to focal points
        try:
            yield
        finally:
            notifier.close()
            engine.dispose()

    # The docs pages are triage's own (api/docs.py): served from the package, behind settings.docs.
    app = FastAPI(title="triage", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    errors.install(app)
    # Outermost: the key (/v1) and the body's size and pace are checked before anything reads the body.
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes,
                       read_timeout_seconds=settings.read_timeout_seconds)
    # Outside the limits: an address that sent too many wrong keys is refused before its key is looked up.
    app.state.key_failures = FailureLimit(settings.key_failure_limit, settings.key_failure_window_seconds)
    app.add_middleware(KeyThrottle)
    app.add_middleware(NoStore)  # complaint texts are personal data: no cache may keep API JSON
    app.include_router(health.router)
    app.include_router(complaints.router)
    app.include_router(lifecycle.router)
    app.include_router(lifecycle.reports)
    app.include_router(reference.router)
    app.include_router(retrain.router)
    install_web(app, settings)  # the handlers' web pages and their static files
    docs.install(app, settings)  # Swagger UI and ReDoc without a CDN
    openapi.install(app, settings)  # every status, limit and code list in /openapi.json
    app.include_router(metrics.router)
    # Added last, so outermost: every request gets an id, a metric and an access line, refused ones too.
    app.add_middleware(Observe)
    return app
