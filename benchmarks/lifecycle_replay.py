"""A month of Surabaya's complaints replayed through ``triage serve`` at real pace, compressed, by a handler
and the OPDs' focal points as scripted clients; then the outcome report checked against what was replayed,
and the p99 of a status change under an open-loop 100 requests/s (``GET /healthz`` the baseline, same run).

Data: Surabaya's Media Center export in the shared corpora (``../shared/corpora/jaal047__.../``,
``surabaya_mediacenter_2022-01_2023-06.csv``: received ``tanggal_keluhan`` and responded
``tanggal_ditanggapi`` per row, and the body it went to). It is read at run time for evaluation only and
never copied into the repository; without it the script prints why it skips and exits 0.

The replay. The rows received in ``--month`` (default 2022-03; UTC days, as the report counts them) are
played in the order of their dates, with a month of export time squeezed into ``--minutes`` of wall time
(2: about 22,000 export seconds a second). For each row, at its received moment:

* the handler client posts it (``POST /v1/complaints``, ``external_id`` the ticket id, ``received_at`` the
  export's date in WIB) and routes it at once (``POST .../decisions``): to the kukar OPD that
  ``training_data/realdata/surabaya_opd_map.csv`` gives the export's body, with that OPD's category
  (``triage.realdata.OPD_CATEGORY``); rows whose body has no kukar OPD (kelurahan offices...) get the
  model's suggestion;
* the focal point of that OPD (a ``focal_point`` key per OPD) acknowledges it, and at the row's responded
  moment settles it with a reply. Rows answered after the end of the month (the replay's horizon), or
  never, stay acknowledged: open with the OPD.

Rows the API refuses (a text with no letters) are counted and left out of what is expected.

Whose clock. The server stamps every event with its own clock, and the compressed replay cannot move it.
So the design is: ``received_at`` is the export's (the report's cohort, ``date_from``/``date_to`` the month,
is the export's month, and no complaint of another period mixes in), and the report's *counts* per OPD
(received, routed, with the OPD, settled, overdue, forwarded, archived, returned) must equal exactly what
was replayed. Its *time* figures (hours to route, days to settle) subtract a 2022 receipt from a stamp of
today, so they are not compared. Time is checked on the server's own stamps instead: for each settled
complaint, (settle stamp - intake's created_at) x compression is the replayed time to settle, printed beside
the export's (responded - received), median and p90, so a replay that fell behind shows it.

The load. After the check, a separate process (``benchmarks/api_load.py``'s open-loop generator, imported,
not copied) sends ``GET /healthz`` and then ``POST /v1/complaints/{id}/events`` (``progress`` with a note,
legal again and again from ``in_progress``) by one focal point on 40 complaints of its OPD, each at
``--rate`` requests/s for ``--duration`` seconds; latency from when each request was due.

    .venv/bin/python benchmarks/lifecycle_replay.py                 # SQLite, 2022-03 in 2 minutes, 100 req/s
    .venv/bin/python benchmarks/lifecycle_replay.py --db postgres --month 2022-11 --minutes 3

Only 127.0.0.1 is contacted. Client and server share the machine's cores: figures are pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_load  # noqa: E402  (the open-loop generator, the throwaway databases and the server)

from triage.outcomes import percentile  # noqa: E402
from triage.realdata import MAPS_DIR, OPD_CATEGORY, SOURCES, clean_text, load_map  # noqa: E402
from triage.settings import PROJECT_ROOT  # noqa: E402
from triage.taxonomy import load_taxonomy  # noqa: E402

WIB = ZoneInfo("Asia/Jakarta")
"""Surabaya's time zone: the export's dates are local times."""
COUNTS = ("received", "routed", "in_progress", "settled", "overdue", "forwarded", "archived", "returned")
LOAD_COMPLAINTS = 40
REPLY = "Sudah ditindaklanjuti oleh OPD sesuai laporan; terima kasih atas laporannya."


@dataclass
class Row:
    ticket: str
    text: str
    body: str
    received: datetime
    responded: datetime | None


@dataclass
class Replayed:
    """What the clients did, to compare with the report: per OPD, the counts the report must show."""

    expected: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    refused: int = 0
    failed: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    export_days: list[float] = field(default_factory=list)
    replay_days: list[float] = field(default_factory=list)
    late_starts: list[float] = field(default_factory=list)


def shared_corpus() -> Path:
    shared = Path(os.environ.get("TRIAGE_SHARED_DIR", PROJECT_ROOT.parent / "shared"))
    return SOURCES["surabaya"].path(shared)


def month_rows(path: Path, month: str) -> list[Row]:
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    first = datetime.strptime(month, "%Y-%m").replace(tzinfo=timezone.utc)  # the report's days are UTC days
    after = (first + timedelta(days=32)).replace(day=1)
    rows = []
    for record in frame.itertuples(index=False):
        received = _local(record.tanggal_keluhan)
        if received is None or not first <= received < after:
            continue
        rows.append(Row(ticket=f"sby-{record.id.strip()}", text=clean_text(record.keluhan),
                        body=record.instansi.strip() or "(kosong)", received=received,
                        responded=_local(record.tanggal_ditanggapi)))
    rows.sort(key=lambda r: (r.received, r.ticket))
    return rows


def _local(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=WIB)
    except ValueError:
        return None


def cli(url: str, *args: str) -> str:
    env = os.environ | {"TRIAGE_DATABASE_URL": url}
    done = subprocess.run([*api_load.TRIAGE, *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


async def replay(base: str, handler_token: str, focal_tokens: dict[str, str], rows: list[Row],
                 mapping: dict[str, str | None], start: datetime, horizon: datetime, factor: float,
                 done: Replayed) -> None:
    """Play every row as its own task: intake and routing by the handler at its received moment, then the
    acknowledgement and, at its responded moment (when before ``horizon``), the settlement by the focal point."""
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        t0 = time.perf_counter() + 1.0

        def at(moment: datetime) -> float:
            return t0 + (moment - start).total_seconds() / factor

        async def call(kind: str, token: str, url: str, body: dict) -> httpx.Response:
            began = time.perf_counter()
            response = await http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
            done.latencies[kind].append(time.perf_counter() - began)
            return response

        async def play(row: Row) -> None:
            await asyncio.sleep(max(0.0, at(row.received) - time.perf_counter()))
            done.late_starts.append(max(0.0, time.perf_counter() - at(row.received)))
            made = await call("intake", handler_token, "/v1/complaints",
                              {"text": row.text, "external_id": row.ticket, "received_at": row.received.isoformat()})
            if made.status_code == 422:
                done.refused += 1
                return
            if made.status_code != 201:
                done.failed.append(f"{row.ticket} intake {made.status_code}: {made.text[:200]}")
                return
            complaint = made.json()
            opd = mapping.get(row.body) or complaint["routing"]["opd"]
            category = OPD_CATEGORY.get(opd) or complaint["routing"]["category"]
            routed = await call("route", handler_token, f"/v1/complaints/{complaint['id']}/decisions",
                                {"category": category, "opd": opd,
                                 "maladministration": complaint["routing"]["maladministration"]})
            if routed.status_code != 201:
                done.failed.append(f"{row.ticket} route {routed.status_code}: {routed.text[:200]}")
                return
            expected = done.expected[opd]
            expected["received"] += 1
            expected["routed"] += 1
            events = f"/v1/complaints/{complaint['id']}/events"
            acked = await call("acknowledge", focal_tokens[opd], events, {"action": "acknowledge"})
            if acked.status_code != 201:
                done.failed.append(f"{row.ticket} acknowledge {acked.status_code}: {acked.text[:200]}")
                return
            if row.responded is None or row.responded >= horizon:
                expected["in_progress"] += 1
                return
            await asyncio.sleep(max(0.0, at(row.responded) - time.perf_counter()))
            settled = await call("settle", focal_tokens[opd], events, {"action": "settle", "reply": REPLY})
            if settled.status_code != 201:
                done.failed.append(f"{row.ticket} settle {settled.status_code}: {settled.text[:200]}")
                return
            expected["settled"] += 1
            stamp = datetime.fromisoformat(settled.json()["event"]["at"])
            created = datetime.fromisoformat(complaint["created_at"])
            done.replay_days.append((stamp - created).total_seconds() * factor / 86400)
            done.export_days.append(max(0.0, (row.responded - row.received).total_seconds()) / 86400)

        await asyncio.gather(*(play(row) for row in rows))


def check_report(base: str, token: str, month_start: date, month_end: date,
                 done: Replayed) -> tuple[list[str], dict]:
    """The report's counts per OPD and in total against what was replayed: the differences (none: it
    matched), and the report's rows by OPD."""
    report = httpx.get(f"{base}/v1/reports/outcomes", params={"date_from": str(month_start),
                                                              "date_to": str(month_end)},
                       headers={"Authorization": f"Bearer {token}"}, timeout=120)
    report.raise_for_status()
    rows = {row["opd"]: row for row in report.json()["rows"]}
    expected = {opd: dict(counts) for opd, counts in done.expected.items()}
    expected[None] = dict(sum(done.expected.values(), Counter()))
    differences = []
    for opd in sorted(set(rows) | set(expected), key=lambda o: (o is None, o or "")):
        for name in COUNTS:
            got = rows.get(opd, {}).get(name, 0)
            want = expected.get(opd, {}).get(name, 0)
            if got != want:
                differences.append(f"{opd or 'total'} {name}: report {got}, replayed {want}")
    return differences, rows


def load_requests(base: str, handler_token: str, focal_token: str) -> list[bytes]:
    """Ready ``POST /v1/complaints/{id}/events`` (progress) requests on complaints put in progress here."""
    requests = []
    with httpx.Client(base_url=base, timeout=60) as http:
        for i in range(LOAD_COMPLAINTS):
            made = http.post("/v1/complaints", headers={"Authorization": f"Bearer {handler_token}"},
                             json={"text": f"Jalan rusak berlubang di RT {i + 1} belum diperbaiki, mohon dicek."})
            made.raise_for_status()
            complaint_id = made.json()["id"]
            http.post(f"/v1/complaints/{complaint_id}/decisions", headers={"Authorization": f"Bearer {handler_token}"},
                      json={"category": "infrastruktur", "opd": "dpupr",
                            "maladministration": made.json()["routing"]["maladministration"]}).raise_for_status()
            body = json.dumps({"action": "progress", "note": "Tim survei sudah ke lokasi."}).encode()
            requests.append((f"POST /v1/complaints/{complaint_id}/events HTTP/1.1\r\nHost: {api_load.HOST}\r\n"
                             f"Authorization: Bearer {focal_token}\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    return requests


def ms(values: list[float], p: float) -> str:
    value = percentile(values, p)
    return "-" if value is None else f"{value * 1000:.1f}"


def days(values: list[float], p: float) -> str:
    value = percentile(values, p)
    return "-" if value is None else f"{value:.2f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in [header, *rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("TRIAGE_TEST_POSTGRES_URL", api_load.DEFAULT_POSTGRES))
    parser.add_argument("--month", default="2022-03", help="the export's month to replay, YYYY-MM (2022-01..2023-06)")
    parser.add_argument("--minutes", type=float, default=2.0, help="wall minutes a month of the export takes")
    parser.add_argument("--limit", type=int, default=0, help="replay only the month's first N rows (0: all)")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop rate of the status changes, per s")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of each open-loop run (at most 120)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    args = parser.parse_args()

    path = shared_corpus()
    if not path.is_file():
        print(f"skipped: Surabaya's export not found at {path} (the shared corpora, evaluation only; set "
              "TRIAGE_SHARED_DIR to the folder holding corpora/)")
        return 0
    if args.db == "postgres" and not api_load.postgres_reachable(args.postgres_url):
        print(f"skipped: PostgreSQL not reachable at {args.postgres_url}")
        return 0
    rows = month_rows(path, args.month)
    rows = rows[:args.limit] if args.limit else rows
    if not rows:
        print(f"skipped: no rows received in {args.month} (the export covers 2022-01..2023-06)")
        return 0
    taxonomy = load_taxonomy("kukar")
    mapping = load_map(MAPS_DIR / "surabaya_opd_map.csv", taxonomy)
    start = datetime.strptime(args.month, "%Y-%m").replace(tzinfo=timezone.utc)
    horizon = (start + timedelta(days=32)).replace(day=1)
    factor = (horizon - start).total_seconds() / (args.minutes * 60)
    done = Replayed()
    with tempfile.TemporaryDirectory(prefix="triage-replay-") as tmp, \
            api_load.throwaway_database(args.db, Path(tmp), args.postgres_url) as url, \
            api_load.server(url, args.workers, Path(tmp), False) as (base, handler_token):
        focal_tokens = {opd: cli(url, "apikey", "create", "--name", f"narahubung-{opd}", "--role", "focal_point",
                                 "--opd", opd) for opd in taxonomy.codes("opd")}
        print(f"{args.db}: {len(rows)} rows of {args.month}, a month in {args.minutes:g} min "
              f"(x{factor:,.0f}), server {base}, {args.workers} workers", file=sys.stderr)
        began = time.perf_counter()
        asyncio.run(replay(base, handler_token, focal_tokens, rows, mapping, start, horizon, factor, done))
        replay_seconds = time.perf_counter() - began
        month_end = (horizon - timedelta(days=1)).date()
        differences, report = check_report(base, handler_token, start.date(), month_end, done)

        load_args = argparse.Namespace(duration=min(args.duration, 120.0), max_requests=10000)
        requests = load_requests(base, handler_token, focal_tokens["dpupr"])
        label = "POST /v1/complaints/{id}/events"
        api_load.run_open_loop(base, handler_token, args.db, "healthz", 20.0,
                               argparse.Namespace(duration=3, max_requests=60), [])  # warm up
        results = [api_load.run_open_loop(base, handler_token, args.db, "healthz", args.rate, load_args, []),
                   api_load.run_open_loop(base, handler_token, args.db, "healthz", args.rate, load_args, [],
                                          requests, label)]

    print(f"lifecycle replay: Surabaya {args.month}, {len(rows)} rows, a month in {args.minutes:g} min "
          f"(x{factor:,.0f}) took {replay_seconds:.0f} s; {args.db}, triage serve --workers {args.workers}, "
          f"{os.cpu_count()} cores; {done.refused} rows refused by the API (422), {len(done.failed)} failed")
    print(f"start lag of the clients (wall s behind schedule): p50 {days(done.late_starts, 0.5)}, "
          f"p99 {days(done.late_starts, 0.99)}")
    print()
    print("report (GET /v1/reports/outcomes) against the replay, counts per OPD:")
    lines = []
    for opd in sorted(done.expected) + [None]:
        got = report.get(opd, {})
        lines.append([opd or "total", *(str(got.get(n, 0)) for n in COUNTS)])
    print(table(["opd", *COUNTS], lines))
    print("report matches the replay exactly" if not differences else
          "MISMATCH:\n  " + "\n  ".join(differences))
    print()
    print("days to settle, export (responded - received) vs replayed (server stamps x compression):")
    print(table(["", "median", "p90"], [["export", days(done.export_days, 0.5), days(done.export_days, 0.9)],
                                        ["replayed", days(done.replay_days, 0.5), days(done.replay_days, 0.9)]]))
    print()
    print("latency of the replay's requests (closed loop, ms):")
    print(table(["request", "n", "p50", "p99"], [[k, str(len(v)), ms(v, 0.5), ms(v, 0.99)]
                                                 for k, v in done.latencies.items()]))
    print()
    print(f"open loop, {load_args.duration:g} s per run, {args.rate:g} requests/s:")
    print(table(api_load.HEADER, [r.row() for r in results]))
    for failure in done.failed[:5]:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if differences or done.failed else 0


if __name__ == "__main__":
    sys.exit(main())
