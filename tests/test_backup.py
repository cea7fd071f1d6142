"""``triage backup`` and ``triage restore``: a backup taken while handlers store complaints and decisions is
consistent, and a service started on its restore serves the same complaints and model. SQLite always;
PostgreSQL (pg_dump/pg_restore) when a server answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from tests.conftest import scratch_database
from triage import backup
from triage.api import create_app
from triage.apikeys import create_key
from triage.complaints import create_complaint
from triage.db import make_engine, make_sessions
from triage.decisions import Decider, record_decision
from triage.registry import ModelRegistry
from triage.settings import PROJECT_ROOT, Settings

TEXTS = ["jalan poros desa loa kulu rusak berlubang sudah enam bulan tidak diperbaiki",
         "mau urus akta kelahiran di capil disuruh bayar 200rb biar cepat",
         "lampu jalan di jl ahmad yani tenggarong mati sudah dua minggu",
         "air pdam mati tiga hari di kelurahan loa ipuh tanpa pemberitahuan"]


@pytest.fixture
def models_dir(tmp_path):
    """A registry with the shipped model, promoted (so the backup carries a promotion pointer)."""
    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(PROJECT_ROOT / "models" / "kukar-seed", root / "kukar-seed")
    ModelRegistry(root).promote("kukar-seed")
    return root


@pytest.fixture
def empty_database(database_url, tmp_path):
    """A new, empty database of the same kind as ``database_url`` to restore into."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'triage.db'}"
        return
    server = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    with scratch_database(server, "triage_restore") as url:
        yield url


class Handlers(threading.Thread):
    """Stores complaints (as the API does) and decides every other one, until stopped."""

    def __init__(self, url: str, shipped, taxonomy) -> None:
        super().__init__(daemon=True)
        self.url, self.shipped, self.taxonomy = url, shipped, taxonomy
        self.stop = threading.Event()
        self.stored = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        engine = make_engine(self.url)
        try:
            with make_sessions(engine)() as session:
                while not self.stop.is_set():
                    complaint = create_complaint(session, self.shipped, TEXTS[self.stored % len(TEXTS)],
                                                 external_id=f"LAPOR-{self.stored}", channel="lapor")
                    if self.stored % 2 == 0:
                        record_decision(session, self.taxonomy, complaint.id, category=complaint.category,
                                        opd=complaint.opd, maladministration="bukan_maladministrasi",
                                        decider=Decider("siti"))
                    self.stored += 1
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            engine.dispose()


def rows(url: str, query: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(query))]
    finally:
        engine.dispose()


def test_a_backup_taken_under_writes_restores_to_a_service_serving_the_same_complaints_and_model(
        tmp_path, database_url, models_dir, empty_database, shipped, taxonomy):
    handlers = Handlers(database_url, shipped, taxonomy)
    handlers.start()
    try:
        while handlers.stored < 20 and handlers.is_alive():
            handlers.stop.wait(0.05)
        taken = backup.backup(database_url, models_dir, tmp_path / "backup")
        stored_at_backup = handlers.stored
        while handlers.stored < stored_at_backup + 10 and handlers.is_alive():  # still writing after it
            handlers.stop.wait(0.05)
    finally:
        handlers.stop.set()
        handlers.join(60)
    assert handlers.error is None, handlers.error
    n = taken.counts["complaints"]
    assert 20 <= n < handlers.stored, "the backup is a moment while handlers were writing"

    restored_models = tmp_path / "restored-models"
    backup.restore(tmp_path / "backup", empty_database, restored_models)

    # the restore is exactly the first n complaints, as stored, and the decisions made before the backup
    complaint_query = "SELECT id, external_id, text, suggested_opd FROM complaints ORDER BY id"
    assert rows(empty_database, complaint_query) == rows(database_url, complaint_query)[:n]
    decision_query = "SELECT id, complaint_id, revision, opd, decided_by FROM decisions ORDER BY id"
    restored_decisions = rows(empty_database, decision_query)
    assert restored_decisions == rows(database_url, decision_query)[:len(restored_decisions)]
    assert len(restored_decisions) == taken.counts["decisions"] >= 10
    # one moment: each complaint's revision count agrees with the decisions restored for it
    revisions = dict(rows(empty_database, "SELECT id, revisions FROM complaints"))
    decided = {complaint_id for _, complaint_id, *_ in restored_decisions}
    assert revisions == {i: int(i in decided) for i in revisions}
    assert json.loads((restored_models / "PROMOTED.json").read_text())["current"] == "kukar-seed"

    settings = Settings(database_url=empty_database, models_dir=restored_models, deployment="kukar")
    engine = make_engine(empty_database)
    with make_sessions(engine)() as session:
        _, token = create_key(session, "budi-admin", "admin")
    engine.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/model", headers=headers).json()["version"] == "kukar-seed"
        for complaint_id in (1, n // 2, n):
            served = client.get(f"/v1/complaints/{complaint_id}", headers=headers)
            assert served.status_code == 200
            assert served.json()["text"] == TEXTS[(complaint_id - 1) % len(TEXTS)]
        assert client.get(f"/v1/complaints/{n + 1}", headers=headers).status_code == 404


def test_restore_refuses_a_target_that_is_not_empty_or_a_damaged_backup(tmp_path, database_url, models_dir):
    taken = backup.backup(database_url, models_dir, tmp_path / "backup")
    with pytest.raises(backup.BackupError, match="is not empty. Restore into a new models directory"):
        backup.restore(taken.path, database_url, models_dir)
    other = "postgresql+psycopg://postgres@127.0.0.1/none" if database_url.startswith("sqlite") else \
        f"sqlite:///{tmp_path / 'new.db'}"
    with pytest.raises(backup.BackupError, match="the backup holds a .* database; TRIAGE_DATABASE_URL is"):
        backup.restore(taken.path, other, tmp_path / "new-models")
    if database_url.startswith("sqlite"):
        with pytest.raises(backup.BackupError, match="exists. Restore into a new SQLite file"):
            backup.restore(taken.path, database_url, tmp_path / "new-models")
    else:
        with pytest.raises(backup.BackupError, match="already has tables"):
            backup.restore(taken.path, database_url, tmp_path / "new-models")
    with open(taken.path / "models" / "kukar-seed" / "metadata.json", "a") as handle:
        handle.write(" ")
    with pytest.raises(backup.BackupError, match=r"metadata\.json does not match its sha256 .* use another one"):
        backup.read_manifest(taken.path)
    assert not (tmp_path / "new-models").exists()


def test_the_commands_back_up_and_restore_as_an_operator_runs_them(tmp_path, models_dir):
    from triage.db import upgrade

    source = f"sqlite:///{tmp_path / 'live.db'}"
    upgrade(source)
    env = {**os.environ, "TRIAGE_DATABASE_URL": source, "TRIAGE_MODELS_DIR": str(models_dir)}

    def triage(*args, **extra):
        return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, text=True,
                              env={**env, **extra}, timeout=120)

    made = triage("backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("backed up 0 complaints, 0 decisions, 0 API keys and 1 model version(s), "
                                  "serving kukar-seed -> ")
    again = triage("backup", str(tmp_path / "backup"))
    assert again.returncode == 2 and "exists and is not an empty folder" in again.stderr
    target = {"TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'restored.db'}",
              "TRIAGE_MODELS_DIR": str(tmp_path / "restored-models")}
    restored = triage("restore", str(tmp_path / "backup"), **target)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith("restored 0 complaints, 0 decisions, 0 API keys and 1 model version(s), "
                                      "serving kukar-seed, from the backup of ")
    twice = triage("restore", str(tmp_path / "backup"), **target)
    assert twice.returncode == 2 and len(twice.stderr.strip().splitlines()) == 1
