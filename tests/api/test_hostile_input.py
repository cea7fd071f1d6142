"""Input a store cannot keep is refused in front of it, alike on SQLite and PostgreSQL: a 4xx with a message
in Bahasa Indonesia (what was expected, what came, what to do), never a 500, and nothing stored.

Each case here answered 500 on PostgreSQL (and some on SQLite) before one validation stood in front of the
store (``triage.complaints.check_storable`` and ``to_utc``, wired into the API's pydantic types)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from triage.db import Complaint, Decision
from triage.taxonomy import HEADS

JSON = {"Content-Type": "application/json"}


def post_raw(client, url: str, raw_json: str, key):
    """POST ``raw_json`` as written: JSON escapes such as \\u0000 and \\ud800 reach the server untouched."""
    return client.post(url, content=raw_json.encode(), headers=key.headers | JSON)


def assert_refused(response, field: str, *words: str) -> dict:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation"
    assert any(field in item["loc"] for item in body["detail"]), body["detail"]
    for word in words:
        assert word in body["message"], body["message"]
    return body


def suggested(complaint: dict) -> dict[str, str]:
    return {h: complaint["suggestion"][h]["code"] for h in HEADS}


@pytest.mark.parametrize("escaped", ["SMS-\\u0000-17", "SMS-\\ud800-17", "\\udfff"])
def test_an_external_id_with_a_nul_or_a_lone_surrogate_is_refused_and_nothing_stored(client, handler, db,
                                                                                       escaped):
    response = post_raw(client, "/v1/complaints",
                        f'{{"text": "Jalan rusak di Tenggarong", "external_id": "{escaped}"}}', handler)

    assert_refused(response, "external_id", "'external_id'", "karakter yang tidak sah", "salin ulang")
    assert db.scalar(select(func.count()).select_from(Complaint)) == 0


@pytest.mark.parametrize("escaped", ["dicek\\u0000lagi", "dicek \\udc00"])
def test_a_decision_note_with_a_nul_or_a_lone_surrogate_is_refused_and_no_revision_added(client, handler, db,
                                                                                         complaint, escaped):
    codes = ", ".join(f'"{h}": "{c}"' for h, c in suggested(complaint).items())

    response = post_raw(client, f"/v1/complaints/{complaint['id']}/decisions",
                        f'{{{codes}, "note": "{escaped}"}}', handler)

    assert_refused(response, "note", "'note'", "karakter yang tidak sah")
    assert db.scalar(select(func.count()).select_from(Decision)) == 0


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("escaped", ["\\ud800", "dpupr\\udfff", "dp\\u0000upr"])
def test_a_decision_code_no_store_can_keep_is_a_422_not_a_crash_building_the_message(client, handler, complaint,
                                                                                      head, escaped):
    codes = suggested(complaint)
    fields = ", ".join(f'"{h}": "{escaped if h == head else c}"' for h, c in codes.items())

    response = post_raw(client, f"/v1/complaints/{complaint['id']}/decisions", f"{{{fields}}}", handler)

    assert_refused(response, head, f"'{head}'")


@pytest.mark.parametrize("field, query", [("opd", "opd=%00"), ("category", "category=dpupr%00")])
def test_a_list_filter_with_a_nul_is_refused(client, handler, field, query):
    response = client.get(f"/v1/complaints?{query}", headers=handler.headers)

    assert_refused(response, field, f"'{field}'", "karakter yang tidak sah")


@pytest.mark.parametrize("complaint_id", [2**31, 2**31 + 1, 2**63 - 1, 2**63, 2**80])
def test_ids_beyond_the_id_columns_range_are_refused_on_every_store(client, handler, complaint, complaint_id):
    read = client.get(f"/v1/complaints/{complaint_id}", headers=handler.headers)
    decide = client.post(f"/v1/complaints/{complaint_id}/decisions", json=suggested(complaint),
                         headers=handler.headers)

    for response in (read, decide):
        assert response.status_code in (404, 422), response.text
        assert "complaint_id" in response.text or "tidak ditemukan" in response.json()["message"]


@pytest.mark.parametrize("revision", [2**31, 2**63, 2**80])
def test_an_expected_revision_beyond_the_column_is_refused(client, handler, complaint, db, revision):
    response = client.post(f"/v1/complaints/{complaint['id']}/decisions",
                           json=suggested(complaint) | {"expected_revision": revision}, headers=handler.headers)

    assert_refused(response, "expected_revision", "'expected_revision'", "paling banyak")
    assert db.scalar(select(func.count()).select_from(Decision)) == 0


def test_the_largest_id_that_fits_is_an_ordinary_404(client, handler):
    response = client.get(f"/v1/complaints/{2**31 - 1}", headers=handler.headers)

    assert response.status_code == 404
    assert "tidak ditemukan" in response.json()["message"]


@pytest.mark.parametrize("received_at", ["9999-12-31T23:00:00-05:00", "0001-01-01T01:00:00+05:00",
                                         "2099-12-31T23:00:00-05:00", "2000-01-01T01:00:00+05:00",
                                         "9999-12-31T23:00:00+05:00"])
def test_a_received_at_outside_the_years_served_once_in_utc_is_refused(client, handler, db, received_at):
    response = client.post("/v1/complaints", json={"text": "Jalan rusak di Tenggarong", "received_at": received_at},
                           headers=handler.headers)

    assert_refused(response, "received_at", "'received_at'", "UTC", "zona waktu")
    assert db.scalar(select(func.count()).select_from(Complaint)) == 0


@pytest.mark.parametrize("received_at, stored", [("2099-12-31T23:00:00+05:00", "2099-12-31T18:00:00"),
                                                 ("2000-01-01T01:00:00-05:00", "2000-01-01T06:00:00")])
def test_the_edges_of_the_years_served_in_utc_are_stored_with_a_deadline(client, handler, received_at, stored):
    response = client.post("/v1/complaints", json={"text": "Jalan rusak di Tenggarong", "received_at": received_at},
                           headers=handler.headers)

    assert response.status_code == 201, response.text
    assert response.json()["received_at"].startswith(stored) and response.json()["due_at"] > received_at[:10]


def test_the_store_itself_refuses_what_the_api_refuses(db, shipped):
    """The web page and batch jobs call the library directly: the same rule stands there."""
    from triage.complaints import create_complaint
    from triage.decisions import Decider, record_decision
    from triage.errors import InvalidInputError, NotFoundError

    with pytest.raises(InvalidInputError, match="external_id berisi karakter yang tidak sah di posisi 3"):
        create_complaint(db, shipped, "Jalan rusak", external_id="ab\x00")
    with pytest.raises(InvalidInputError, match="2000-01-01 sampai 2099-12-31 dalam UTC"):
        from datetime import datetime, timedelta, timezone
        create_complaint(db, shipped, "Jalan rusak",
                         received_at=datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=10))))
    stored = create_complaint(db, shipped, "Jalan rusak di Tenggarong")
    codes = {h: stored.suggestion[h]["code"] for h in HEADS}
    with pytest.raises(InvalidInputError, match="Catatan berisi karakter yang tidak sah"):
        record_decision(db, shipped.taxonomy, stored.id, **codes, note="\ud800", decider=Decider("siti"))
    with pytest.raises(NotFoundError):
        record_decision(db, shipped.taxonomy, 2**31, **codes, decider=Decider("siti"))
