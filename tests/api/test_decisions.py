"""POST /v1/complaints/{id}/decisions keeps every handler decision as a new revision (an audit trail)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from triage.db import Decision
from triage.taxonomy import HEADS


def suggested(complaint: dict) -> dict[str, str]:
    return {h: complaint["suggestion"][h]["code"] for h in HEADS}


def test_confirming_the_suggestion_records_who_when_and_that_every_head_was_kept(client, handler, complaint):
    before = datetime.now(timezone.utc) - timedelta(seconds=1)

    response = client.post(f"/v1/complaints/{complaint['id']}/decisions", json=suggested(complaint),
                           headers=handler.headers)

    assert response.status_code == 201
    decision = response.json()
    assert decision["revision"] == 1
    assert decision["decided_by"] == "siti-handler"
    assert decision["kept"] == {"category": True, "opd": True, "maladministration": True}
    assert datetime.fromisoformat(decision["decided_at"]) >= before


def test_a_correction_marks_the_changed_head_as_not_kept_and_reroutes(client, handler, complaint):
    corrected = suggested(complaint) | {"opd": "perkim"}

    decision = client.post(f"/v1/complaints/{complaint['id']}/decisions",
                           json=corrected | {"note": "jalan lingkungan perumahan, bukan jalan kabupaten"},
                           headers=handler.headers).json()
    stored = client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers).json()

    assert decision["kept"] == {"category": True, "opd": False, "maladministration": True}
    assert stored["status"] == "decided"
    assert stored["routing"] == corrected
    assert stored["decisions"][0]["note"] == "jalan lingkungan perumahan, bukan jalan kabupaten"
    assert stored["suggestion"]["opd"]["code"] == "dpupr"  # the suggestion itself is never changed


def test_a_second_decision_is_a_new_revision_and_the_first_stays(client, handler, admin, complaint, db):
    url = f"/v1/complaints/{complaint['id']}/decisions"
    client.post(url, json=suggested(complaint), headers=handler.headers)
    client.post(url, json=suggested(complaint) | {"maladministration": "penundaan_berlarut"}, headers=admin.headers)

    stored = client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers).json()

    assert [(d["revision"], d["decided_by"]) for d in stored["decisions"]] == [(1, "siti-handler"), (2, "budi-admin")]
    assert stored["decisions"][0]["maladministration"] == complaint["suggestion"]["maladministration"]["code"]
    assert stored["routing"]["maladministration"] == "penundaan_berlarut"
    assert stored["revisions"] == 2
    assert len(db.scalars(select(Decision)).all()) == 2


def test_handlers_deciding_the_same_complaint_at_once_all_get_their_own_revision(client, handler, complaint, db):
    url = f"/v1/complaints/{complaint['id']}/decisions"
    opds = ["dpupr", "perkim", "dishub", "dlhk", "pdam", "dinsos", "bpbd", "dpmd"]

    def decide(opd: str):
        return client.post(url, json=suggested(complaint) | {"opd": opd}, headers=handler.headers)

    with ThreadPoolExecutor(max_workers=len(opds)) as pool:
        responses = list(pool.map(decide, opds))

    assert [r.status_code for r in responses] == [201] * len(opds)
    assert sorted(r.json()["revision"] for r in responses) == list(range(1, len(opds) + 1))
    stored = client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers).json()
    assert stored["revisions"] == len(opds)
    last = max(stored["decisions"], key=lambda d: d["revision"])
    assert stored["routing"]["opd"] == last["opd"]  # the routing in force is the latest revision's
    assert sorted(d.opd for d in db.scalars(select(Decision))) == sorted(opds)


def test_stats_count_complaints_and_the_share_of_decisions_that_kept_each_suggestion(client, handler, admin,
                                                                                      complaint):
    other = client.post("/v1/complaints", json={"text": "Air PDAM mati tiga hari di Tenggarong."},
                        headers=handler.headers).json()
    client.post(f"/v1/complaints/{complaint['id']}/decisions", json=suggested(complaint), headers=handler.headers)
    client.post(f"/v1/complaints/{complaint['id']}/decisions", json=suggested(complaint) | {"opd": "perkim"},
                headers=handler.headers)

    today = datetime.now(timezone.utc).date().isoformat()
    stats = client.get("/v1/stats", params={"date_from": today, "date_to": today}, headers=admin.headers).json()

    assert stats["complaints"] == 2
    assert stats["by_status"] == {"pending": 1, "decided": 1}
    assert stats["by_opd"]["perkim"] == 1
    assert stats["by_opd"][other["suggestion"]["opd"]["code"]] == 1
    assert sum(stats["by_category"].values()) == 2
    assert stats["decisions"] == 2
    assert stats["acceptance"]["opd"] == {"kept": 1, "decisions": 2, "rate": 0.5}
    assert stats["acceptance"]["category"] == {"kept": 2, "decisions": 2, "rate": 1.0}


def test_stats_of_a_range_without_activity_are_zero_with_no_rate(client, admin, complaint):
    stats = client.get("/v1/stats", params={"date_from": "2020-01-01", "date_to": "2020-01-31"},
                       headers=admin.headers).json()

    assert stats["complaints"] == 0
    assert stats["by_status"] == {"pending": 0, "decided": 0}
    assert stats["acceptance"]["opd"] == {"kept": 0, "decisions": 0, "rate": None}
