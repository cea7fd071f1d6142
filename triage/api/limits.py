"""Request limits, enforced before anything else reads a request: the outermost ASGI middleware.

* ``/v1`` routes: the bearer key is checked from the headers first; without a valid key the answer is 401
  and the body is never read. The caller found is kept in the request's state, so the routes' ``CallerDep``
  does not look the key up a second time.
* Bodies, however they arrive (``Content-Length`` or chunked): read here, at most ``max_body_bytes`` of
  them; one that is declared or turns out larger is answered 413 as soon as it passes the limit.
* A body that trickles in is answered 408 once ``read_timeout_seconds`` have passed.

An answer given before the body was read in full says ``Connection: close``: the server
(:mod:`triage.api.server`) then lets the client read it before closing, and never reads the rest.
The body read here is handed on to the application in one piece.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triage.api.errors import error_body, triage_error_response
from triage.apikeys import Caller, authenticate
from triage.errors import AuthError

KEY_PREFIX = "/v1"
"""Paths under it need a key before their body is read."""

CALLER = "caller"
"""Name, in ``request.state``, of the :class:`~triage.apikeys.Caller` found from the request's key."""


class RequestLimits:
    """ASGI middleware: key first (``/v1``), then a body of at most ``max_body_bytes`` read within
    ``read_timeout_seconds``; 401, 413 or 408 otherwise, with the rest of the body left unread."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, read_timeout_seconds: float) -> None:
        self.app, self.max_body_bytes, self.read_timeout_seconds = app, max_body_bytes, read_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = _body_framing(scope["headers"])
        has_body = chunked or bool(declared)
        path = scope["path"]
        if path == KEY_PREFIX or path.startswith(KEY_PREFIX + "/"):
            refusal = await _check_key(scope)
            if refusal is not None:
                await _answer(refusal, has_body, scope, receive, send)
                return
        if not has_body:
            await self.app(scope, receive, send)
            return
        if declared is not None and declared > self.max_body_bytes:
            await _answer(self._too_large(f"{declared} byte"), True, scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.read_timeout_seconds):
                body = await self._read(receive)
        except TimeoutError:
            message = (f"Isi permintaan tidak selesai terkirim dalam {self.read_timeout_seconds:g} detik; "
                       "koneksi ditutup. Kirim ulang permintaannya sekaligus.")
            await _answer(JSONResponse(error_body(message, "timeout"), status_code=408), True, scope, receive, send)
            return
        if body is None:
            await _answer(self._too_large(f"lebih dari {self.max_body_bytes} byte"), True, scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes ``max_body_bytes`` (the rest stays unread)."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: hand on an empty body
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)

    def _too_large(self, size: str) -> JSONResponse:
        message = (f"Permintaan terlalu besar: {size}, batasnya {self.max_body_bytes} byte. "
                   "Ringkas teks pengaduannya.")
        return JSONResponse(error_body(message, "too_large"), status_code=413)


def _body_framing(headers: list[tuple[bytes, bytes]]) -> tuple[int | None, bool]:
    """The declared Content-Length (None if absent) and whether the body is chunked."""
    declared, chunked = None, False
    for name, value in headers:
        if name == b"content-length" and value.strip().isdigit():
            declared = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return declared, chunked


async def _check_key(scope: Scope) -> JSONResponse | None:
    """None if the request carries a valid key (its caller is kept in the request's state), else the 401."""
    token = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                token = credentials.strip()
    sessions = scope["app"].state.sessions

    def lookup() -> Caller:
        with sessions() as session:
            session.connection(execution_options={"read_only": True})  # no write lock for a look-up
            return authenticate(session, token)

    try:
        caller = await run_in_threadpool(lookup)
    except AuthError as exc:
        return triage_error_response(exc)
    scope.setdefault("state", {})[CALLER] = caller
    return None


async def _answer(response: JSONResponse, body_pending: bool, scope: Scope, receive: Receive, send: Send) -> None:
    """Send ``response``; with ``Connection: close`` if the client may still be sending a body."""
    if body_pending:
        response.headers["Connection"] = "close"
    await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` in one message, then whatever ``receive`` gives (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def request_caller(state: Any) -> Caller | None:
    """The caller :class:`RequestLimits` found for a request (``request.state``), if it checked one."""
    return getattr(state, CALLER, None)
