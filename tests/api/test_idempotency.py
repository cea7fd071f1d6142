"""A decision sent with an ``Idempotency-Key`` is made once: a client that retries (after a timeout, a crash,
a lost answer) gets the first decision back (200, same revision) instead of adding a revision. The key is
kept in the database, per API key, so a retry after a restart is recognised too."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from triage.api import create_app
from triage.db import Decision, IdempotencyKey
from triage.taxonomy import HEADS


def suggested(complaint: dict) -> dict[str, str]:
    return {h: complaint["suggestion"][h]["code"] for h in HEADS}


def decisions_stored(db) -> int:
    """How many decisions the database holds (the read ends its transaction: on SQLite it holds the lock)."""
    try:
        return db.scalar(select(func.count()).select_from(Decision))
    finally:
        db.rollback()


def with_key(key, idempotency_key: str) -> dict[str, str]:
    return key.headers | {"Idempotency-Key": idempotency_key}


def test_a_retry_with_the_same_key_and_body_returns_the_first_decision_without_a_new_revision(
        client, handler, complaint, db):
    url, body = f"/v1/complaints/{complaint['id']}/decisions", suggested(complaint) | {"note": "sudah dicek"}

    first = client.post(url, json=body, headers=with_key(handler, "keputusan-7f3a"))
    retry = client.post(url, json=body, headers=with_key(handler, "keputusan-7f3a"))

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert decisions_stored(db) == 1
    assert client.get(f"/v1/complaints/{complaint['id']}", headers=handler.headers).json()["revisions"] == 1


def test_different_keys_or_no_key_each_add_a_revision(client, handler, complaint, db):
    url, body = f"/v1/complaints/{complaint['id']}/decisions", suggested(complaint)

    revisions = [client.post(url, json=body, headers=with_key(handler, "a")).json()["revision"],
                 client.post(url, json=body, headers=with_key(handler, "b")).json()["revision"],
                 client.post(url, json=body, headers=handler.headers).json()["revision"],
                 client.post(url, json=body, headers=handler.headers).json()["revision"]]

    assert revisions == [1, 2, 3, 4]


@pytest.mark.parametrize("change", [{"opd": "perkim"}, {"note": "catatan lain"}])
def test_the_same_key_with_another_body_is_refused_and_nothing_is_added(client, handler, complaint, db, change):
    url, body = f"/v1/complaints/{complaint['id']}/decisions", suggested(complaint)
    client.post(url, json=body, headers=with_key(handler, "keputusan-1"))

    response = client.post(url, json=body | change, headers=with_key(handler, "keputusan-1"))

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"
    assert "Idempotency-Key 'keputusan-1' sudah dipakai untuk keputusan lain" in response.json()["message"]
    assert "buat kunci baru" in response.json()["message"]
    assert decisions_stored(db) == 1


def test_the_same_key_on_another_complaint_is_refused(client, handler, complaint, db):
    other = client.post("/v1/complaints", json={"text": "Air PDAM di Tenggarong mati tiga hari."},
                        headers=handler.headers).json()
    client.post(f"/v1/complaints/{complaint['id']}/decisions", json=suggested(complaint),
                headers=with_key(handler, "k1"))

    response = client.post(f"/v1/complaints/{other['id']}/decisions", json=suggested(complaint),
                           headers=with_key(handler, "k1"))

    assert response.status_code == 422
    assert decisions_stored(db) == 1


def test_keys_belong_to_one_api_key(client, handler, admin, complaint, db):
    url, body = f"/v1/complaints/{complaint['id']}/decisions", suggested(complaint)

    mine = client.post(url, json=body, headers=with_key(handler, "shared-name"))
    theirs = client.post(url, json=body, headers=with_key(admin, "shared-name"))

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert (mine.json()["revision"], theirs.json()["revision"]) == (1, 2)
    assert theirs.json()["decided_by"] == "budi-admin"


def test_the_key_survives_a_restart(settings, handler, complaint, db):
    url, body = f"/v1/complaints/{complaint['id']}/decisions", suggested(complaint)
    with TestClient(create_app(settings)) as before:
        first = before.post(url, json=body, headers=with_key(handler, "sebelum-restart"))

    with TestClient(create_app(settings)) as after:
        retry = after.post(url, json=body, headers=with_key(handler, "sebelum-restart"))

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["revision"] == first.json()["revision"] == 1
    assert decisions_stored(db) == 1


def test_retries_at_the_same_moment_make_one_decision(client, handler, complaint, db):
    url, body = f"/v1/complaints/{complaint['id']}/decisions", suggested(complaint)

    def send(_):
        return client.post(url, json=body, headers=with_key(handler, "serentak"))

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(send, range(6)))

    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert {r.json()["revision"] for r in responses} == {1}
    assert decisions_stored(db) == 1
    assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
    db.rollback()


@pytest.mark.parametrize("bad", ["dua kata", "x" * 201, "kunci\u00e9"])
def test_a_malformed_key_is_refused(client, handler, complaint, db, bad):
    response = client.post(f"/v1/complaints/{complaint['id']}/decisions", json=suggested(complaint),
                           headers=handler.headers | {"Idempotency-Key": bad.encode("utf-8")})

    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["message"]
    assert decisions_stored(db) == 0


def test_a_failed_decision_leaves_the_key_free(client, handler, complaint, db):
    url = f"/v1/complaints/{complaint['id']}/decisions"
    refused = client.post(url, json=suggested(complaint) | {"opd": "dinas-tidak-ada"},
                          headers=with_key(handler, "k-gagal"))

    retried = client.post(url, json=suggested(complaint), headers=with_key(handler, "k-gagal"))

    assert refused.status_code == 422
    assert retried.status_code == 201
