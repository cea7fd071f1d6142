"""Where the server's CPU goes for ``POST /v1/complaints``: the whole request path under a real server.

Runs ``triage serve``'s application under uvicorn *in this process* (one worker, the same protocol and
settings ``triage serve`` uses) on a throwaway SQLite or PostgreSQL database, with cProfile on in every
thread (the event loop and the threads sync routes run in), while a separate process posts complaints
(texts from ``training_data/kukar/test.jsonl``) from ``--clients`` connections. Then it prints the server's
CPU per request and the functions that cost most, grouped by the part of the path they belong to::

    .venv/bin/python benchmarks/profile_api.py                   # SQLite, 600 requests, 8 clients
    .venv/bin/python benchmarks/profile_api.py --db postgres --requests 1000 --top 40

cProfile slows Python code down by about 2x, so read the shares, not the absolute times; the CPU per
request line is measured in a first pass without the profiler.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import pstats
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from api_load import DEFAULT_POSTGRES, texts, throwaway_database  # noqa: E402

PARTS = [  # (part of the request path, substrings of the profiled file names)
    ("model: features and heads", ("triage/vectorise.py", "triage/predict.py", "triage/normalise.py",
                                   "triage/stem.py", "triage/features.py", "scipy/", "numpy/")),
    ("suggestion: explanation and dict", ("triage/suggest.py",)),
    ("database: SQLAlchemy and driver", ("sqlalchemy/", "sqlite3", "psycopg/", "triage/complaints.py",
                                         "triage/db.py", "triage/apikeys.py")),
    ("validation and JSON: pydantic", ("pydantic/", "pydantic_core", "triage/api/schemas.py", "json/")),
    ("framework: FastAPI, Starlette, anyio", ("fastapi/", "starlette/", "anyio/", "triage/api/")),
    ("HTTP: uvicorn, h11, asyncio", ("uvicorn/", "h11/", "asyncio/", "selectors.py")),
    ("logging and metrics", ("logging/", "prometheus_client/", "triage/logs.py", "triage/metrics.py")),
]


def serve(url: str, port: int, ready: threading.Event, stop: threading.Event) -> None:
    import asyncio

    import uvicorn

    from triage.api.app import create_app
    from triage.settings import Settings

    settings = Settings(database_url=url)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, http="triage.api.server:TriageHTTPProtocol",
                            h11_max_incomplete_event_size=settings.max_header_bytes)
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        server.should_exit = True
        await task

    asyncio.run(run())


def post(port: int, token: str, bodies: list[str], clients: int, requests: int, out: multiprocessing.Queue) -> None:
    """The load: ``clients`` keep-alive connections posting back to back (a separate process)."""
    import http.client

    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(k: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for i in range(k, requests, clients):
            connection.request("POST", "/v1/complaints", body=json.dumps({"text": bodies[i % len(bodies)]}),
                               headers=headers)
            response = connection.getresponse()
            response.read()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(statuses)


def load(port: int, token: str, clients: int, requests: int) -> dict[int, int]:
    out: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(target=post, args=(port, token, texts(), clients,
                                                                              requests, out))
    process.start()
    statuses = out.get()
    process.join()
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("TRIAGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--requests", type=int, default=600, help="requests per pass (at most 5000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument("--top", type=int, default=30, help="functions listed, by own time")
    args = parser.parse_args()
    args.requests = min(args.requests, 5000)

    from triage.apikeys import create_key
    from triage.db import make_engine, make_sessions, upgrade

    with tempfile.TemporaryDirectory(prefix="triage-profile-") as tmp, \
            throwaway_database(args.db, Path(tmp), args.postgres_url) as url:
        upgrade(url)
        engine = make_engine(url)
        with make_sessions(engine)() as session:
            token = create_key(session, "profile", "handler")[1]
        engine.dispose()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]

        cpu, statuses = run_server(url, port, token, args, profiles=None)
        print(f"{args.db}: {args.requests} requests from {args.clients} clients, statuses {statuses}; server CPU "
              f"{cpu * 1000:.2f} ms per request (without the profiler)")
        profiles: list[cProfile.Profile] = []
        run_server(url, port, token, args, profiles=profiles)

    stats = pstats.Stats(*profiles)
    total = sum(tt for (_, _, tt, _, _) in stats.stats.values())
    shares: dict[str, float] = {}
    for (filename, _, _), (_, _, tt, _, _) in stats.stats.items():
        part = next((name for name, keys in PARTS if any(k in filename for k in keys)), "other")
        shares[part] = shares.get(part, 0.0) + tt
    print(f"\nown time by part of the request path (profiled, {total / args.requests * 1000:.2f} ms a request):")
    for part, seconds in sorted(shares.items(), key=lambda item: -item[1]):
        print(f"  {seconds / total:6.1%}  {seconds / args.requests * 1000:6.2f} ms  {part}")
    print()
    stats.sort_stats("tottime").print_stats(args.top)


def run_server(url: str, port: int, token: str, args: argparse.Namespace,
               profiles: list[cProfile.Profile] | None) -> tuple[float, dict[int, int]]:
    """Serve, warm up, then post ``args.requests`` complaints; the server's CPU per request and the statuses.
    With ``profiles``, every thread the server starts (the event loop's, the threadpool's) is profiled,
    from after the warm-up."""
    def start_profile(*_: object) -> None:  # runs first in every new thread: a profile of its own (CPU time)
        profile = cProfile.Profile(time.thread_time)
        profiles.append(profile)
        profile.enable()

    if profiles is not None:
        threading.setprofile(start_profile)
    ready, stop = threading.Event(), threading.Event()
    server = threading.Thread(target=serve, args=(url, port, ready, stop), daemon=True)
    server.start()
    ready.wait(60)
    load(port, token, args.clients, 100)  # warm up: model caches, connections, threads
    for profile in profiles or []:
        profile.clear()
    began = time.process_time()
    statuses = load(port, token, args.clients, args.requests)
    cpu = (time.process_time() - began) / args.requests
    threading.setprofile(None)
    for profile in profiles or []:
        profile.disable()
    stop.set()
    server.join(30)
    return cpu, statuses


if __name__ == "__main__":
    main()
