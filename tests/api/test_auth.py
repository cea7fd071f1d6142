"""Every endpoint but /healthz needs a bearer key; roles limit what a key may do."""

from __future__ import annotations

import pytest

from triage.apikeys import revoke_key

PROTECTED = [("get", "/v1/complaints"), ("get", "/v1/complaints/1"), ("post", "/v1/complaints"),
             ("post", "/v1/complaints/1/decisions"), ("get", "/v1/taxonomy"), ("get", "/v1/model"),
             ("get", "/v1/stats"), ("get", "/readyz")]


@pytest.mark.parametrize("method, path", PROTECTED)
def test_without_a_key_every_endpoint_is_a_401(client, method, path):
    response = client.request(method, path, json={"text": "jalan rusak"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Kunci API tidak ada" in response.json()["message"]


def test_an_unknown_key_is_a_401(client):
    response = client.get("/v1/complaints", headers={"Authorization": "Bearer trg_tebakan"})

    assert response.status_code == 401
    assert "tidak dikenal" in response.json()["message"]


def test_a_revoked_key_is_a_401_from_the_next_request_on(client, handler, db):
    assert client.get("/v1/complaints", headers=handler.headers).status_code == 200

    revoke_key(db, handler.name)
    response = client.get("/v1/complaints", headers=handler.headers)

    assert response.status_code == 401
    assert "sudah dicabut" in response.json()["message"]


def test_a_handler_key_may_not_read_stats(client, handler):
    response = client.get("/v1/stats", headers=handler.headers)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert "admin" in response.json()["message"]


def test_an_admin_key_may_do_what_a_handler_does(client, admin):
    assert client.post("/v1/complaints", json={"text": "lampu jalan mati"}, headers=admin.headers).status_code == 201
    assert client.get("/v1/stats", headers=admin.headers).status_code == 200


def test_healthz_is_open(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_database_and_model(client, handler):
    body = client.get("/readyz", headers=handler.headers).json()

    assert body == {"status": "ok", "database": "ok", "model_version": "kukar-seed", "model_error": None}


def test_the_openapi_docs_are_served(client, handler):
    assert client.get("/docs", headers=handler.headers).status_code == 200
    paths = client.get("/openapi.json", headers=handler.headers).json()["paths"]
    assert {"/v1/complaints", "/v1/complaints/{complaint_id}", "/v1/complaints/{complaint_id}/decisions",
            "/v1/taxonomy", "/v1/model", "/v1/stats", "/healthz", "/readyz"} <= set(paths)


def test_taxonomy_and_model_describe_what_serves(client, handler):
    taxonomy = client.get("/v1/taxonomy", headers=handler.headers).json()
    model = client.get("/v1/model", headers=handler.headers).json()

    assert taxonomy["deployment"] == "kukar"
    assert "dpupr" in {label["code"] for label in taxonomy["opd"]}
    assert model["version"] == "kukar-seed"
    assert set(model["thresholds"]) == {"category", "opd", "maladministration"}
