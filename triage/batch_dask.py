"""The ``dask`` engine of :mod:`triage.batch`: the same chunks, classified on a Dask distributed cluster.

This process reads the input and writes the parts, streaming, exactly as the local engine does; workers
receive a chunk, classify it with the model they loaded once (:func:`triage.batch.suggester_for` keeps it
per worker thread, keyed by models directory, deployment and version) and send back the chunk with its
suggestion columns and bad rows. So workers need triage installed and the models directory at the same path,
but no shared file system, and the output is byte for byte the local engine's. At most two chunks per
worker thread are in flight, so memory stays flat on both sides.

Without a scheduler address a ``LocalCluster`` of ``jobs`` single-threaded worker processes is started
and stopped with the job.
"""

from __future__ import annotations

from triage.batch import BatchJob, Chunk, _Runner, classify, suggester_for, write_part


def classify_on_worker(job: BatchJob, chunk: Chunk):
    """Run on a worker: the chunk's good rows with suggestion columns, and its bad rows."""
    suggester = suggester_for(job.models_dir, job.deployment, job.model_version, len(chunk.frame))
    return classify(job, chunk, suggester)


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
        self.capacity = 2 * max(sum(self.client.nthreads().values()), 1)

    def submit(self, chunk: Chunk):
        return self.client.submit(classify_on_worker, self.job, chunk, pure=False)

    def wait_some(self, futures: list) -> list:
        from distributed import wait

        return list(wait(futures, return_when="FIRST_COMPLETED").done)

    def finish(self, future, index: int) -> dict:
        good, problems = future.result()
        future.release()
        return write_part(self.job, index, good, problems)

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
