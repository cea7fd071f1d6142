"""``triage serve``: the routing API under uvicorn."""

from __future__ import annotations

import errno
import logging.config
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Optional

import typer

from triage.cli import app, fail
from triage.db import upgrade
from triage.logs import log_config
from triage.serving import ModelHolder
from triage.settings import get_settings


@app.command()
def serve(host: Annotated[Optional[str], typer.Option("--host", help="Address to listen on (default: settings.host, "
                                                                     "127.0.0.1).")] = None,
          port: Annotated[Optional[int], typer.Option("--port", help="Port (default: settings.port, 8000).")] = None,
          workers: Annotated[Optional[int], typer.Option("--workers", min=1,
                                                         help="Worker processes (default: settings.workers, 1).")] = None,
          access_log: Annotated[bool, typer.Option("--access-log/--no-access-log",
                                                   help="Log every request (one JSON line each).")] = True) -> None:
    """Serve the routing API (OpenAPI docs at /docs). Migrates the database and checks the model first."""
    import uvicorn

    settings = get_settings()
    upgrade(settings.database_url)
    version = ModelHolder(settings.models_dir, settings.deployment).get().version  # fail here, not in a worker
    host, port, workers = host or settings.host, port or settings.port, workers or settings.workers
    _check_port_free(host, port)
    logging.config.dictConfig(log_config(access_log))  # JSON lines from here on, as the workers write them
    logging.getLogger("triage.serve").info(
        "serving model %s for deployment %s on http://%s:%d (%d worker%s); docs at /docs", version,
        settings.deployment, host, port, workers, "s" if workers > 1 else "")
    with _worker_metrics():  # before the app is imported: prometheus_client reads it on import
        uvicorn.run("triage.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                    access_log=False, log_config=log_config(access_log),
                    http="triage.api.server:TriageHTTPProtocol",
                    h11_max_incomplete_event_size=settings.max_header_bytes)


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _check_port_free(host: str, port: int) -> None:
    """Exit with a one-line error (code 2) when ``host:port`` cannot be listened on, instead of uvicorn's."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is already in use by another program. Stop it, or choose another "
                     f"port: triage serve --port {port + 1} (make serve PORT={port + 1}; or TRIAGE_PORT).")
            fail(f"cannot listen on {host}:{port} ({exc.strerror}). Give an address of this machine with --host "
                 f"and a free port with --port (make serve HOST=... PORT=...).")


@contextmanager
def _worker_metrics() -> Iterator[None]:
    """A fresh directory where every worker keeps its metric counters (prometheus_client's multiprocess
    mode: a scrape of any worker sums them all), named in the environment the workers inherit, and removed
    when the server stops: counters start at zero with each server."""
    folder = tempfile.mkdtemp(prefix="triage-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
