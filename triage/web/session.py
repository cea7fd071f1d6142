"""Web sessions: an HMAC-signed, expiring cookie that holds the API key's id, and CSRF tokens tied to it.

The cookie is ``<payload>.<signature>``: the payload is base64url JSON ``{"k": key id or null, "n": nonce,
"e": expiry (unix seconds)}``, the signature HMAC-SHA256 of it under the app's secret
(``settings.secret_key``, or a random one per start). A signed-in session is also a row of ``web_sessions``
(the sha256 of its nonce, the key, the expiry): every request looks the key and that row up again, so a
revoked key is refused at once, and signing out deletes the row, so the cookie (or a copy of it) stops
working on the server, not only in the browser. A visitor who has not signed in gets a session without a
key (and without a row), so that the sign-in form has a CSRF token too; signing in starts a new session
(new nonce).

A form's CSRF token is HMAC(secret, nonce): a page from another site can neither read it nor make it.
The cookie is HttpOnly, SameSite=Lax, Secure over HTTPS, and expires with the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request
from sqlalchemy import delete
from sqlalchemy.orm import Session as DbSession
from starlette.responses import Response

from triage.apikeys import Caller
from triage.db import ApiKey, WebSignIn, utcnow
from triage.errors import ForbiddenError

COOKIE = "triage_session"
ANONYMOUS_SECONDS = 2 * 3600


class SignInRequired(Exception):
    """The request needs a signed-in handler; the web pages answer with a redirect to the sign-in form."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WebSession:
    """What the cookie says: the signed-in key's id (``None`` before sign-in), a nonce and the expiry."""

    key_id: int | None
    nonce: str
    expires: int

    @classmethod
    def new(cls, key_id: int | None, seconds: int) -> WebSession:
        return cls(key_id=key_id, nonce=secrets.token_urlsafe(16), expires=int(time.time()) + seconds)


@dataclass(frozen=True)
class WebUser:
    """A signed-in handler: the caller their key stands for and the CSRF token of their forms."""

    caller: Caller
    csrf: str


def secret_of(request: Request) -> bytes:
    return request.app.state.web_secret


def sign(secret: bytes, session: WebSession) -> str:
    """The cookie value of ``session``."""
    payload = json.dumps({"k": session.key_id, "n": session.nonce, "e": session.expires},
                         separators=(",", ":"))
    body = _b64(payload.encode())
    return f"{body}.{_b64(_mac(secret, 'session', body))}"


def unsign(secret: bytes, value: str | None, now: float | None = None) -> WebSession | None:
    """The session in cookie ``value``, or ``None`` if it is missing, tampered with, malformed or expired."""
    if not value or value.count(".") != 1:
        return None
    body, signature = value.split(".")
    if not _same(signature, _b64(_mac(secret, "session", body))):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        session = WebSession(key_id=data["k"], nonce=str(data["n"]), expires=int(data["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    if session.key_id is not None and not isinstance(session.key_id, int):
        return None
    if session.expires <= (time.time() if now is None else now):
        return None
    return session


def csrf_token(secret: bytes, session: WebSession) -> str:
    """The CSRF token that forms of ``session`` carry."""
    return _b64(_mac(secret, "csrf", session.nonce))


def current_session(request: Request) -> WebSession | None:
    return unsign(secret_of(request), request.cookies.get(COOKIE))


def set_cookie(request: Request, response: Response, session: WebSession) -> None:
    response.set_cookie(COOKIE, sign(secret_of(request), session),
                        max_age=max(0, session.expires - int(time.time())), path="/", httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")


def clear_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")


def start_session(db: DbSession, key_id: int, seconds: int) -> WebSession:
    """A new signed-in session of key ``key_id``, recorded on the server in ``db`` (the route's database
    session; expired sessions are cleared away)."""
    session = WebSession.new(key_id, seconds)
    db.execute(delete(WebSignIn).where(WebSignIn.expires_at <= utcnow()))
    db.add(WebSignIn(nonce_sha256=_nonce_hash(session), api_key_id=key_id,
                     expires_at=datetime.fromtimestamp(session.expires, timezone.utc)))
    db.commit()
    return session


def end_session(db: DbSession, request: Request) -> None:
    """End the request's session on the server: its cookie, wherever it was copied, signs nobody in again."""
    session = current_session(request)
    if session is not None and session.key_id is not None:
        db.execute(delete(WebSignIn).where(WebSignIn.nonce_sha256 == _nonce_hash(session)))
        db.commit()


def caller_of(request: Request, key_id: int) -> Caller | None:
    """The caller of key ``key_id`` if it exists, is not revoked and the request's session with it has not
    ended (looked up on every request)."""
    session = current_session(request)
    if session is None or session.key_id != key_id:
        return None
    with request.app.state.sessions() as db:
        key = db.get(ApiKey, key_id)
        if key is None or key.revoked_at is not None:
            return None
        live = db.get(WebSignIn, _nonce_hash(session))
        if live is None or live.api_key_id != key_id:
            return None
        return Caller(key_id=key.id, name=key.name, role=key.role, opds=tuple(key.opds or ()))


def get_user(request: Request) -> WebUser:
    """The signed-in handler (or admin); :class:`SignInRequired` without a valid session or with a revoked
    key, :class:`ForbiddenError` for a focal point (its pages are :mod:`triage.web.followup`'s)."""
    user = get_member(request)
    if user.caller.role == "focal_point":
        raise ForbiddenError("Halaman ini untuk pengelola pengaduan. Sebagai focal point (narahubung OPD), buka "
                             "halaman Pengaduan OPD di /narahubung.")
    return user


def get_member(request: Request) -> WebUser:
    """Whoever is signed in, focal points included; :class:`SignInRequired` as :func:`get_user`."""
    session = current_session(request)
    if session is None or session.key_id is None:
        raise SignInRequired("")
    caller = caller_of(request, session.key_id)
    if caller is None:
        raise SignInRequired("Kunci API Anda sudah dicabut atau dihapus. Masuk lagi dengan kunci yang "
                             "berlaku.")
    request.state.key_name = caller.name  # for the access log
    return WebUser(caller=caller, csrf=csrf_token(secret_of(request), session))


def check_csrf(request: Request, token: str) -> None:
    """:class:`ForbiddenError` unless ``token`` is the CSRF token of the request's session and the request
    does not come from another origin."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise ForbiddenError("Formulir dikirim dari situs lain dan ditolak. Buka halaman ini langsung, lalu "
                             "kirim lagi.")
    session = current_session(request)
    expected = csrf_token(secret_of(request), session) if session is not None else ""
    if not expected or not token or not _same(token, expected):
        raise ForbiddenError("Formulir kedaluwarsa atau tidak sah (token CSRF tidak cocok). Muat ulang "
                             "halaman, lalu kirim lagi.")


def post_user(request: Request, user: Annotated[WebUser, Depends(get_user)],
              csrf: Annotated[str, Form()] = "") -> WebUser:
    """The signed-in handler of a form post whose CSRF token checks out."""
    check_csrf(request, csrf)
    return user


def post_member(request: Request, user: Annotated[WebUser, Depends(get_member)],
                csrf: Annotated[str, Form()] = "") -> WebUser:
    """Whoever is signed in, of a form post whose CSRF token checks out."""
    check_csrf(request, csrf)
    return user


def home_of(caller: Caller) -> str:
    """Where ``caller`` starts: the focal points' page, or the handlers' queue."""
    return "/narahubung" if caller.role == "focal_point" else "/antrean"


def require_admin(user: Annotated[WebUser, Depends(get_user)]) -> WebUser:
    user.caller.require("admin")
    return user


def new_secret(configured: str, keep_in: Path | None = None) -> bytes:
    """The signing secret: the configured one; else one kept in the file ``keep_in`` (made once, readable by
    the owner only), so that every worker and every restart share it; else a random one per process."""
    if configured:
        return configured.encode()
    if keep_in is None:
        return secrets.token_bytes(32)
    keep_in.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(keep_in, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:  # the first worker to start writes it; the others read it
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    for _ in range(50):  # another worker may be between creating and writing the file
        value = keep_in.read_text().strip()
        if value:
            return value.encode()
        time.sleep(0.01)
    raise RuntimeError(f"{keep_in} is empty; remove it or set TRIAGE_SECRET_KEY.")


def _nonce_hash(session: WebSession) -> str:
    return hashlib.sha256(session.nonce.encode()).hexdigest()


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison that also takes what a client made up (non-ASCII included)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def _mac(secret: bytes, purpose: str, message: str) -> bytes:
    return hmac.new(secret, f"triage.web.{purpose}|{message}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


UserDep = Annotated[WebUser, Depends(get_user)]
PostUserDep = Annotated[WebUser, Depends(post_user)]
AdminUserDep = Annotated[WebUser, Depends(require_admin)]
MemberDep = Annotated[WebUser, Depends(get_member)]
PostMemberDep = Annotated[WebUser, Depends(post_member)]
