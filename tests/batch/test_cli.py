"""``triage batch`` as data staff run it: real processes, files, exit codes, a kill in the middle, and the
review queue in a real SQLite database file."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from triage.settings import PROJECT_ROOT

from .conftest import EXAMPLE, MODEL


def test_the_readme_example_runs_from_a_fresh_clone(tmp_path, cli):
    out = tmp_path / "out.csv"
    result = cli("batch", "examples/backlog.csv", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "classified 197 of 200 rows" in result.stdout
    assert "3 bad rows" in result.stdout and str(tmp_path / "out.errors.csv") in result.stdout
    assert len(pd.read_csv(out)) == 197
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize("args, message", [
    (["missing.csv"], r"missing\.csv: no such input file"),
    (["examples/backlog.txt"], None),
    ([str(EXAMPLE), "--text-column", "isi"],
     r"backlog\.csv, field 'isi': no text column 'isi' \(columns: id, received, channel, text\)\. "
     r"Name the text column with --text-column"),
    ([str(EXAMPLE), "--id-column", "nomor"], r"backlog\.csv, field 'nomor': no id column 'nomor'"),
    ([str(EXAMPLE), "--format", "xls"], r"backlog\.csv: unknown format 'xls'"),
])
def test_bad_arguments_are_one_line_errors_naming_file_and_column(tmp_path, cli, args, message):
    if args == ["examples/backlog.txt"]:
        source = tmp_path / "backlog.txt"
        source.write_text("id,text\n1,jalan rusak\n")
        args, message = [str(source)], r"backlog\.txt: cannot tell the format from the extension '\.txt'"
    result = cli("batch", *args, "-o", str(tmp_path / "out.csv"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert re.search(message, result.stderr), result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_an_interrupted_job_resumes_where_it_stopped(tmp_path, cli, typo_backlog):
    args = ["batch", str(typo_backlog), "--chunk-size", "250", "--jobs", "1", "--model", MODEL]
    reference = cli(*args, "-o", str(tmp_path / "reference.csv"))
    assert reference.returncode == 0, reference.stderr

    out = tmp_path / "out.csv"
    parts = tmp_path / ".out.csv.parts"
    process = subprocess.Popen([sys.executable, "-m", "triage", *args, "-o", str(out)], cwd=PROJECT_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list(parts.glob("*.done.json"))) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    finished = {p.name: p.stat().st_mtime_ns for p in parts.glob("part-*")}
    done = len([name for name in finished if name.endswith(".done.json")])
    assert 3 <= done < 16, "the job should be killed part way (16 chunks)"
    assert not out.exists(), "the output is only written when every chunk is done"

    rerun = subprocess.run([sys.executable, "-m", "triage", *args, "-o", str(out)], cwd=PROJECT_ROOT,
                           capture_output=True, text=True, timeout=120)

    assert rerun.returncode == 0, rerun.stderr
    resumed = int(re.search(r"resumed: (\d+) of 16 chunks were done already", rerun.stdout).group(1))
    assert resumed == done, "completed parts are kept, not recomputed"
    assert out.read_bytes() == (tmp_path / "reference.csv").read_bytes()
    assert not parts.exists()


def test_to_queue_stores_pending_complaints_once(tmp_path, cli):
    url = f"sqlite:///{tmp_path / 'history.db'}"
    env = {"TRIAGE_DATABASE_URL": url}
    out = tmp_path / "out.csv"

    first = cli("batch", str(EXAMPLE), "-o", str(out), "--to-queue", "--model", MODEL, env=env)
    second = cli("batch", str(EXAMPLE), "-o", str(out), "--to-queue", "--model", MODEL, env=env)

    assert first.returncode == 0, first.stderr
    assert "queued 197 complaints for review; 0 were queued already" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "queued 0 complaints for review; 197 were queued already" in second.stdout
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = pd.read_sql(text("SELECT external_id, channel, received_at, status, model_version, "
                                "suggested_opd, opd_confidence, suggestion FROM complaints "
                                "ORDER BY external_id"), connection)
    engine.dispose()
    output = pd.read_csv(out, dtype=str, keep_default_na=False).sort_values("id").reset_index(drop=True)
    assert len(rows) == 197 and set(rows["status"]) == {"pending"}
    assert rows["external_id"].tolist() == output["id"].tolist()
    assert rows["suggested_opd"].tolist() == output["suggested_opd"].tolist()
    assert rows["channel"].tolist() == output["channel"].tolist()
    assert [str(r)[:10] for r in rows["received_at"]] == output["received"].tolist()
    stored = json.loads(rows["suggestion"][0])
    assert stored["model_version"] == MODEL and len(stored["opd"]["alternatives"]) == 3


def test_the_cli_runs_on_a_dask_scheduler(tmp_path, cli):
    distributed = pytest.importorskip("distributed")
    local = tmp_path / "local.csv"
    assert cli("batch", str(EXAMPLE), "-o", str(local), "--model", MODEL).returncode == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        result = cli("batch", str(EXAMPLE), "-o", str(tmp_path / "dask.csv"), "--model", MODEL,
                     "--engine", "dask", "--scheduler", cluster.scheduler_address, "--chunk-size", "50")
    assert result.returncode == 0, result.stderr
    assert "classified 197 of 200 rows" in result.stdout
    assert (tmp_path / "dask.csv").read_bytes() == local.read_bytes()


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path, cli):
    result = cli("batch", str(EXAMPLE), "-o", str(tmp_path / "out.csv"), "--scheduler", "tcp://127.0.0.1:9",
                 env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_job_never_writes_over_its_own_input(tmp_path):
    """Re-running the fixed errors file of an earlier job into that job's output must not delete it."""
    import subprocess
    import sys

    fixed = tmp_path / "res.errors.csv"
    fixed.write_text("id,text\n1,jalan rusak parah di desa kami\n")
    result = subprocess.run([sys.executable, "-m", "triage", "batch", str(fixed), "-o", str(tmp_path / "res.csv")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "overwrite its own input" in result.stderr
    assert fixed.read_text().startswith("id,text")
