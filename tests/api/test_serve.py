"""``triage serve`` runs the API under uvicorn with several workers, over real HTTP on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

TRIAGE = [sys.executable, "-c", "from triage.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    env = os.environ | {"TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'triage.db'}"}
    token = subprocess.run([*TRIAGE, "apikey", "create", "--name", "serve-test", "--role", "handler"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    process = subprocess.Popen([*TRIAGE, "serve", "--port", str(port), "--workers", "2", "--no-access-log"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            assert time.monotonic() < deadline, "triage serve did not answer within 60 s"
        yield base, token
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_serve_answers_on_a_kept_alive_connection_without_delayed_ack_stalls(served):
    base, token = served
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        created = client.post("/v1/complaints", json={"text": "Air PDAM mati tiga hari di Tenggarong."})
        latencies = []
        for _ in range(15):
            began = time.perf_counter()
            assert client.get(f"/v1/complaints/{created.json()['id']}").status_code == 200
            latencies.append(time.perf_counter() - began)

    assert created.status_code == 201
    # Nagle's algorithm left on would add ~40 ms to each request after the first few.
    assert sorted(latencies)[len(latencies) // 2] < 0.035
