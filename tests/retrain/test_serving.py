"""The running API serves the promoted model and switches to a newly promoted one without a restart and without
failing a request in flight, in every worker process of ``triage serve --workers 2``."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter

import httpx
import pytest

from triage.registry import ModelRegistry
from triage.settings import PROJECT_ROOT
from triage.taxonomy import load_taxonomy

pytestmark = pytest.mark.slow  # trains models or runs the service

TEXT = "Lampu jalan di Jl. Mulawarman Tenggarong mati sudah dua minggu, malam gelap gulita."


@pytest.fixture
def served(tmp_path, start_server, triage_cli):
    """``triage serve --workers 2`` on a free port, over a registry holding kukar-seed and kukar-next."""
    models = tmp_path / "models"
    shutil.copytree(PROJECT_ROOT / "models" / "kukar-seed", models / "kukar-seed")
    seed, _ = ModelRegistry(models).load("kukar-seed", load_taxonomy("kukar"))
    ModelRegistry(models).save(seed, deployment=load_taxonomy("kukar"), metadata={}, version="kukar-next")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")} | {
        "TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'triage.db'}", "TRIAGE_MODELS_DIR": str(models),
        "TRIAGE_SIGNING_KEY": os.environ["TRIAGE_SIGNING_KEY"]}  # the workers trust what the tests signed
    token = triage_cli("apikey", "create", "--name", "swap", "--role", "handler", env=env).splitlines()[-1]
    return start_server(env, workers=2), {"Authorization": f"Bearer {token}"}, env


def test_every_worker_switches_to_a_promoted_model_without_failing_a_request(served, triage_cli):
    base, headers, env = served
    outcomes: list[tuple[float, int, str | None]] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            # A new connection each time, so that the kernel hands requests to both workers.
            try:
                response = httpx.post(f"{base}/v1/complaints", json={"text": TEXT}, headers=headers, timeout=30)
                version = response.json().get("suggestion", {}).get("model_version")
                outcomes.append((time.monotonic(), response.status_code, version))
            except httpx.HTTPError as exc:  # a dropped connection is a failed request
                outcomes.append((time.monotonic(), 0, type(exc).__name__))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        promoting_at = time.monotonic()
        triage_cli("models", "promote", "kukar-next", env=env)
        promoted_at = time.monotonic()
        # Every worker looks at the pointer at most once a second: after 2 s all must serve kukar-next.
        deadline = promoted_at + 30
        while time.monotonic() < deadline:
            late = [o for o in outcomes if o[0] > promoted_at + 2.0]
            if len(late) >= 60:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    statuses = Counter(status for _, status, _ in outcomes)
    assert statuses == {201: len(outcomes)}, statuses  # no request failed, before, during or after the swap
    before = Counter(v for t, _, v in outcomes if t < promoting_at)
    late = Counter(v for t, _, v in outcomes if t > promoted_at + 2.0)
    assert set(before) == {"kukar-seed"} and sum(before.values()) >= 4
    assert sum(late.values()) >= 60 and set(late) == {"kukar-next"}, late
