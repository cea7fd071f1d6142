"""POST /v1/complaints stores a complaint with its suggestion; GET reads it back, alone or in lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from triage.api import create_app
from triage.apikeys import create_key
from triage.db import Complaint, make_engine, make_sessions
from triage.settings import Settings
from tests.conftest import kukar_with
from triage.taxonomy import HEADS

COMPLAINT = "Jalan poros di Desa Loa Kulu rusak berlubang besar sudah enam bulan tidak diperbaiki Dinas PU."


def test_a_new_complaint_gets_201_with_a_suggestion_for_every_head(client, handler):
    response = client.post("/v1/complaints", json={"text": COMPLAINT, "external_id": "SMS-1", "channel": "sms",
                                                   "received_at": "2026-11-20T08:30:00+08:00"},
                           headers=handler.headers)

    assert response.status_code == 201
    body = response.json()
    assert isinstance(body["id"], int)
    suggestion = body["suggestion"]
    assert suggestion["model_version"] == "kukar-seed"
    assert isinstance(suggestion["needs_review"], bool)
    assert set(suggestion["explanation"]) == set(HEADS)
    for head in HEADS:
        part = suggestion[head]
        assert {"code", "name", "confidence", "alternatives"} <= set(part)
        assert len(part["alternatives"]) == 3
        assert part["alternatives"][0]["code"] == part["code"]
        assert {"code", "name", "confidence"} == set(part["alternatives"][0])
    assert suggestion["opd"]["code"] == "dpupr"
    assert body["status"] == "pending"
    assert body["received_at"] == "2026-11-20T00:30:00Z"


def test_a_stored_complaint_reads_back_with_its_suggestion_and_no_decisions(client, handler, complaint):
    response = client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["text"] == COMPLAINT
    assert body["suggestion"] == complaint["suggestion"]
    assert body["decisions"] == []
    assert body["routing"] == {h: complaint["suggestion"][h]["code"] for h in HEADS}


def test_the_same_external_id_twice_is_a_409_naming_the_stored_complaint(client, handler):
    first = client.post("/v1/complaints", json={"text": COMPLAINT, "external_id": "LAPOR-77"}, headers=handler.headers)
    again = client.post("/v1/complaints", json={"text": COMPLAINT, "external_id": "LAPOR-77"}, headers=handler.headers)

    assert again.status_code == 409
    assert f"id {first.json()['id']}" in again.json()["message"]


def test_the_opd_suggestion_carries_the_focal_point_the_deployment_configures(tmp_path: Path, database_url):
    deployment = kukar_with(tmp_path, "dpupr", 'focal_point: {name: "Ir. Rahmat", phone: "0541-661234"}',
                            "kukar-narahubung.yaml")
    settings = Settings(database_url=database_url, models_dir=Path(__file__).parents[2] / "models",
                        deployment=str(deployment))
    engine = make_engine(database_url)
    with make_sessions(engine)() as session:
        _, token = create_key(session, "narahubung-test", "handler")
    engine.dispose()

    with TestClient(create_app(settings)) as client:
        body = client.post("/v1/complaints", json={"text": COMPLAINT},
                           headers={"Authorization": f"Bearer {token}"}).json()

    assert body["suggestion"]["opd"]["code"] == "dpupr"
    assert body["suggestion"]["opd"]["focal_point"] == {"name": "Ir. Rahmat", "phone": "0541-661234", "email": None}


def test_without_a_configured_focal_point_the_opd_part_says_none(complaint):
    assert complaint["suggestion"]["opd"]["focal_point"] is None


TEXTS = {
    "sms": "Air PDAM di rumah kami mati sudah tiga hari dan keruh, mohon PDAM segera perbaiki.",
    "web": "Anak saya ditolak PPDB SMP negeri padahal rumah dekat sekolah, zonasi tidak adil.",
    "wa": "Sampah di TPS pasar menumpuk dan bau, tidak diangkut DLH sudah seminggu.",
}


@pytest.fixture
def several(client, handler) -> list[dict]:
    made = []
    for day, (channel, text) in enumerate(TEXTS.items(), start=1):
        response = client.post("/v1/complaints", json={"text": text, "channel": channel,
                                                       "received_at": f"2026-11-0{day}T10:00:00Z"},
                               headers=handler.headers)
        made.append(response.json())
    return made


def test_the_list_is_newest_first_and_pages(client, handler, several):
    page = client.get("/v1/complaints", params={"limit": 2}, headers=handler.headers).json()
    rest = client.get("/v1/complaints", params={"limit": 2, "offset": 2}, headers=handler.headers).json()

    assert page["total"] == 3 and rest["total"] == 3
    assert [c["id"] for c in page["items"] + rest["items"]] == [c["id"] for c in reversed(several)]


def test_the_list_can_put_the_least_certain_first(client, handler, several):
    items = client.get("/v1/complaints", params={"order": "least_certain"}, headers=handler.headers).json()["items"]

    lowest = [min(c["suggestion"][h]["confidence"] for h in HEADS) for c in items]
    assert lowest == sorted(lowest)


def test_the_list_filters_by_channel_opd_category_review_and_dates(client, handler, several):
    def ids(**params) -> list[int]:
        response = client.get("/v1/complaints", params=params, headers=handler.headers)
        assert response.status_code == 200, response.text
        return sorted(c["id"] for c in response.json()["items"])

    wa = several[2]
    assert ids(channel="wa") == [wa["id"]]
    assert ids(opd=wa["suggestion"]["opd"]["code"]) == [wa["id"]]
    assert wa["id"] in ids(category=wa["suggestion"]["category"]["code"])
    assert ids(date_from="2026-11-02", date_to="2026-11-02") == [several[1]["id"]]
    assert ids(date_from="2026-11-02") == [several[1]["id"], wa["id"]]
    assert ids(status="pending") == sorted(c["id"] for c in several)
    assert ids(status="decided") == []
    flagged = sorted(c["id"] for c in several if c["suggestion"]["needs_review"])
    assert ids(needs_review="true") == flagged


def test_complaint_and_suggestion_are_one_row_written_in_one_transaction(db, several):
    stored = db.scalars(select(Complaint).order_by(Complaint.id)).all()

    assert [c.id for c in stored] == [c["id"] for c in several]
    for row, served in zip(stored, several):
        for head in HEADS:
            assert row.suggestion[head]["alternatives"] == served["suggestion"][head]["alternatives"]
        assert row.suggestion["explanation"] == served["suggestion"]["explanation"]
        assert row.suggested_opd == served["suggestion"]["opd"]["code"]
        assert row.needs_review == served["suggestion"]["needs_review"]
    assert db.scalar(select(func.count()).select_from(Complaint)) == 3
