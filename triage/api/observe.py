"""Each request observed once: given an id (the client's ``X-Request-ID`` if it is a sane one, else a new
one, echoed in the response), timed, counted in the metrics by route template and status, and written as
one JSON access line (``triage.access``) with the API key's name and the model version that served it.

An unexpected exception becomes the app's 500 answer here (the handler registered for ``Exception``), so it
too carries its request id, and the exception is logged once, described and scrubbed by
:mod:`triage.logs`, instead of again by uvicorn with its message.
"""

from __future__ import annotations

import inspect
import logging
import re
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.routing import compile_path

from triage.logs import REQUEST_ID
from triage.metrics import LATENCY, REQUESTS

access = logging.getLogger("triage.access")

HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
UNMATCHED = "<unmatched>"


def route_of(scope: dict[str, Any]) -> str:
    """The template of the route that ``scope`` went to (``/v1/complaints/{complaint_id}``); for a request
    refused before routing (by the request limits), the template its path matches; ``<unmatched>`` for none."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return route.path
    path = scope.get("path", "")
    return next((template for pattern, template in _templates(scope.get("app")) if pattern.match(path)),
                UNMATCHED)


def _templates(app: Any) -> list[tuple[re.Pattern[str], str]]:
    """Every route template of ``app`` with its regular expression, worked out once per app."""
    state = getattr(app, "state", None)
    known = getattr(state, "route_templates", None)
    if known is None:
        routes = getattr(app, "routes", [])
        try:  # FastAPI >= 0.16x keeps included routers as such: their routes are listed through contexts
            from fastapi.routing import iter_route_contexts
            paths = [context.path for context in iter_route_contexts(routes)]
        except ImportError:
            paths = [getattr(route, "path", None) for route in routes]
        known = [(compile_path(path)[0], path) for path in paths if path]
        if state is not None:
            state.route_templates = known
    return known


class Observe:
    """ASGI middleware: request id, metrics and the access line for every HTTP request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        given = next((v for k, v in scope["headers"] if k == HEADER), b"")
        request_id = given.decode() if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        REQUEST_ID.set(request_id)  # this request's task only: every line logged while serving it
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status, started = 500, False

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", []), (HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            handler = getattr(scope.get("app"), "exception_handlers", {}).get(Exception)
            if started or handler is None:
                raise
            response = handler(Request(scope), exc)  # the app's own 500 (it logs the exception, scrubbed)
            if inspect.isawaitable(response):
                response = await response
            await response(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - began
            route, method = route_of(scope), scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(seconds)
            access.info("%s %s %d", method, route, status, extra={
                "method": method, "route": route, "status": status, "duration_ms": round(seconds * 1000, 2),
                "key": state.get("key_name"), "model_version": state.get("model_version")})
