"""The same job on one process, a process pool and a Dask cluster writes the same bytes; a job resumes only
what it started itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from triage import batch
from triage.errors import ConflictError


class Interrupt(Exception):
    """Stands in for a kill after some chunks are done."""


def interrupt_after(chunks: int):
    seen = []

    def progress(rows: int) -> None:
        seen.append(rows)
        if len(seen) == chunks:
            raise Interrupt

    return progress


@pytest.fixture(scope="module")
def reference(tmp_path_factory, typo_backlog):
    """The typo backlog classified on one process, in chunks of 500."""
    from .conftest import _job

    out = tmp_path_factory.mktemp("reference") / "out.csv"
    batch.run(_job(typo_backlog, out, chunk_size=500), jobs=1)
    return out.read_bytes()


def test_a_process_pool_writes_what_one_process_writes(tmp_path, job, typo_backlog, reference):
    out = tmp_path / "out.csv"
    summary = batch.run(job(typo_backlog, out, chunk_size=500), jobs=2)
    assert summary.chunks == 8 and summary.classified == 4000
    assert out.read_bytes() == reference


def test_dask_on_a_local_cluster_writes_what_the_local_engine_writes(tmp_path, job, typo_backlog, reference):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "out.csv"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        summary = batch.run(job(typo_backlog, out, chunk_size=500), engine="dask",
                            scheduler=cluster.scheduler_address)
    assert summary.chunks == 8 and summary.classified == 4000
    assert summary.notes == []  # the workers see the files: they read the input and write the parts
    assert out.read_bytes() == reference


def _unshare_works() -> bool:
    return shutil.which("unshare") is not None and \
        subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs mount namespaces (unshare -rm)")
def test_dask_workers_without_the_files_classify_chunks_this_process_reads(tmp_path, job, typo_backlog,
                                                                          reference):
    """A worker on a 'machine' without the job's files: its own mount namespace, an empty file system over
    the job's folder. This process reads the input and writes the parts, and says so."""
    distributed = pytest.importorskip("distributed")
    source = tmp_path / "in.csv"
    source.write_bytes(typo_backlog.read_bytes())
    dask = Path(sys.executable).with_name("dask")
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        worker = subprocess.Popen(
            ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs none '{tmp_path}' && exec '{dask}' worker "
             f"{cluster.scheduler_address} --nthreads 1 --nworkers 1 --no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client.wait_for_workers(1, timeout=60)
            summary = batch.run(job(source, tmp_path / "out.csv", chunk_size=500), engine="dask",
                                scheduler=cluster.scheduler_address)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert summary.chunks == 8 and summary.classified == 4000
    assert any("no shared file system" in note for note in summary.notes)
    assert (tmp_path / "out.csv").read_bytes() == reference


def test_a_worker_sees_the_job_files_only_with_the_same_manifest_and_input(tmp_path, job, typo_backlog):
    from triage.batch_dask import sees_job_files

    this = job(typo_backlog, tmp_path / "out.csv")
    batch._open_parts(this, restart=True)
    manifest = (this.parts_dir / "manifest.json").read_text()
    assert sees_job_files(str(this.input), str(this.parts_dir), manifest)
    assert not sees_job_files(str(this.input), str(this.parts_dir), manifest + "\n")
    assert not sees_job_files(str(tmp_path / "elsewhere.csv"), str(this.parts_dir), manifest)
    assert not sees_job_files(str(this.input), str(tmp_path / ".other.parts"), manifest)


def test_a_resumed_job_skips_finished_chunks(tmp_path, job, typo_backlog, reference):
    out = tmp_path / "out.csv"
    with pytest.raises(Interrupt):
        batch.run(job(typo_backlog, out, chunk_size=500), jobs=1, progress=interrupt_after(3))
    assert not out.exists()

    summary = batch.run(job(typo_backlog, out, chunk_size=500), jobs=1)

    assert (summary.resumed_chunks, summary.chunks, summary.rows) == (3, 8, 4000)
    assert out.read_bytes() == reference


def test_parts_of_another_input_are_refused_not_mixed_in(tmp_path, job, typo_backlog):
    source = tmp_path / "in.csv"
    source.write_bytes(typo_backlog.read_bytes())
    out = tmp_path / "out.csv"
    with pytest.raises(Interrupt):
        batch.run(job(source, out, chunk_size=500), jobs=1, progress=interrupt_after(2))
    source.write_bytes(typo_backlog.read_bytes().replace(b"jalan", b"jalan raya", 1))

    with pytest.raises(ConflictError, match=r"\.out\.csv\.parts holds an unfinished job that does not match "
                                            r"this one \(input_size was .*input_sha256 was .*--restart"):
        batch.run(job(source, out, chunk_size=500), jobs=1)
    summary = batch.run(job(source, out, chunk_size=500), jobs=1, restart=True)
    assert summary.resumed_chunks == 0 and summary.rows == 4000


def test_parts_of_another_chunk_size_are_refused(tmp_path, job, typo_backlog):
    out = tmp_path / "out.csv"
    with pytest.raises(Interrupt):
        batch.run(job(typo_backlog, out, chunk_size=500), jobs=1, progress=interrupt_after(1))
    with pytest.raises(ConflictError, match=r"chunk_size was '500', now '1000'"):
        batch.run(job(typo_backlog, out, chunk_size=1000), jobs=1)


def test_workers_emptying_their_word_caches_change_nothing(tmp_path, job, typo_backlog, reference,
                                                           monkeypatch):
    monkeypatch.setattr(batch, "CACHE_ROWS", 1200)
    out = tmp_path / "out.csv"
    batch.run(job(typo_backlog, out, chunk_size=500), jobs=1)
    assert out.read_bytes() == reference
