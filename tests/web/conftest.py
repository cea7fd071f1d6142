"""Fixtures of the web page tests.

* ``client`` / ``signed_in``: the real app through FastAPI's TestClient on a fresh SQLite file and, when a
  PostgreSQL server is reachable, on the API tests' throwaway PostgreSQL database (fast tier).
* ``live``: the real app served by uvicorn in a background thread on a free loopback port, with a temporary
  SQLite database, the shipped model and a handler and an admin key (browser tier).
* ``browser``: Debian's chromium (``/usr/bin/chromium``) driven by Playwright; the browser tests skip when
  it or the ``playwright`` package is missing. Playwright's own browser download is never used.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import Key
from triage.api import create_app
from triage.apikeys import create_key
from triage.db import make_engine, make_sessions, upgrade
from triage.settings import PROJECT_ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

PU_COMPLAINT = ("Jalan poros di Desa Loa Kulu rusak berlubang besar sudah enam bulan tidak diperbaiki "
                "Dinas PU.")
WATER_COMPLAINT = "Air PDAM di Kelurahan Melayu Tenggarong mati sudah tiga hari, tagihan tetap datang penuh."


def make_app(settings: Settings) -> FastAPI:
    return create_app(settings)


def web_settings(database_url: str, **overrides) -> Settings:
    return Settings(database_url=database_url, models_dir=PROJECT_ROOT / "models", deployment="kukar",
                    max_text_chars=2000, secret_key="rahasia-uji", **overrides)


def make_key(database_url: str, name: str, role: str) -> Key:
    engine = make_engine(database_url)
    try:
        with make_sessions(engine)() as session:
            key, token = create_key(session, name, role)
            return Key(key.name, token)
    finally:
        engine.dispose()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


# -- fast tier: TestClient ----------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str) -> Settings:
    return web_settings(database_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(make_app(settings), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def handler(database_url: str) -> Key:
    return make_key(database_url, "siti-handler", "handler")


@pytest.fixture
def admin(database_url: str) -> Key:
    return make_key(database_url, "budi-admin", "admin")


def sign_in(client: TestClient, key: Key) -> str:
    """Sign ``client`` in with ``key`` through the form; returns the session's CSRF token."""
    form = client.get("/masuk")
    data = {"api_key": key.token, "csrf": csrf_of(form.text), "next": "/antrean"}
    response = client.post("/masuk", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/antrean").text)


@pytest.fixture
def signed_in(client: TestClient, handler: Key) -> str:
    """``client`` signed in as the handler; the value is the session's CSRF token."""
    return sign_in(client, handler)


def post_complaint(client, key: Key, text: str, **fields) -> dict:
    response = client.post("/v1/complaints", json={"text": text, **fields}, headers=key.headers)
    assert response.status_code == 201, response.text
    return response.json()


# -- browser tier: a live server and chromium ---------------------------------------------------------


@dataclass(frozen=True)
class Live:
    url: str
    database_url: str
    handler: Key
    admin: Key

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


@pytest.fixture
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The app under uvicorn on a free loopback port (the socket is bound first: no race for the port)."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('web-live') / 'triage.db'}"
    upgrade(database_url)
    app = make_app(web_settings(database_url))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start within 60 s")
        time.sleep(0.05)
    try:
        yield Live(url=f"http://127.0.0.1:{port}", database_url=database_url,
                   handler=make_key(database_url, "siti-handler", "handler"),
                   admin=make_key(database_url, "budi-admin", "admin"))
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless chromium; skips the test when it cannot be had."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found: browser tests need Debian's chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context_factory(browser, live: Live):
    """Make browser contexts (viewport, Indonesian locale, WITA time zone) that may only reach the live
    server: any other request is aborted and recorded, and the test fails if there was one, or if a page
    logged an error (a script error, a Content-Security-Policy violation, a missing resource)."""
    contexts, foreign, errors = [], [], []

    def make(viewport: dict[str, int] = DESKTOP):
        context = browser.new_context(viewport=viewport, locale="id-ID", timezone_id="Asia/Makassar")
        context.set_default_timeout(15_000)

        def guard(route):
            if route.request.url.startswith(live.url) or route.request.url.startswith("data:"):
                route.continue_()
            else:
                foreign.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        context.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        context.on("weberror", lambda error: errors.append(str(error.error)))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not foreign, f"the pages tried to reach the network: {foreign}"
    assert not errors, f"the pages logged errors: {errors}"


def browser_sign_in(page, live: Live, key: Key) -> None:
    page.goto(f"{live.url}/masuk")
    page.get_by_label("Kunci API").fill(key.token)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{live.url}/antrean")
