"""Rendering of the pages: the Jinja2 environment (autoescaping on, always), names for codes, and the route
class that turns errors into pages.

:class:`PageRoute` is the web's one place where errors become responses: a missing or expired session
redirects to the sign-in form, triage's own errors and invalid input render the error page with the API's
status codes, in Bahasa Indonesia. Every page carries a strict Content-Security-Policy: scripts and styles
come only from ``/static``, so even a complaint smuggling markup past the escaping could not run code.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Coroutine
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import markupsafe
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
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


BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
"""Embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI): invisible characters that turn
text around. A complaint carrying one unterminated (an RLO with no PDF) would reverse the rest of its line."""


def shown(value: Any) -> Any:
    """Every value a template prints, as it is printed: text without bidi controls (the page's own markup,
    already safe, is left as it is). Right-to-left script still shows right to left."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return BIDI_CONTROLS.sub("", value)
    return value


def snippet(text: str, length: int = 160) -> str:
    """A complaint's text on one line, cut to ``length`` characters with an ellipsis (lists of complaints)."""
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 3].rstrip() + "…"


def local_path(target: str, default: str = "/antrean") -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects after a sign-in or a
    step)."""
    if not target.startswith("/") or target.startswith("//") or any(c in target for c in "\\\r\n"):
        return default
    return target


def percent(value: float | None, digits: int = 0) -> str:
    """``0.8731`` -> ``"87%"`` (Indonesian decimal comma when ``digits``). A share that rounds to 100% or 0%
    without being it reads ``">99%"`` or ``"<1%"``: a model 99.93% sure is not certain."""
    if value is None:
        return "–"
    text = f"{value * 100:.{digits}f}"
    step = 10.0 ** -digits
    if value < 1 and float(text) >= 100:
        text = ">" + f"{100 - step:.{digits}f}"
    elif value > 0 and float(text) <= 0:
        text = "<" + f"{step:.{digits}f}"
    return f"{text}%".replace(".", ",")


def confidence(value: float | None) -> str:
    """A model's confidence as a percentage: like :func:`percent`, but never ``"100%"``: a stored 1.0 is a
    probability rounded to four places, not certainty."""
    return ">99%" if value is not None and value >= 0.995 else percent(value)


def moment(value: datetime | None) -> str:
    """A timestamp as UTC text; the page's script shows it in the reader's local time."""
    if value is None:
        return ""
    return value.astimezone(timezone.utc).strftime("%d-%m-%Y %H:%M UTC")


def decimal(value: float | None, places: int = 1) -> str:
    """``2.25`` -> ``"2,2"`` (decimal comma); ``"–"`` without a value."""
    return "–" if value is None else f"{value:.{places}f}".replace(".", ",")


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, finalize=shown,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(percent=percent, confidence=confidence, moment=moment, iso=iso, decimal=decimal)
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


API_PATHS = ("/v1/", "/healthz", "/metrics", "/openapi.json", "/docs/static/")
"""Addresses of the API and of programs: their errors stay JSON. Every other address is the web page's."""
PAGE_HTTP_MESSAGES = {
    404: "Halaman tidak ditemukan. Periksa alamatnya, atau buka antrean dari menu.",
    405: "Alamat ini tidak bisa dibuka dengan cara itu. Buka antrean dari menu, lalu lanjutkan dari sana.",
}
FIELD_LABELS = {"complaint_id": "nomor pengaduan", "chart_id": "nama grafik"}
"""What the pages call the parameters of their addresses, in error messages."""


def install_error_pages(app: FastAPI) -> None:
    """Answer HTTP errors (an unknown address, a wrong method) outside the API with an Indonesian page; the
    API's own answer (JSON) stays for :data:`API_PATHS`."""
    api_handler = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(API_PATHS) or exc.status_code not in PAGE_HTTP_MESSAGES:
            return await run_handler(api_handler, request, exc)
        response = error_page(request, exc.status_code, PAGE_HTTP_MESSAGES[exc.status_code])
        response.headers.update(SECURITY_HEADERS)
        return response

    app.add_exception_handler(StarletteHTTPException, http_error)


async def run_handler(handler: Callable, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    return await result if inspect.isawaitable(result) else result


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
                try:
                    resume_at = draft(request, await request.form()) if draft and posted else None
                except TriageError:  # what was sent cannot be shown again (not valid); sign in, then start over
                    resume_at = None
                target = sign_in_url(request, resume_at)
                if exc.reason or posted:  # a form sent without a session: the session ended
                    reason = "dicabut" if exc.reason else "habis"
                    target += ("&" if "?" in target else "?") + f"alasan={reason}"
                response = RedirectResponse(target, status_code=303)
                clear_cookie(request, response)
            except TriageError as exc:
                response = _as_page(request, triage_error_response(exc))
            except RequestValidationError as exc:  # the message names the pages' fields, not the code's
                labelled = [{**e, "loc": tuple(FIELD_LABELS.get(str(p), p) for p in e.get("loc", ()))}
                            for e in exc.errors()]
                response = _as_page(request, validation_response(RequestValidationError(labelled)))
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return route
