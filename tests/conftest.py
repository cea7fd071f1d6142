"""Fixtures shared by every test tier.

* ``model_signing_key`` (autouse): the Ed25519 key that signs every model the tests save; the session's
  ``TRIAGE_SIGNING_KEY``, so that processes the tests start sign and trust with it too.
* ``taxonomy``: the kukar deployment.
* ``shipped``: the shipped model, loaded once (model-tier tests read its behaviour).
* ``small_corpus``: a stratified slice of the seed training split, for tests that train their own model.
* ``shared_dir``: ../shared when present (real corpora); tests needing it skip cleanly without it.
* ``postgres_url``: a throwaway PostgreSQL database for the session (``TRIAGE_TEST_POSTGRES_URL`` or
  postgres@127.0.0.1:5432), dropped at its end; tests needing it skip when no server answers.
* ``database_url``: an empty, migrated database for one test: a new SQLite file, and again PostgreSQL.
* ``start_server``: ``triage serve`` as a real process on a free loopback port, stopped after the test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text

from triage.dataset import LabelledSet, read_corpus, read_national
from triage.settings import PROJECT_ROOT
from triage.suggest import Suggester
from triage.taxonomy import load_taxonomy

TRAINING_DIR = PROJECT_ROOT / "training_data" / "kukar"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TRIAGE = [sys.executable, "-m", "triage"]
SHIPPED_MODELS = PROJECT_ROOT / "models"


@pytest.fixture(scope="session", autouse=True)
def model_signing_key(tmp_path_factory) -> Iterator[Path]:
    """A key made for the session signs the models tests train (the shipped one is signed by the release key)."""
    from triage.settings import get_settings
    from triage.signing import generate_key

    path = tmp_path_factory.mktemp("signing-key") / "tests.pem"
    generate_key(path, "triage tests")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRIAGE_SIGNING_KEY", str(path))
        get_settings.cache_clear()
        yield path
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def taxonomy():
    return load_taxonomy("kukar")


@pytest.fixture(scope="session")
def shipped(taxonomy) -> Suggester:
    return Suggester.from_registry(SHIPPED_MODELS, "kukar", "kukar-seed")


@pytest.fixture(scope="session")
def train_set(taxonomy) -> LabelledSet:
    """The Kukar corpus's training split, read for the kukar deployment (national categories, its bodies)."""
    return read_national(TRAINING_DIR / "train.jsonl", taxonomy)


@pytest.fixture(scope="session")
def test_set(taxonomy) -> LabelledSet:
    """The Kukar corpus's held-out split, read for the kukar deployment."""
    return read_national(TRAINING_DIR / "test.jsonl", taxonomy)


@pytest.fixture(scope="session")
def seed_test(taxonomy) -> LabelledSet:
    """Every held-out complaint the shipped model did not train on: the Kukar and the national corpus."""
    return read_corpus(TRAINING_DIR.parent, taxonomy, "test")


@pytest.fixture(scope="session")
def small_corpus(train_set) -> LabelledSet:
    """Up to 12 complaints per OPD: every OPD, quick to train on."""
    per_opd: dict[str, int] = {}
    keep = []
    for i, opd in enumerate(train_set.labels["opd"]):
        if per_opd.get(opd, 0) < 12:
            per_opd[opd] = per_opd.get(opd, 0) + 1
            keep.append(i)
    return LabelledSet(texts=[train_set.texts[i] for i in keep],
                       labels={h: [v[i] for i in keep] for h, v in train_set.labels.items()},
                       ids=[train_set.ids[i] for i in keep])


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = Path(os.environ.get("TRIAGE_SHARED_DIR", PROJECT_ROOT.parent / "shared"))
    if not (path / "corpora").is_dir():
        pytest.skip(f"shared corpora not found at {path}; real-data tests need ../shared/corpora")
    return path


def learnable(data: LabelledSet, cv: int = 3) -> LabelledSet:
    """``data`` without complaints carrying a code seen fewer than ``cv`` times on any head."""
    from collections import Counter

    keep = list(range(len(data)))
    while True:
        counts = {h: Counter(data.labels[h][i] for i in keep) for h in data.labels}
        kept = [i for i in keep if all(counts[h][data.labels[h][i]] >= cv for h in data.labels)]
        if kept == keep:
            break
        keep = kept
    return LabelledSet(texts=[data.texts[i] for i in keep],
                       labels={h: [v[i] for i in keep] for h, v in data.labels.items()},
                       ids=[data.ids[i] for i in keep])


@pytest.fixture(scope="session")
def learnable_corpus(small_corpus) -> LabelledSet:
    """``small_corpus`` less complaints whose codes are too rare to learn with cv=3."""
    return learnable(small_corpus)


@pytest.fixture(scope="session")
def tiny_model(learnable_corpus, taxonomy):
    """A model fitted in about a second on ``learnable_corpus``: for artefact and CLI mechanics, not quality."""
    from triage.train import build_model

    return build_model(taxonomy).fit(learnable_corpus.texts, learnable_corpus.y())


# -- databases -----------------------------------------------------------------------------------------------

@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database on the server of ``server_url``, dropped on leaving; the
    connection error escapes if no server answers."""
    server = make_url(server_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL database made for this test session (dropped at its end); skips if unreachable."""
    from triage.db import upgrade

    server = os.environ.get("TRIAGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_database(server, "triage_test"))
        except Exception as exc:  # any connection failure: no PostgreSQL here
            pytest.skip(f"PostgreSQL not reachable at {make_url(server).render_as_string(hide_password=True)}: "
                        f"{type(exc).__name__}")
        upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty, migrated database: a new SQLite file, or the session's PostgreSQL database emptied."""
    from triage.db import Base, make_engine, upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'triage.db'}"
        upgrade(url)
        return url
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)  # every table: no test sees another's rows
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def db(database_url: str):
    """A session on the test database, for setting up and checking what the API or the page stored."""
    from triage.db import make_engine, make_sessions

    engine = make_engine(database_url)
    with make_sessions(engine)() as session:
        yield session
    engine.dispose()


# -- a real server -------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def triage_cli() -> Callable[..., str]:
    """``triage_cli(*args, env=...)`` runs the ``triage`` command and returns its stdout (fails on an error)."""
    def run(*args: str, env: dict) -> str:
        return subprocess.run([*TRIAGE, *args], env=env, capture_output=True, text=True, check=True).stdout
    return run


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[..., str]]:
    """``start_server(env, workers=2)`` runs ``triage serve`` on a free loopback port with ``env`` and returns
    its base URL once ``/healthz`` answers (its log, JSON lines: ``tmp_path / f"server-{port}.log"``); every
    server started is stopped after the test.
    ``start_server.processes[base_url]`` is its process (with one worker, the process that serves)."""
    running = []

    def start(env: dict, workers: int = 2, access_log: bool = False) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        log_path = tmp_path / f"server-{port}.log"
        log = open(log_path, "w")
        process = subprocess.Popen([*TRIAGE, "serve", "--port", str(port), "--workers", str(workers),
                                    "--access-log" if access_log else "--no-access-log"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        running.append((process, log))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    start.processes[base] = process
                    return base
            except httpx.TransportError:
                time.sleep(0.2)
            assert time.monotonic() < deadline, "triage serve did not answer within 60 s"

    start.processes = {}
    yield start
    for process, log in running:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def kukar_with(tmp_path: Path, body: str, addition: str, name: str = "kukar-local.yaml") -> Path:
    """A copy of the kukar deployment (its SOTK file) with ``addition`` (YAML ``key: value`` pairs, e.g. a
    ``focal_point``) added to body ``body``: the codes, and so the shipped model, are unchanged."""
    text = (PROJECT_ROOT / "triage" / "deployments" / "sotk" / "kukar.yaml").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith(f"  {body}:"))
    path = tmp_path / name
    path.write_text(text.replace(line, line.rstrip()[:-1] + f", {addition}}}"), encoding="utf-8")
    return path

