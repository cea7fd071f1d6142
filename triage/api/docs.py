"""The API's documentation pages, served from the installed package: Swagger UI at ``/docs``, ReDoc at
``/redoc``, the schema at ``/openapi.json``. Nothing comes from a CDN, so the pages work on an intranet
without internet: the scripts and style sheet are the ones the ``fastapi-offline`` package ships (Swagger
UI: Apache-2.0; ReDoc: MIT), served under ``/docs/static/``.

Who may read them is ``settings.docs``:

* ``off``: nobody (404), e.g. on a server the public can reach;
* ``on``: anyone who reaches the server;
* ``key`` (the default): a request with a valid API key (``Authorization: Bearer``) or a browser signed in
  to the web page; a browser without either is sent to the sign-in page and back.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from triage.apikeys import authenticate
from triage.errors import AuthError, NotFoundError
from triage.settings import Settings

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
          "redoc.standalone.js": "text/javascript", "favicon.png": "image/png"}
STATIC = "/docs/static"
# ReDoc's sidebar shows its maker's logo from their CDN; an intranet has no route there, so point it home.
_REDOC_LOGO = re.compile(rb"https://[\w.-]+/redoc/logo-mini\.svg")


@lru_cache(maxsize=len(ASSETS))
def asset(name: str) -> bytes:
    """The bytes of one documentation asset (ReDoc's with its logo served locally)."""
    data = (ASSETS_DIR / name).read_bytes()
    return _REDOC_LOGO.sub(f"{STATIC}/favicon.png".encode(), data) if name == "redoc.standalone.js" else data


def allowed(request: Request, settings: Settings) -> bool:
    """Whether ``request`` may read the docs; :class:`NotFoundError` when they are off, ``AuthError`` for
    a wrong key. Without any key, a signed-in web session is enough."""
    if settings.docs == "off":
        raise NotFoundError("Dokumentasi API dimatikan di server ini (pengaturan TRIAGE_DOCS=off).")
    if settings.docs == "on":
        return True
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        with request.app.state.sessions() as session:
            authenticate(session, token.strip())
        return True
    from triage.web.session import caller_of, current_session  # the web package imports triage.api

    web = current_session(request)
    return web is not None and web.key_id is not None and caller_of(request, web.key_id) is not None


def install(app: FastAPI, settings: Settings) -> None:
    """Add the documentation routes to ``app`` (built with ``docs_url=None, redoc_url=None,
    openapi_url=None``, so FastAPI's CDN pages are not there)."""
    from triage.web.render import sign_in_url

    def page(request: Request, html: HTMLResponse) -> Response:
        if not allowed(request, settings):
            return RedirectResponse(sign_in_url(request), status_code=303)
        html.headers["Cache-Control"] = "no-store"
        return html

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> JSONResponse:
        if not allowed(request, settings):
            raise AuthError("Skema API hanya untuk pemegang kunci API. Kirim header 'Authorization: Bearer "
                            "<kunci>' atau masuk dulu di halaman web.")
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def swagger(request: Request) -> Response:
        return page(request, get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{app.title}: dokumentasi API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js", swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False}))

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> Response:
        return page(request, get_redoc_html(
            openapi_url="/openapi.json", title=f"{app.title}: dokumentasi API",
            redoc_js_url=f"{STATIC}/redoc.standalone.js", redoc_favicon_url=f"{STATIC}/favicon.png",
            with_google_fonts=False))

    @app.get(STATIC + "/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if settings.docs == "off" or name not in ASSETS:
            raise NotFoundError(f"Berkas dokumentasi '{name}' tidak ada.")
        return Response(asset(name), media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})
