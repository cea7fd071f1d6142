"""Fixtures of the lifecycle tests: the real app (TestClient) on a real database (SQLite, and PostgreSQL when
reachable), a deployment whose public works office (dpupr) has a focal point with phone and e-mail, and keys
of the three roles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api.conftest import Key
from triage.api import create_app
from triage.apikeys import create_key
from tests.conftest import kukar_with
from triage.settings import PROJECT_ROOT, Settings

ROAD = "Jalan poros di Desa Loa Kulu rusak berlubang besar sudah enam bulan tidak diperbaiki Dinas PU."
CLINIC = "Puskesmas Tenggarong tutup jam 10 pagi, pasien demam berdarah disuruh pulang tidak dilayani dokter."
FOCAL = '{name: "Budi Santoso", phone: "0812-3456-7890", email: "budi@dpupr.kukar.example"}'


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    """kukar, with a focal point for dpupr (the codes, and so the shipped model, are unchanged)."""
    return kukar_with(tmp_path, "dpupr", f"focal_point: {FOCAL}", "kukar-focal.yaml")


@pytest.fixture
def settings_for(database_url: str, deployment: Path):
    def make(**overrides) -> Settings:
        return Settings(database_url=database_url, models_dir=PROJECT_ROOT / "models", deployment=str(deployment),
                        max_text_chars=2000, **overrides)
    return make


@pytest.fixture
def settings(settings_for) -> Settings:
    return settings_for()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def make_key(db: Session, name: str, role: str, opds: tuple[str, ...] = ()) -> Key:
    key, token = create_key(db, name, role, opds)
    return Key(key.name, token)


@pytest.fixture
def handler(db) -> Key:
    return make_key(db, "siti", "handler")


@pytest.fixture
def admin(db) -> Key:
    return make_key(db, "andi-admin", "admin")


@pytest.fixture
def focal(db) -> Key:
    """The narahubung of public works (and of the regional hospital)."""
    return make_key(db, "budi", "focal_point", ("dpupr", "rsud"))


@pytest.fixture
def health_focal(db) -> Key:
    return make_key(db, "rina", "focal_point", ("dinkes",))


def intake(client: TestClient, key: Key, text: str = ROAD, **fields) -> int:
    response = client.post("/v1/complaints", json={"text": text, **fields}, headers=key.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def route(client: TestClient, key: Key, complaint_id: int, opd: str = "dpupr", category: str = "pekerjaan_umum"):
    return client.post(f"/v1/complaints/{complaint_id}/decisions", headers=key.headers,
                       json={"category": category, "opd": opd, "maladministration": "penundaan_berlarut"})


def step(client: TestClient, key: Key, complaint_id: int, action: str, **fields):
    return client.post(f"/v1/complaints/{complaint_id}/events", json={"action": action, **fields},
                       headers=key.headers)
