"""The ``dask`` engine of :mod:`triage.batch`: the same chunks, classified on a Dask distributed cluster.

With a shared file system (every worker reads the input and writes the parts folder at the paths this
process uses), workers do what the local engine's processes do: each reads its own chunk of the input (a
byte or row range, :func:`triage.batch.plan`), classifies it with the model it loaded once
(:func:`triage.batch.suggester_for` keeps it per worker thread, keyed by models directory, deployment and
version) and writes its part files; this process only plans the chunks, collects the done markers and
assembles the output. This is checked at the start: every worker is asked whether it sees this job's parts
folder (its manifest, same bytes) and input (same size and modification time) and can write there.

Otherwise (workers on machines without the files), this process reads the input and writes the parts,
streaming; workers receive a chunk, classify it and send it back with its suggestion columns and bad rows,
and the summary says so. Either way workers need triage installed and the models directory at the same path,
and the output is byte for byte the local engine's. At most two chunks per worker thread are in flight, so
memory stays flat on both sides.

Without a scheduler address a ``LocalCluster`` of ``jobs`` single-threaded worker processes is started
and stopped with the job.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from triage.batch import (
    _MANIFEST,
    BatchJob,
    Chunk,
    Slice,
    _run_slice,
    _Runner,
    classify,
    suggester_for,
    write_part,
)


def classify_on_worker(job: BatchJob, chunk: Chunk):
    """Run on a worker, for a chunk read by the driver: its good rows with suggestion columns, and its bad
    rows."""
    suggester = suggester_for(job.models_dir, job.deployment, job.model_version, len(chunk.frame))
    return classify(job, chunk, suggester)


def sees_job_files(input: str, parts_dir: str, manifest: str) -> bool:
    """Run on every worker: whether it reads the input and writes the parts folder that the driver does, at
    the same paths (the manifest the driver wrote, the input's size and modification time it recorded)."""
    try:
        parts = Path(parts_dir)
        if (parts / _MANIFEST).read_text() != manifest:
            return False
        recorded = json.loads(manifest)
        stat = os.stat(input)
        if (stat.st_size, stat.st_mtime_ns) != (recorded["input_size"], recorded["input_mtime_ns"]) or \
                not os.access(input, os.R_OK):
            return False
        probe = parts / f".probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except (OSError, ValueError, KeyError):
        return False


class DaskRunner(_Runner):
    """Chunks as tasks of a Dask distributed cluster (one at ``scheduler``, or a LocalCluster)."""

    def __init__(self, job: BatchJob, scheduler: str | None, jobs: int) -> None:
        from distributed import Client, LocalCluster

        self.job = job
        self.cluster = None
        if scheduler is None:
            self.cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(scheduler)  # waits distributed.comm.timeouts.connect (30 s) at most
            except (OSError, TimeoutError) as exc:
                raise OSError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}). Start "
                              "one with `dask scheduler` (see docs/batch.md) or check the address.") from None
        try:
            self.capacity = 2 * max(sum(self.client.nthreads().values()), 1)
            manifest = (job.parts_dir / _MANIFEST).read_text()
            seen = self.client.run(sees_job_files, str(job.input), str(job.parts_dir), manifest)
        except BaseException as exc:  # a worker without triage, say: stop the cluster started here
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.shares_files = bool(seen) and all(seen.values())
        """Whether every worker reads the input and writes the parts folder (then workers do the I/O)."""

    def submit(self, chunk: Chunk):
        return self.client.submit(classify_on_worker, self.job, chunk, pure=False)

    def submit_slice(self, piece: Slice, columns: tuple[str, ...]):
        return self.client.submit(_run_slice, self.job, piece, columns, pure=False)

    def wait_some(self, futures: list) -> list:
        from distributed import wait

        return list(wait(futures, return_when="FIRST_COMPLETED").done)

    def finish(self, future, index: int) -> dict:
        result = future.result()
        future.release()
        if isinstance(result, dict):  # a worker read the chunk and wrote its parts: its done marker
            return result
        good, problems = result
        return write_part(self.job, index, good, problems)

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
