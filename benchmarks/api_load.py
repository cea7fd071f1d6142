"""Load test of ``POST /v1/complaints``: latency (p50, p99) and requests per second, SQLite and PostgreSQL.

For each database the script makes a throwaway database, creates an API key with ``triage apikey create``,
starts ``triage serve`` on a free loopback port as a subprocess, waits for ``/healthz`` and then drives it
from this (separate) process:

* ``open``: an open-loop run at a fixed arrival rate (``--rate``, default 100/s) for ``--duration`` seconds.
  Latency is measured from when each request was *due*, so a stalled server cannot hide its queue
  (no coordinated omission). This is the run the target (p99 <= 50 ms at 100 requests/s) is judged by.
* ``closed``: ``--concurrency`` clients sending back to back, to see the most the server sustains.

Every run is bounded by ``--duration`` and ``--max-requests``; only 127.0.0.1 is ever contacted. Complaint
texts come from ``training_data/kukar/test.jsonl``. Example::

    .venv/bin/python benchmarks/api_load.py                       # sqlite and postgres (if reachable)
    .venv/bin/python benchmarks/api_load.py --db sqlite --rate 150 --duration 20 --workers 2

The load generator shares the machine's cores with the server: figures on a 2-core machine are pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TRIAGE = [sys.executable, "-c", "from triage.cli import main; main()"]


@dataclass
class Result:
    database: str
    mode: str
    target: str
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0

    def row(self) -> list[str]:
        ok = self.statuses.get(201, 0)
        lat = sorted(self.latencies)

        def pct(p: float) -> str:
            if not lat:
                return "-"
            return f"{lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] * 1000:.1f}"

        n = len(self.latencies) + self.failures
        return [self.database, self.mode, self.target, str(n), str(n - ok), f"{ok / self.elapsed:.1f}" if self.elapsed else "-",
                pct(50), pct(90), pct(99), f"{max(lat) * 1000:.1f}" if lat else "-",
                f"{statistics.fmean(lat) * 1000:.1f}" if lat else "-"]


HEADER = ["database", "mode", "target", "requests", "non-201", "rps(201)", "p50 ms", "p90 ms", "p99 ms", "max ms",
          "mean ms"]


def texts() -> list[str]:
    path = ROOT / "training_data" / "kukar" / "test.jsonl"
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def throwaway_database(kind: str, workdir: Path, postgres_url: str):
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    from sqlalchemy import create_engine, make_url, text

    server = make_url(postgres_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"triage_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def server(url: str, workers: int, workdir: Path, access_log: bool):
    env = os.environ | {"TRIAGE_DATABASE_URL": url}
    made = subprocess.run([*TRIAGE, "apikey", "create", "--name", "bench", "--role", "handler"], env=env,
                          capture_output=True, text=True, check=True)
    token = made.stdout.strip().splitlines()[-1]
    port = free_port()
    log = open(workdir / "server.log", "w")
    process = subprocess.Popen([*TRIAGE, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers),
                                "--access-log" if access_log else "--no-access-log"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}; see {workdir / 'server.log'}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def warm_up(client: httpx.AsyncClient, bodies: list[str], n: int) -> None:
    for i in range(n):
        await client.post("/v1/complaints", json={"text": bodies[i % len(bodies)]})


async def open_loop(client: httpx.AsyncClient, bodies: list[str], rate: float, duration: float, max_requests: int,
                    result: Result) -> None:
    total = min(max_requests, int(rate * duration))
    start = time.perf_counter() + 0.05

    async def one(i: int) -> None:
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            response = await client.post("/v1/complaints", json={"text": bodies[i % len(bodies)], "channel": "web"})
        except httpx.HTTPError:
            result.failures += 1
            return
        result.latencies.append(time.perf_counter() - due)
        result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1

    await asyncio.gather(*(one(i) for i in range(total)))
    result.elapsed = time.perf_counter() - start


async def closed_loop(client: httpx.AsyncClient, bodies: list[str], concurrency: int, duration: float,
                      max_requests: int, result: Result) -> None:
    start = time.perf_counter()
    stop = start + duration
    sent = 0

    async def worker() -> None:
        nonlocal sent
        while time.perf_counter() < stop and sent < max_requests:
            i, sent = sent, sent + 1
            began = time.perf_counter()
            try:
                response = await client.post("/v1/complaints", json={"text": bodies[i % len(bodies)]})
            except httpx.HTTPError:
                result.failures += 1
                continue
            result.latencies.append(time.perf_counter() - began)
            result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - start


async def drive(base: str, token: str, database: str, args: argparse.Namespace) -> list[Result]:
    bodies = texts()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=30) as client:
        await warm_up(client, bodies, 50)
        results = []
        for rate in args.rate:
            result = Result(database, "open", f"{rate:g}/s")
            await open_loop(client, bodies, rate, args.duration, args.max_requests, result)
            results.append(result)
        if args.concurrency:
            result = Result(database, "closed", f"{args.concurrency} clients")
            await closed_loop(client, bodies, args.concurrency, args.duration, args.max_requests, result)
            results.append(result)
        return results


def postgres_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"],
                        help="database(s) to test (default: both; postgres skipped if unreachable)")
    parser.add_argument("--postgres-url", default=os.environ.get("TRIAGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
                        help="a PostgreSQL server on loopback, to make the throwaway database on")
    parser.add_argument("--rate", type=float, action="append", help="open-loop arrival rate(s), requests/s "
                                                                     "(default: 100)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run (at most 120)")
    parser.add_argument("--max-requests", type=int, default=5000, help="requests per run, at most")
    parser.add_argument("--concurrency", type=int, default=8, help="clients of the closed-loop run (0: skip it)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--access-log", action="store_true", help="let the server log every request")
    args = parser.parse_args()
    args.rate = args.rate or [100.0]
    args.duration = min(args.duration, 120.0)
    from sqlalchemy import make_url

    if make_url(args.postgres_url).host not in (HOST, "localhost"):
        parser.error("--postgres-url must be on loopback (127.0.0.1 or localhost)")

    results: list[Result] = []
    for database in args.db or ["sqlite", "postgres"]:
        if database == "postgres" and not postgres_reachable(args.postgres_url):
            print(f"skipping postgres: {make_url(args.postgres_url).render_as_string()} not reachable", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
            workdir = Path(tmp)
            with throwaway_database(database, workdir, args.postgres_url) as url, \
                    server(url, args.workers, workdir, args.access_log) as (base, token):
                print(f"{database}: server at {base}, {args.workers} workers", file=sys.stderr)
                results.extend(asyncio.run(drive(base, token, database, args)))

    widths = [max(len(h), *(len(r.row()[i]) for r in results)) for i, h in enumerate(HEADER)] if results else []
    print("  ".join(h.rjust(w) for h, w in zip(HEADER, widths)))
    for result in results:
        print("  ".join(c.rjust(w) for c, w in zip(result.row(), widths)))


if __name__ == "__main__":
    main()
