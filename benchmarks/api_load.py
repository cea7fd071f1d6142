"""Open-loop load test of ``POST /v1/complaints`` against ``triage serve``, with ``GET /healthz`` as the
baseline measured in the same run: p50, p99 and non-2xx at fixed arrival rates.

For each database the script makes a throwaway database, creates an API key with ``triage apikey create``,
starts ``triage serve --workers N`` on a free loopback port and waits for ``/healthz``. Then, for each path
(the baseline ``GET /healthz`` first, then ``POST /v1/complaints``) and each rate, a *separate process*
sends requests on a fixed schedule: request ``i`` is due at ``start + i / rate``, whether or not earlier
ones were answered (open loop; as many keep-alive connections as needed). Latency is measured from the
time a request was *due*, not from when it was sent, so a server (or generator) that falls behind shows it
in the latency instead of hiding it by sending less (no coordinated omission). The generator writes
pre-built HTTP/1.1 requests over raw asyncio streams, so it costs the shared cores little; its own lag
(how late requests were sent) is reported too.

    .venv/bin/python benchmarks/api_load.py                      # SQLite, 100 and 200 requests/s, 2 workers
    .venv/bin/python benchmarks/api_load.py --db sqlite --db postgres --rate 100 --duration 30

Every run is bounded by ``--duration`` and ``--max-requests``; only 127.0.0.1 is ever contacted. Complaint
texts come from ``training_data/kukar/test.jsonl``. The generator shares the machine's cores with the
server: figures on a 2-core machine are pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
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
PATHS = {"healthz": ("GET", "/healthz"), "complaints": ("POST", "/v1/complaints")}


@dataclass
class Result:
    database: str
    path: str
    rate: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0
    send_lag: list[float] = field(default_factory=list)
    label: str = ""
    """The request as the table names it (default: ``PATHS[path]``)."""

    def row(self) -> list[str]:
        lat = sorted(self.latencies)
        lag = sorted(self.send_lag)

        def pct(values: list[float], p: float) -> str:
            return f"{values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000:.1f}" if values else "-"

        n = len(lat) + self.errors
        ok = sum(count for status, count in self.statuses.items() if 200 <= status < 300)
        request = self.label or f"{PATHS[self.path][0]} {PATHS[self.path][1]}"
        return [self.database, request, f"{self.rate:g}/s", str(n),
                str(n - ok), f"{ok / self.elapsed:.1f}" if self.elapsed else "-", pct(lat, 50), pct(lat, 90),
                pct(lat, 99), f"{lat[-1] * 1000:.1f}" if lat else "-", pct(lag, 99)]


HEADER = ["database", "request", "rate", "requests", "non-2xx", "2xx/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
          "send lag p99 ms"]


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


# -- the generator (its own process) ------------------------------------------------------------------------

def requests_for(path: str, token: str, bodies: list[str]) -> list[bytes]:
    method, target = PATHS[path]
    head = f"{method} {target} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n"
    if method == "GET":
        return [(head + "\r\n").encode()]
    made = []
    for text in bodies:
        body = json.dumps({"text": text, "channel": "web"}).encode()
        made.append((head + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                    + body)
    return made


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bool]:
    """Send one request, read its response; (status, whether the connection may be kept)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, keep = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and b"close" in value.lower():
            keep = False
    await reader.readexactly(length)
    return status, keep


async def _open_loop(port: int, requests: list[bytes], rate: float, total: int, result: Result) -> None:
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    start = time.perf_counter() + 0.1

    async def one(i: int) -> None:
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        result.send_lag.append(max(0.0, time.perf_counter() - due))
        request = requests[i % len(requests)]
        try:
            while idle:  # a kept-alive connection the server may have closed meanwhile (its keep-alive timeout)
                connection = idle.pop()
                try:
                    status, keep = await asyncio.wait_for(_exchange(*connection, request), 30)
                    break
                except (OSError, asyncio.IncompleteReadError) as exc:
                    connection[1].close()
                    if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                        raise
            else:
                connection = await asyncio.open_connection(HOST, port)
                status, keep = await asyncio.wait_for(_exchange(*connection, request), 30)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, IndexError):
            result.errors += 1
            return
        result.latencies.append(time.perf_counter() - due)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if keep:
            idle.append(connection)
        else:
            connection[1].close()

    await asyncio.gather(*(one(i) for i in range(total)))
    result.elapsed = time.perf_counter() - start
    for _, writer in idle:
        writer.close()


def generate(port: int, token: str, path: str, rate: float, total: int, bodies: list[str], database: str,
             out: multiprocessing.Queue, requests: list[bytes] | None = None, label: str = "") -> None:
    """Entry point of the generator process: one open-loop run, its Result put on ``out``. ``requests``:
    ready HTTP/1.1 requests sent in turn instead of ``path``'s (``label`` names them in the table)."""
    requests = requests or requests_for(path, token, bodies)
    result = Result(database, path, rate, label=label)
    asyncio.run(_open_loop(port, requests, rate, total, result))
    out.put(result)


def run_open_loop(base: str, token: str, database: str, path: str, rate: float, args: argparse.Namespace,
                  bodies: list[str], requests: list[bytes] | None = None, label: str = "") -> Result:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    total = min(args.max_requests, int(rate * args.duration))
    process = context.Process(target=generate, args=(int(base.rsplit(":", 1)[1]), token, path, rate, total, bodies,
                                                     database, out, requests, label))
    process.start()
    result = out.get()
    process.join()
    return result


# -- the run -------------------------------------------------------------------------------------------------

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
                        help="database(s) to test (default: sqlite)")
    parser.add_argument("--postgres-url", default=os.environ.get("TRIAGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
                        help="a PostgreSQL server on loopback, to make the throwaway database on")
    parser.add_argument("--rate", type=float, action="append", help="arrival rate(s), requests/s "
                                                                     "(default: 100 and 200)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run (at most 120)")
    parser.add_argument("--max-requests", type=int, default=10000, help="requests per run, at most")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--access-log", action="store_true", help="let the server log every request")
    args = parser.parse_args()
    args.rate = args.rate or [100.0, 200.0]
    args.duration = min(args.duration, 120.0)
    from sqlalchemy import make_url

    if make_url(args.postgres_url).host not in (HOST, "localhost"):
        parser.error("--postgres-url must be on loopback (127.0.0.1 or localhost)")

    bodies = texts()
    results: list[Result] = []
    for database in args.db or ["sqlite"]:
        if database == "postgres" and not postgres_reachable(args.postgres_url):
            print(f"skipping postgres: {make_url(args.postgres_url).render_as_string()} not reachable", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
            workdir = Path(tmp)
            with throwaway_database(database, workdir, args.postgres_url) as url, \
                    server(url, args.workers, workdir, args.access_log) as (base, token):
                print(f"{database}: server at {base}, {args.workers} workers", file=sys.stderr)
                run_open_loop(base, token, database, "complaints", 20.0,
                                     argparse.Namespace(duration=5, max_requests=100), bodies)  # warm both workers
                for path in PATHS:
                    for rate in args.rate:
                        results.append(run_open_loop(base, token, database, path, rate, args, bodies))
                        print("  ".join(results[-1].row()), file=sys.stderr)

    widths = [max(len(h), *(len(r.row()[i]) for r in results)) for i, h in enumerate(HEADER)] if results else []
    print(f"open loop, {args.duration:g} s per run, triage serve --workers {args.workers}, {os.cpu_count()} cores")
    print("  ".join(h.rjust(w) for h, w in zip(HEADER, widths)))
    for result in results:
        print("  ".join(c.rjust(w) for c, w in zip(result.row(), widths)))


if __name__ == "__main__":
    main()
