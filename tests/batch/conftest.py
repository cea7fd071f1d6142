"""Fixtures of the batch tests: small backlogs in every format and a way to run the job.

``backlog_frame`` is the shipped example (``examples/backlog.csv``: 197 complaints and 3 bad rows);
``typo_backlog`` is a few thousand complaints with growing vocabulary (``benchmarks/backlog.py``), for the
tests that need several chunks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from triage import batch
from triage.settings import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "examples" / "backlog.csv"
MODEL = "kukar-seed"


def _job(input: Path, output: Path, **kwargs) -> batch.BatchJob:
    kwargs.setdefault("models_dir", PROJECT_ROOT / "models")
    kwargs.setdefault("model_version", MODEL)
    return batch.prepare(input, output, **kwargs)


def _cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=PROJECT_ROOT, timeout=timeout)


@pytest.fixture
def job():
    """``job(input, output, **options)``: a checked :class:`~triage.batch.BatchJob` on the shipped model."""
    return _job


@pytest.fixture
def cli():
    """``cli(*args, env=...)``: ``triage ARGS`` as a user runs it, in its own process."""
    return _cli


@pytest.fixture(scope="session")
def backlog_frame() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def typo_backlog(tmp_path_factory) -> Path:
    """4,000 complaints with typos, as CSV with an id and a channel column."""
    sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
    try:
        from backlog import backlog
    finally:
        sys.path.pop(0)
    texts = backlog(4000, seed=11)
    path = tmp_path_factory.mktemp("typo") / "typo.csv"
    pd.DataFrame({"id": [f"T{i:05d}" for i in range(len(texts))], "channel": "sms", "text": texts}).to_csv(
        path, index=False)
    return path
