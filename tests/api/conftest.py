"""Fixtures of the API tests: the real app over HTTP (FastAPI's TestClient) on a real database.

``database_url`` runs each test on a fresh SQLite file and, when a PostgreSQL server is reachable, again on
a throwaway PostgreSQL database made for this test session and dropped after it. The server is
``TRIAGE_TEST_POSTGRES_URL`` if set, else postgresql+psycopg://postgres@127.0.0.1:5432/postgres; when it
cannot be reached the PostgreSQL runs are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from triage.api import create_app
from triage.apikeys import create_key
from triage.settings import PROJECT_ROOT, Settings

COMPLAINT = "Jalan poros di Desa Loa Kulu rusak berlubang besar sudah enam bulan tidak diperbaiki Dinas PU."


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
