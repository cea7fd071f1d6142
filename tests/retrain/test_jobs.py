"""``POST /v1/retrain`` starts a retraining job in the background (admins only, one at a time) and
``GET /v1/retrain/{job}`` follows it; a job that crashes or fails leaves the serving model as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.apikeys import create_key
from triage.db import make_engine, make_sessions
from triage.registry import ModelRegistry
from triage.retrain_job import FINISHED, JobStore, RetrainLock
from triage.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow  # trains models or runs the service


class Api:
    def __init__(self, client: TestClient, settings) -> None:
        self.client, self.settings = client, settings
        engine = make_engine(settings.database_url)
        with make_sessions(engine)() as session:
            self.admin = {"Authorization": f"Bearer {create_key(session, 'budi-admin', 'admin')[1]}"}
            self.handler = {"Authorization": f"Bearer {create_key(session, 'siti-handler', 'handler')[1]}"}
        engine.dispose()

    def start(self, **body) -> dict:
        response = self.client.post("/v1/retrain", json=body or None, headers=self.admin)
        assert response.status_code == 202, response.text
        return response.json()

    def status(self, job: str) -> dict:
        response = self.client.get(f"/v1/retrain/{job}", headers=self.admin)
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, job: str, until=lambda s: s["state"] in FINISHED, timeout: float = 120) -> list[dict]:
        """Poll the job until ``until(status)``; every status seen."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            seen.append(self.status(job))
            if until(seen[-1]):
                return seen
            assert time.monotonic() < deadline, seen[-1]
            time.sleep(0.1)


def make_api(settings) -> Iterator[Api]:
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings)


@pytest.fixture
def api(retrain_settings, small_champion, small_corpus_dir):
    """The API on a registry serving ``kukar-small``, retraining on the small corpus (a few seconds)."""
    yield from make_api(retrain_settings(small_champion, small_corpus_dir))


def test_an_admin_starts_a_job_follows_its_stages_and_it_promotes_the_new_model(api):
    started = api.start()
    second = api.client.post("/v1/retrain", headers=api.admin)

    seen = api.wait(started["job"])

    assert started["state"] == "queued" and started["status_url"].endswith(f"/v1/retrain/{started['job']}")
    assert second.status_code == 409 and second.json()["error"] == "conflict"
    assert f"Pelatihan ulang lain sedang berjalan (pekerjaan {started['job']}" in second.json()["message"]
    final = seen[-1]
    assert final["state"] == "promoted" and final["passed"] and final["percent"] == 100
    assert final["version"] == ModelRegistry(api.settings.models_dir).current_version() != "kukar-small"
    percents = [s["percent"] for s in seen]
    assert percents == sorted(percents)
    assert {s["stage"] for s in seen} <= {"queued", "start", "load", "prepare", "train", "evaluate", "save"}
    assert os.path.isfile(final["report"]["markdown"])
    # The job is done: the next one may start.
    assert api.wait(api.start(dry_run=True)["job"])[-1]["state"] == "dry_run"


def test_only_admins_may_retrain_and_unknown_jobs_are_404(api):
    assert api.client.post("/v1/retrain", headers=api.handler).status_code == 403
    assert api.client.get("/v1/retrain/rt-nope", headers=api.handler).status_code == 403
    assert api.client.post("/v1/retrain").status_code == 401
    assert api.client.get("/v1/retrain/rt-nope", headers=api.admin).status_code == 404


def test_a_failing_job_reports_its_error_and_leaves_the_serving_model(retrain_settings, small_champion, tmp_path):
    for api in make_api(retrain_settings(small_champion, tmp_path / "no-corpus-here")):
        final = api.wait(api.start()["job"])[-1]
        assert final["state"] == "failed" and "train.jsonl" in final["error"]
        assert ModelRegistry(api.settings.models_dir).current_version() == "kukar-small"
        assert [i.version for i in ModelRegistry(api.settings.models_dir).list()] == ["kukar-small"]


def test_a_killed_job_shows_failed_changes_nothing_and_its_lock_is_taken_over(retrain_settings, seed_champion):
    # The full seed corpus: training takes long enough to kill the job in the middle of it.
    for api in make_api(retrain_settings(seed_champion, PROJECT_ROOT / "training_data")):
        pointer = (api.settings.models_dir / "PROMOTED.json").read_text()
        job = api.start()["job"]
        training = api.wait(job, until=lambda s: s["stage"] == "train" or s["state"] in FINISHED)[-1]
        assert training["state"] == "running", training

        os.kill(training["pid"], signal.SIGKILL)
        final = api.wait(job)[-1]

        assert final["state"] == "failed" and "serving model was not changed" in final["error"]
        assert (api.settings.models_dir / "PROMOTED.json").read_text() == pointer
        assert [i.version for i in ModelRegistry(api.settings.models_dir).list()] == ["kukar-champion"]
        again = api.start(dry_run=True)  # the dead job's lock does not block the next one
        os.kill(api.wait(again["job"], until=lambda s: s.get("pid") and s["state"] == "running")[-1]["pid"],
                signal.SIGKILL)
        api.wait(again["job"])


def test_a_lock_and_status_left_by_a_dead_process_are_recognised_and_taken_over(tmp_path):
    script = ("import os, sys; from triage.retrain_job import RetrainLock, JobStore; "
              "RetrainLock(sys.argv[1]).acquire('rt-crashed'); "
              "JobStore(sys.argv[1]).write('rt-crashed', state='running', stage='train', percent=40, pid=os.getpid(), "
              "host=os.uname().nodename); os.kill(os.getpid(), 9)")
    died = subprocess.run([sys.executable, "-c", script, str(tmp_path)])
    assert died.returncode == -signal.SIGKILL

    status = JobStore(tmp_path).read("rt-crashed")
    lock = RetrainLock(tmp_path).acquire("rt-next")
    try:
        assert status["state"] == "failed" and "stopped without finishing" in status["error"]
        assert lock.previous["job"] == "rt-crashed" and "finished" not in lock.previous
    finally:
        lock.release()
