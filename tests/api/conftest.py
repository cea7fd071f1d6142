"""Fixtures of the API tests: the real app over HTTP (FastAPI's TestClient) on a real database.

``database_url`` runs each test on a fresh SQLite file and, when a PostgreSQL server is reachable, again on
a throwaway PostgreSQL database made for this test session and dropped after it. The server is
``TRIAGE_TEST_POSTGRES_URL`` if set, else postgresql+psycopg://postgres@127.0.0.1:5432/postgres; when it
cannot be reached the PostgreSQL runs are skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from triage.api import create_app
from triage.apikeys import create_key
from triage.db import make_engine, make_sessions, upgrade
from triage.settings import PROJECT_ROOT, Settings

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
COMPLAINT = "Jalan poros di Desa Loa Kulu rusak berlubang besar sudah enam bulan tidak diperbaiki Dinas PU."


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL database made for this test session (dropped at its end); skips if unreachable."""
    server = make_url(os.environ.get("TRIAGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"triage_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection failure: no PostgreSQL here
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {server.render_as_string(hide_password=True)}: "
                    f"{type(exc).__name__}")
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty, migrated database: a new SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'triage.db'}"
        upgrade(url)
        return url
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE decisions, complaints, api_keys RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, models_dir=PROJECT_ROOT / "models", deployment="kukar",
                    max_text_chars=2000)


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def db(database_url: str) -> Iterator[Session]:
    """A session on the test database, for setting up and checking what the API stored."""
    engine = make_engine(database_url)
    with make_sessions(engine)() as session:
        yield session
    engine.dispose()


@dataclass(frozen=True)
class Key:
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def handler(db: Session) -> Key:
    key, token = create_key(db, "siti-handler", "handler")
    return Key(key.name, token)


@pytest.fixture
def admin(db: Session) -> Key:
    key, token = create_key(db, "budi-admin", "admin")
    return Key(key.name, token)


@pytest.fixture
def complaint_text() -> str:
    """A complaint the shipped model routes to Dinas PU (dpupr) with confidence."""
    return COMPLAINT


@pytest.fixture
def complaint(client: TestClient, handler: Key) -> dict:
    """A stored complaint, as POST /v1/complaints returned it."""
    response = client.post("/v1/complaints", json={"text": COMPLAINT, "channel": "sms"}, headers=handler.headers)
    assert response.status_code == 201, response.text
    return response.json()
