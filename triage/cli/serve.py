"""``triage serve``: the routing API under uvicorn."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from triage.cli import app
from triage.db import upgrade
from triage.serving import ModelHolder
from triage.settings import get_settings


@app.command()
def serve(host: Annotated[Optional[str], typer.Option("--host", help="Address to listen on (default: settings.host, "
                                                                     "127.0.0.1).")] = None,
          port: Annotated[Optional[int], typer.Option("--port", help="Port (default: settings.port, 8000).")] = None,
          workers: Annotated[Optional[int], typer.Option("--workers", min=1,
                                                         help="Worker processes (default: settings.workers, 1).")] = None,
          access_log: Annotated[bool, typer.Option("--access-log/--no-access-log",
                                                   help="Log every request.")] = True) -> None:
    """Serve the routing API (OpenAPI docs at /docs). Migrates the database and checks the model first."""
    import uvicorn

    settings = get_settings()
    upgrade(settings.database_url)
    version = ModelHolder(settings.models_dir, settings.deployment).get().version  # fail here, not in a worker
    host, port, workers = host or settings.host, port or settings.port, workers or settings.workers
    typer.echo(f"triage: serving model {version} for deployment {settings.deployment} on http://{host}:{port} "
               f"({workers} worker{'s' if workers > 1 else ''}); docs at /docs", err=True)
    uvicorn.run("triage.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=access_log, http="triage.api.server:TriageHTTPProtocol",
                h11_max_incomplete_event_size=settings.max_header_bytes)
