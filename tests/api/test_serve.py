"""``triage serve`` runs the API under uvicorn with several workers, over real HTTP on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx
import pytest

from tests.conftest import TRIAGE


@pytest.fixture
def served(tmp_path, start_server, triage_cli):
    env = os.environ | {"TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'triage.db'}"}
    token = triage_cli("apikey", "create", "--name", "serve-test", "--role", "handler", env=env).splitlines()[-1]
    return start_server(env, workers=2), token


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


def test_serve_on_a_taken_port_says_so_in_one_line_and_exits_2(tmp_path):
    env = os.environ | {"TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'triage.db'}"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*TRIAGE, "serve", "--port", str(port)], env=env, capture_output=True, text=True,
                                timeout=120)

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: port {port} on 127.0.0.1 is already in use")
    assert "--port" in line and "PORT=" in line
