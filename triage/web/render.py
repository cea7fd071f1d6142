"""Rendering of the pages: the Jinja2 environment (autoescaping on, always), names for codes, and the route
class that turns errors into pages.

:class:`PageRoute` is the web's one place where errors become responses: a missing or expired session
redirects to the sign-in form, triage's own errors and invalid input render the error page with the API's
status codes, in Bahasa Indonesia. Every page carries a strict Content-Security-Policy: scripts and styles
come only from ``/static``, so even a complaint smuggling markup past the escaping could not run code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from triage.api.errors import triage_error_response, validation_response
from triage.errors import TriageError
from triage.taxonomy import HEAD_NAMES as HEAD_NAMES_INLINE
from triage.web.session import SignInRequired, clear_cookie

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

HEAD_NAMES = {head: name[0].upper() + name[1:] for head, name in HEAD_NAMES_INLINE.items()}  # as a heading
CHANNEL_NAMES = {"desk": "Loket / telepon", "sms": "SMS", "wa": "WhatsApp", "web": "Situs web",
                 "lapor": "SP4N-LAPOR!"}
STATUS_NAMES = {"pending": "Menunggu", "decided": "Sudah diputuskan"}
ORDER_NAMES = {"newest": "Terbaru dulu", "least_certain": "Paling tidak yakin dulu"}

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def percent(value: float | None, digits: int = 0) -> str:
    """``0.8731`` -> ``"87%"`` (Indonesian decimal comma when ``digits``)."""
    if value is None:
        return "–"
    return f"{value * 100:.{digits}f}%".replace(".", ",")


def moment(value: datetime | None) -> str:
    """A timestamp as UTC text; the page's script shows it in the reader's local time."""
    if value is None:
        return ""
    return value.astimezone(timezone.utc).strftime("%d-%m-%Y %H:%M UTC")


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(percent=percent, moment=moment, iso=iso)
    env.globals.update(HEAD_NAMES=HEAD_NAMES, HEAD_NAMES_INLINE=HEAD_NAMES_INLINE,
                       CHANNEL_NAMES=CHANNEL_NAMES, STATUS_NAMES=STATUS_NAMES,
                       ORDER_NAMES=ORDER_NAMES)
    return env


templates = Jinja2Templates(env=_environment())


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """Render template ``name`` with ``context`` (plus the request and the signed-in user, if any)."""
    context.setdefault("user", None)
    context.setdefault("message", None)
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status_code: int, message: str, user: Any = None) -> Response:
    return page(request, "error.html", {"status_code": status_code, "error_message": message, "user": user},
                status_code=status_code)


def sign_in_url(request: Request, resume_at: str | None = None) -> str:
    """The sign-in form, coming back to the page asked for (a GET) or to ``resume_at`` (where a form sent
    after the session ended can be checked and sent again)."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    back = here if request.method == "GET" else resume_at
    return f"/masuk?next={quote(back, safe='')}" if back else "/masuk"


def resumes_at(draft: Callable[[Request, Any], str]) -> Callable[[Callable], Callable]:
    """Mark a form route: when its post arrives after the session ended, ``draft(request, form)`` is the page
    (a URL on this site) that shows what was sent, ready to be checked and sent again after signing in."""
    def mark(endpoint: Callable) -> Callable:
        endpoint.resume_draft = draft  # type: ignore[attr-defined]
        return endpoint
    return mark


def _as_page(request: Request, api_response: Response) -> Response:
    """The error page saying what the API would say (same status, same message).

    It does not look the visitor up: the failed route's database session may still hold SQLite's write lock.
    """
    return error_page(request, api_response.status_code, json.loads(bytes(api_response.body))["message"])


class PageRoute(APIRoute):
    """A route of the web pages: errors become pages, every response gets the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired as exc:
                draft = getattr(self.endpoint, "resume_draft", None)
                posted = request.method == "POST"
                resume_at = draft(request, await request.form()) if draft and posted else None
                target = sign_in_url(request, resume_at)
                if exc.reason or posted:  # a form sent without a session: the session ended
                    reason = "dicabut" if exc.reason else "habis"
                    target += ("&" if "?" in target else "?") + f"alasan={reason}"
                response = RedirectResponse(target, status_code=303)
                clear_cookie(request, response)
            except TriageError as exc:
                response = _as_page(request, triage_error_response(exc))
            except RequestValidationError as exc:
                response = _as_page(request, validation_response(exc))
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return route
