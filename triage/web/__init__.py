"""The handlers' web pages, served by the API's own application: sign-in with an API key, the triage queue,
a complaint to confirm or correct, intake at the desk, statistics.

Server-rendered Jinja2 templates (``templates/``), one stylesheet and one small script (``static/``), no
build step and nothing fetched from the network. :func:`install` adds them to an app made by
:func:`triage.api.create_app`.

Modules: :mod:`~triage.web.session` (signed session cookie, CSRF), :mod:`~triage.web.render` (templates,
error pages, security headers), :mod:`~triage.web.pages` (sign-in, queue, complaint, intake),
:mod:`~triage.web.statistics` (charts and CSV), :mod:`~triage.web.queue`, :mod:`~triage.web.highlight`
and :mod:`~triage.web.charts` (what those pages compute).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from triage.settings import Settings

__all__ = ["install"]

log = logging.getLogger(__name__)


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the web pages and their static files from ``app``; sessions are signed with
    ``settings.secret_key``, else a secret made once and kept in ``settings.state_dir`` (shared by every
    worker and kept across restarts)."""
    # Imported here, not at the top: the pages use triage.api's dependencies, and triage.api's create_app
    # calls this function, so a top-level import would be circular.
    from triage.web import followup, pages, statistics, worklist
    from triage.web.render import STATIC_DIR, install_error_pages
    from triage.web.session import new_secret

    app.state.web_secret = new_secret(settings.secret_key, settings.state_dir / "web-secret")
    app.include_router(pages.router)
    app.include_router(statistics.router)
    app.include_router(worklist.router)
    app.include_router(followup.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_pages(app)  # an unknown address outside the API is an Indonesian page, not JSON
