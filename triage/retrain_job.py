"""Retraining as a job: one at a time, with a status anyone can read, safe against a crash of its holder.

Files, under the models directory's ``.retrain/`` folder (next to the models the job makes)::

    .retrain/lock             held (``flock``) by the process that retrains; holds its job, PID, heartbeat
    .retrain/jobs/<job>.json  the status of each job: state, stage, percent, heartbeat, result or error
    .retrain/jobs/<job>.log   what a job started by the API wrote on stdout and stderr

**One at a time.** The lock is an exclusive ``flock`` on ``.retrain/lock``. The kernel drops it when its
holder's process ends, however it ends (exception, kill -9, power loss of the container), so a lock left by
a dead process is simply taken over by the next job; the file's PID and heartbeat only say who holds it.
(``flock`` needs the models directory on a local file system, not NFS.)

**A crashed job changes nothing.** The serving model changes only at the very end of a successful run, by
the registry's atomic promotion. A job whose process died shows ``failed`` in its status: its state says
``running`` but its heartbeat stopped (or its process is gone).

The API starts a job with :func:`start_job`: it takes the lock itself (so a second request gets a
:class:`ConflictError` at once), then hands the locked file to a ``triage retrain --job-id`` child process,
which keeps it until it ends. The CLI runs :func:`run_job` in its own process.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from triage.errors import ConflictError, NotFoundError, TriageError
from triage.settings import Settings

if TYPE_CHECKING:  # retraining itself (scikit-learn) is imported only by the process that retrains
    from triage.retrain import Progress, RetrainResult

HEARTBEAT_SECONDS = 2.0
STALE_SECONDS = 30.0
"""A running job whose heartbeat is older than this has died."""

STATES: tuple[str, ...] = ("queued", "running", "promoted", "rejected", "dry_run", "failed")
FINISHED: frozenset[str] = frozenset({"promoted", "rejected", "dry_run", "failed"})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _folder(models_dir: str | Path) -> Path:
    return Path(models_dir) / ".retrain"


def new_job_id() -> str:
    """``rt-<UTC time>-<4 random hex>``: sortable and unique."""
    return f"rt-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"


class RetrainLock:
    """The one retraining lock of a models directory (see the module doc)."""

    def __init__(self, models_dir: str | Path) -> None:
        self.path = _folder(models_dir) / "lock"
        self.fd: int | None = None
        self.previous: dict | None = None

    def acquire(self, job: str) -> RetrainLock:
        """Take the lock for ``job`` or raise :class:`ConflictError` naming the job that holds it.

        ``previous`` is then what the file said before: the holder that died, if the last one did not
        finish cleanly.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _flock(fd, patience=_RELEASE_SECONDS if _holder_gone(_read_fd(fd)) else 0.0):
            holder = _read_fd(fd)
            os.close(fd)
            since = holder.get("started", "?")
            conflict = ConflictError(f"A retrain job is running already: job {holder.get('job', '?')} (pid "
                                     f"{holder.get('pid', '?')}, since {since}). Wait for it to finish; its "
                                     f"status is at GET /v1/retrain/{holder.get('job', '')}.")
            conflict.holder = holder
            raise conflict from None
        self.fd = fd
        self.previous = _read_fd(fd) or None
        self.write(job=job, pid=os.getpid(), host=os.uname().nodename, started=_now())
        return self

    @classmethod
    def adopt(cls, models_dir: str | Path, fd: int) -> RetrainLock:
        """The lock held through ``fd``, inherited from the process that took it."""
        lock = cls(models_dir)
        lock.fd = fd
        lock.write(**(_read_fd(fd) | {"pid": os.getpid()}))
        return lock

    def write(self, **content: object) -> None:
        """Replace what the lock file says (job, pid, started, heartbeat)."""
        assert self.fd is not None, "the lock is not held"
        data = json.dumps({**content, "heartbeat": _now()}).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def heartbeat(self) -> None:
        self.write(**{k: v for k, v in _read_fd(self.fd).items() if k != "heartbeat"})

    def release(self) -> None:
        """Let go of the lock (the file stays, saying who held it last and that it finished)."""
        if self.fd is not None:
            self.write(**(_read_fd(self.fd) | {"finished": _now()}))
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def detach(self) -> None:
        """Close this process's handle without unlocking: a child that inherited it holds the lock now."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


_RELEASE_SECONDS = 5.0
"""How long to wait for the kernel to release the lock of a holder that has just died."""


def _flock(fd: int, patience: float) -> bool:
    """Take the exclusive lock on ``fd``; try for ``patience`` seconds. True if taken."""
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def _holder_gone(holder: dict) -> bool:
    """True when the lock file names a process of this host that no longer runs (its lock is being freed)."""
    pid = holder.get("pid")
    here = os.uname().nodename
    if "finished" in holder or not isinstance(pid, int) or holder.get("host", here) != here:
        return False
    return not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _read_fd(fd: int | None) -> dict:
    if fd is None:
        return {}
    raw = os.pread(fd, 65536, 0)
    try:
        return json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return {}


_WRITING = threading.Lock()
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class JobStore:
    """Status files of retrain jobs, written atomically (a reader never sees half a file)."""

    def __init__(self, models_dir: str | Path) -> None:
        self.folder = _folder(models_dir) / "jobs"

    def path(self, job: str) -> Path:
        if not _JOB_ID.fullmatch(job or ""):
            raise NotFoundError(f"Tidak ada pekerjaan latih ulang '{job}'.")
        return self.folder / f"{job}.json"

    def write(self, job: str, **fields: object) -> dict:
        """Merge ``fields`` into the status of ``job`` (with a fresh heartbeat) and return it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with _WRITING:  # the heartbeat thread and the work write the same file
            status = self._read(job) or {"job": job, "created": _now()}
            status.update(fields, heartbeat=_now())
            fd, tmp = tempfile.mkstemp(prefix=f".{job}.", dir=self.folder)
            with os.fdopen(fd, "w") as handle:
                json.dump(status, handle, indent=2, default=str)
            os.replace(tmp, self.path(job))
        return status

    def read(self, job: str) -> dict:
        """The status of ``job``; a ``running`` job whose holder died reads as ``failed``.

        :class:`NotFoundError` for an unknown job.
        """
        status = self._read(job)
        if status is None:
            raise NotFoundError(f"Tidak ada pekerjaan latih ulang '{job}'. Periksa id yang dikembalikan "
                                "POST /v1/retrain.")
        if status.get("state") not in FINISHED and _dead(status):
            status |= {"state": "failed", "error": f"the job's process (pid {status.get('pid')}) stopped "
                                                   "without finishing; the serving model was not changed."}
        return status

    def _read(self, job: str) -> dict | None:
        try:
            return json.loads(self.path(job).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None


def _dead(status: dict) -> bool:
    """True when the process of an unfinished job is gone or its heartbeat stopped."""
    pid = status.get("pid")
    if isinstance(pid, int) and status.get("host") == os.uname().nodename and not _alive(pid):
        return True
    beat = status.get("heartbeat")
    if not beat:
        return False
    age = (datetime.now(timezone.utc) - datetime.fromisoformat(beat)).total_seconds()
    return age > STALE_SECONDS


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")
    except OSError:
        return False


class _Heartbeat:
    """Refresh the lock's and the job's heartbeat every few seconds while the work runs."""

    def __init__(self, lock: RetrainLock, store: JobStore, job: str) -> None:
        self.lock, self.store, self.job = lock, store, job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retrain-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            self.lock.heartbeat()
            self.store.write(self.job)


def run_job(settings: Settings, *, dry_run: bool = False, job: str | None = None, lock_fd: int | None = None,
            progress: Callable[[Progress], None] | None = None) -> RetrainResult:
    """Retrain under the lock, keeping the job's status file current; returns :func:`run_retrain`'s result.

    ``lock_fd``: the lock inherited from :func:`start_job`; without it the lock is taken here
    (:class:`ConflictError` if another job holds it). Errors are recorded in the status and re-raised.
    """
    from triage.retrain import run_retrain

    job = job or new_job_id()
    store = JobStore(settings.models_dir)
    lock = (RetrainLock.adopt(settings.models_dir, lock_fd) if lock_fd is not None
            else RetrainLock(settings.models_dir).acquire(job))
    try:
        store.write(job, state="running", stage="start", percent=0, message="starting", pid=os.getpid(),
                    host=os.uname().nodename, started=_now(), dry_run=dry_run)

        def on_progress(step: Progress) -> None:
            store.write(job, stage=step.stage, percent=step.percent, message=step.message)
            if progress is not None:
                progress(step)

        with _Heartbeat(lock, store, job):
            try:
                result = run_retrain(settings, dry_run=dry_run, progress=on_progress)
            except BaseException as exc:
                message = str(exc) if isinstance(exc, TriageError) else f"{type(exc).__name__}: {exc}"
                store.write(job, state="failed", finished=_now(), error=message)
                raise
        store.write(job, state=result.status, percent=100, finished=_now(), version=result.version,
                    champion=result.champion, passed=result.verdict.passed, reasons=result.verdict.reasons,
                    report={k: str(v) for k, v in result.report_paths.items()})
        return result
    finally:
        lock.release()


def start_job(settings: Settings, *, dry_run: bool = False) -> dict:
    """Start a retrain in a child process and return its status at once (state ``queued``).

    :class:`ConflictError` if a job is running. The child inherits the lock taken here, so no other job
    can start in between; if the child dies, the kernel releases the lock and the status reads ``failed``.
    """
    job = new_job_id()
    lock = RetrainLock(settings.models_dir).acquire(job)
    store = JobStore(settings.models_dir)
    try:
        status = store.write(job, state="queued", stage="queued", percent=0, message="waiting to start",
                             dry_run=dry_run, host=os.uname().nodename)
        command = [sys.executable, "-m", "triage", "retrain", "--job-id", job, "--lock-fd", str(lock.fd)]
        if dry_run:
            command.append("--dry-run")
        env = os.environ | settings_environment(settings)
        with open(store.folder / f"{job}.log", "ab") as log:
            child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, pass_fds=(lock.fd,), start_new_session=True)
        status = status | {"pid": child.pid}  # the child writes its status itself from now on
    except BaseException:
        lock.release()
        raise
    lock.detach()
    threading.Thread(target=_reap, args=(child, store, job), name=f"reap-{job}", daemon=True).start()
    return status


def _reap(child: subprocess.Popen, store: JobStore, job: str) -> None:
    """Wait for the child (no zombie left behind); record a crash the child could not record itself."""
    code = child.wait()
    status = store._read(job) or {}
    if status.get("state") not in FINISHED:
        store.write(job, state="failed", finished=_now(),
                    error=f"the job's process ended with exit code {code} before finishing; the serving "
                          "model was not changed.")


def settings_environment(settings: Settings) -> dict[str, str]:
    """``TRIAGE_*`` variables that make a child process read the same ``settings``."""
    env = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is not None:
            env[f"TRIAGE_{name.upper()}"] = str(value)
    return env
