"""``/metrics``: Prometheus's scrape, by route template, summed across uvicorn workers, open to loopback or a
metrics key only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TRIAGE
from triage.api import create_app

PU = "Jalan poros di Desa Loa Kulu rusak berlubang besar sudah enam bulan tidak diperbaiki Dinas PU."
WATER = "Air PDAM di Kelurahan Melayu Tenggarong mati sudah tiga hari, tagihan tetap datang penuh."
METRICS_KEY = "kunci-metrik-uji"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape by (name, labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def keyed(settings):
    with TestClient(create_app(settings.model_copy(update={"metrics_key": METRICS_KEY}))) as client:
        yield client


def scrape(client) -> dict:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_KEY}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


def test_metrics_are_refused_to_a_remote_client_without_the_metrics_key(keyed, handler):
    # TestClient's client is "testclient", not a loopback address: a remote scraper.
    assert keyed.get("/metrics").status_code == 403
    assert keyed.get("/metrics", headers={"Authorization": "Bearer salah"}).status_code == 403
    assert keyed.get("/metrics", headers=handler.headers).status_code == 403  # an API key is not the metrics key
    assert "TRIAGE_METRICS_KEY" in keyed.get("/metrics").json()["message"]


def test_requests_are_counted_by_route_template_and_status_never_by_raw_path(keyed, handler):
    before = scrape(keyed)
    created = keyed.post("/v1/complaints", json={"text": PU}, headers=handler.headers).json()
    keyed.get(f"/v1/complaints/{created['id']}", headers=handler.headers)
    keyed.get("/v1/complaints/987654", headers=handler.headers)
    keyed.get("/tidak/ada/alamat-9876")
    response = keyed.get("/metrics", headers={"Authorization": f"Bearer {METRICS_KEY}"})
    after = samples(response.text)

    route = "/v1/complaints/{complaint_id}"
    delta = {status: value(after, "triage_http_requests_total", method="GET", route=route, status=status)
             - value(before, "triage_http_requests_total", method="GET", route=route, status=status)
             for status in ("200", "404")}
    assert delta == {"200": 1, "404": 1}
    assert value(after, "triage_http_requests_total", method="GET", route="<unmatched>", status="404") >= 1
    assert value(after, "triage_http_request_duration_seconds_count", method="POST", route="/v1/complaints") >= 1
    assert "987654" not in response.text and "alamat-9876" not in response.text


def test_suggestions_decisions_and_the_queue_are_measured(keyed, handler):
    before = scrape(keyed)
    first = keyed.post("/v1/complaints", json={"text": PU}, headers=handler.headers).json()
    second = keyed.post("/v1/complaints", json={"text": WATER}, headers=handler.headers).json()
    suggested = {h: first["suggestion"][h]["code"] for h in ("category", "opd", "maladministration")}
    other_opd = "dinsos" if suggested["opd"] != "dinsos" else "dishub"
    decided = keyed.post(f"/v1/complaints/{first['id']}/decisions", headers=handler.headers,
                         json={**suggested, "opd": other_opd})
    assert decided.status_code == 201, decided.text
    after = scrape(keyed)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    opd = first["suggestion"]["opd"]
    assert grew("triage_suggestions_total", head="opd", code=opd["code"],
                needs_review=str(opd["needs_review"]).lower()) >= 1
    assert sum(grew("triage_complaints_suggested_total", needs_review=flag) for flag in ("true", "false")) == 2
    assert grew("triage_decisions_total", head="category", kept="true") == 1
    assert grew("triage_decisions_total", head="opd", kept="false") == 1
    assert value(after, "triage_model_info", version="kukar-seed", deployment="kukar") == 1
    # queue depth is computed at the scrape: this test's database holds exactly these two, one decided
    pending = {flag: value(after, "triage_queue_pending", needs_review=flag) for flag in ("true", "false")}
    assert sum(pending.values()) == 1
    assert pending[str(second["suggestion"]["needs_review"]).lower()] == 1
    assert value(after, "triage_queue_oldest_pending_age_seconds") >= 0
    assert {state for (name, labels), _ in after.items() if name == "triage_retrain_jobs"
            for key, state in labels} >= {"running", "promoted", "rejected", "failed"}


# -- a real server with two workers --------------------------------------------------------------------------


def test_a_scrape_of_any_worker_sums_the_counters_of_both(tmp_path, start_server, triage_cli):
    env = os.environ | {"TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'triage.db'}",
                        "TMPDIR": str(tmp_path)}  # where the server makes its metrics directory
    token = triage_cli("apikey", "create", "--name", "metrics-test", "--role", "handler", env=env).splitlines()[-1]
    base = start_server(env, workers=2)
    headers = {"Authorization": f"Bearer {token}"}

    def workers_counting() -> set[str]:
        return {p.name.rsplit("_", 1)[-1] for p in tmp_path.glob("triage-metrics-*/counter_*.db")}

    sent = 0
    while sent < 12 or len(workers_counting()) < 2:  # new connections until both workers have served some
        assert sent < 400, f"one worker took every connection: {workers_counting()}"
        response = httpx.post(f"{base}/v1/complaints", json={"text": f"{PU} ({sent})"}, headers=headers)
        assert response.status_code == 201, response.text
        sent += 1

    totals = set()
    for _ in range(8):  # each on a new connection: whichever worker answers, the sum is the same
        scrape_ = samples(httpx.get(f"{base}/metrics").text)  # loopback: no key needed
        totals.add((value(scrape_, "triage_http_requests_total", method="POST", route="/v1/complaints",
                          status="201"),
                    value(scrape_, "triage_complaints_suggested_total", needs_review="true")
                    + value(scrape_, "triage_complaints_suggested_total", needs_review="false"),
                    value(scrape_, "triage_queue_pending", needs_review="true")
                    + value(scrape_, "triage_queue_pending", needs_review="false")))
    assert totals == {(sent, sent, sent)}


def test_the_server_removes_its_metrics_directory_when_it_stops(tmp_path, triage_cli):
    env = os.environ | {"TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'triage.db'}", "TMPDIR": str(tmp_path)}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([*TRIAGE, "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("triage-metrics-*")) or not _answers(port):
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert list(tmp_path.glob("triage-metrics-*")) == []


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
