"""A scripted handler works through 100 real complaints in chromium: one by one (the flow before the bulk
confirmation), with the dense queue's bulk confirmation by mouse, and with bulk confirmation and the
queue's keys, each on a fresh copy of the same queue. Prints wall time, clicks and keystrokes of each
flow, and the ratios to one by one.

    .venv/bin/triage realdata build           # once: evaluation/*.jsonl from ../shared/corpora
    .venv/bin/python benchmarks/queue_workflow.py [--n 100] [--runs 1] [--seed-split]

Complaints: the first ``--n`` of ``evaluation/surabaya.jsonl`` (real complaints to Surabaya's Media
Center with the OPD they were dispositioned to, mapped onto kukar OPDs; evaluation only, never
committed) when it exists, else the seed test split ``training_data/kukar/test.jsonl``; the script says
which. What the handler knows: the right OPD of every real complaint (its other heads: the suggestion
is kept, as a busy handler does), or all three heads of a seed complaint; every decision it stores is
right by that. What it does:

* **one by one** (before): open the first complaint of the queue (a click); for each one, press ``k``
  when the suggestion is right, else pick each wrong head's code in its list (two clicks: open the
  list, pick) and press "Simpan koreksi" (a click); the next complaint opens by itself.
* **bulk, mouse**: on the queue, tick "Pilih semua yang yakin" (a click), untick the ticked rows whose
  suggestion is wrong (a click each), "Konfirmasi terpilih" (a click); again while untouched confident
  rows remain; then the rest one by one as above.
* **bulk, keys**: ``y`` (the confident rows only), ``a`` (select all), untick the wrong ones (a click
  each; a row unticked stays unticked for the pass), ``c`` (confirm); again while confident rows remain;
  "Atur ulang" (a click) and the first complaint (a click); then one by one, correcting with the
  alternatives: ``2`` or ``3`` stores the OPD's second or third candidate, a "Pilih" button another
  head's (a click), any other code "<head> lain" and its button (two clicks); when two heads are wrong,
  the first from its list (two clicks) and the last as above, which stores both.

Typing the key to sign in is not counted. Times are a script's, with no reading: they measure the
page loads and server work a handler waits for, not a person's pace; the clicks and keys are what a
person would do. Only 127.0.0.1 is contacted; the database is a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage.api import create_app  # noqa: E402
from triage.apikeys import create_key  # noqa: E402
from triage.db import make_engine, make_sessions, upgrade  # noqa: E402
from triage.settings import Settings  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HEADS = ("category", "opd", "maladministration")


@dataclass
class Tally:
    clicks: int = 0
    keys: int = 0
    seconds: float = 0.0
    decisions: int = 0


REAL = ROOT / "evaluation" / "surabaya.jsonl"
SEED = ROOT / "training_data" / "kukar" / "test.jsonl"


def records(n: int, seed_split: bool = False) -> tuple[Path, tuple[str, ...], list[dict]]:
    """The file used, the heads its labels are known for, and its first ``n`` complaints."""
    path, known = (REAL, ("opd",)) if REAL.is_file() and not seed_split else (SEED, HEADS)
    lines = path.read_text(encoding="utf-8").splitlines()
    return path, known, [json.loads(line) for line in lines[:n]]


def serve(database_url: str):
    settings = Settings(database_url=database_url, models_dir=ROOT / "models", deployment="kukar",
                        secret_key="benchmark", state_dir=Path(database_url.split("///")[1]).parent)
    app = create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # served as `triage serve` serves: its h11 protocol sets TCP_NODELAY (with Nagle on, every small
    # response waits ~40 ms for the browser's delayed ACK, which would swamp what the flows differ by)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                           http="triage.api.server:TriageHTTPProtocol"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


def seed(base: str, token: str, items: list[dict], known: tuple[str, ...]) -> dict[int, dict]:
    import httpx

    truth = {}
    with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as api:
        for item in items:
            response = api.post("/v1/complaints", json={"text": item["text"], "channel": "lapor"})
            response.raise_for_status()
            body = response.json()
            suggestion = body["suggestion"]
            right = {h: item[h] if h in known else suggestion[h]["code"] for h in HEADS}
            truth[body["id"]] = {"record": right, "suggestion": suggestion}
    return truth


def wrong_heads(entry: dict) -> list[str]:
    return [h for h in HEADS if entry["suggestion"][h]["code"] != entry["record"][h]]


def one_by_one(page, base: str, truth: dict[int, dict], tally: Tally) -> None:
    """Work the pending queue from its first complaint until the queue says none is left."""
    page.goto(f"{base}/antrean")
    work_through(page, truth, tally, correct_with_lists)


def work_through(page, truth: dict[int, dict], tally: Tally, decide) -> None:
    """From the queue on screen, open its first complaint and ``decide`` each one until none is left."""
    first = page.locator("table.queue tbody tr a.row-link").first
    if first.count() == 0:
        return
    first.click()
    tally.clicks += 1
    while True:
        page.wait_for_url(lambda url: "/pengaduan/" in url or "/antrean" in url)
        if "/pengaduan/" not in page.url:
            return
        entry = truth[int(page.url.split("/pengaduan/")[1].split("?")[0].split("/")[0])]
        before = page.url
        decide(page, entry, tally)
        page.wait_for_url(lambda url: url != before)
        tally.decisions += 1


def correct_with_lists(page, entry: dict, tally: Tally) -> None:
    """``k`` on a right suggestion, else each wrong head's code from its list and "Simpan koreksi"."""
    wrong = wrong_heads(entry)
    if not wrong:
        page.keyboard.press("k")
        tally.keys += 1
        return
    for head in wrong:
        page.locator(f"#koreksi-{head}").select_option(entry["record"][head])
        tally.clicks += 2
    page.get_by_role("button", name="Simpan koreksi", exact=True).click()
    tally.clicks += 1


def in_bulk(page, base: str, truth: dict[int, dict], tally: Tally) -> None:
    """Bulk-confirm the confident rows (unticking the wrong ones), then the rest one by one."""
    left_out: set[int] = set()
    page.goto(f"{base}/antrean")
    while True:
        boxes = page.locator("input[data-confident]")
        ids = [int(v.split(":")[0]) for v in boxes.evaluate_all("els => els.map(e => e.value)")]
        if not [i for i in ids if i not in left_out]:
            break
        page.get_by_label("Pilih semua yang yakin", exact=False).check()
        tally.clicks += 1
        for complaint_id in ids:  # untick each wrong one "select all" ticked
            box = page.locator(f'input[data-confident][value^="{complaint_id}:"]')
            if wrong_heads(truth[complaint_id]) and box.is_checked():
                box.uncheck()
                tally.clicks += 1
            if wrong_heads(truth[complaint_id]):
                left_out.add(complaint_id)
        before = page.url
        page.get_by_role("button", name="Konfirmasi terpilih").click()
        tally.clicks += 1
        page.wait_for_url(lambda url: url != before and "massal=" in url)
        tally.decisions += int(page.url.split("jumlah=")[1].split("&")[0])
    one_by_one(page, base, truth, tally)


def with_keys(page, base: str, truth: dict[int, dict], tally: Tally) -> None:
    """Bulk-confirm from the confident view with the queue's keys, then correct with the alternatives."""
    page.goto(f"{base}/antrean")
    page.keyboard.press("y")
    tally.keys += 1
    page.wait_for_url(lambda url: "tinjau=tidak" in url)
    while True:
        boxes = page.locator("input[data-confident]:not([data-unticked])")
        ids = [int(v.split(":")[0]) for v in boxes.evaluate_all("els => els.map(e => e.value)")]
        if not ids:
            break
        page.keyboard.press("a")
        tally.keys += 1
        for complaint_id in ids:
            if wrong_heads(truth[complaint_id]):
                page.locator(f'input[data-confident][value^="{complaint_id}:"]').uncheck()
                tally.clicks += 1
        if page.locator("[data-bulk-count]").inner_text() == "0":
            break
        before = page.url
        page.keyboard.press("c")
        tally.keys += 1
        page.wait_for_url(lambda url: url != before and "massal=" in url)
        tally.decisions += int(page.url.split("jumlah=")[1].split("&")[0])
    page.get_by_role("link", name="Atur ulang").click()
    tally.clicks += 1
    page.wait_for_url(f"{base}/antrean")
    work_through(page, truth, tally, correct)


def correct(page, entry: dict, tally: Tally) -> None:
    """Store the right routing of the complaint on screen the cheapest way the page offers."""
    right = entry["record"]
    wrong = wrong_heads(entry)
    if not wrong:
        page.keyboard.press("k")
        tally.keys += 1
        return
    ranks = {h: [a["code"] for a in entry["suggestion"][h]["alternatives"]] for h in wrong}
    # The last head saved is one whose right code is a candidate (the OPD first: it has keys).
    wrong.sort(key=lambda h: (right[h] in ranks[h], h == "opd"))
    *lists, last = wrong
    for head in lists:
        page.locator(f"#koreksi-{head}").select_option(right[head])
        tally.clicks += 2
    if right[last] in ranks[last]:
        rank = ranks[last].index(right[last]) + 1
        if last == "opd":
            page.keyboard.press(str(rank))
            tally.keys += 1
        else:
            page.locator(f'button[name="pilih"][value="{last}:{right[last]}"]').click()
            tally.clicks += 1
        return
    card = page.locator(".head-card", has=page.locator(f"#saran-{last}"))
    card.locator(".other-codes summary").click()  # "<head> lain": every other code, one button each
    card.locator(f'button[name="pilih"][value="{last}:{right[last]}"]').click()
    tally.clicks += 2


def run(flow, items: list[dict], known: tuple[str, ...], browser) -> Tally:
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{workdir}/triage.db"
        upgrade(url)
        engine = make_engine(url)
        with make_sessions(engine)() as session:
            _, token = create_key(session, "siti-benchmark", "handler")
        engine.dispose()
        server, thread, base = serve(url)
        try:
            truth = seed(base, token, items, known)
            context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
            page = context.new_page()
            page.goto(f"{base}/masuk")
            page.get_by_label("Kunci API").fill(token)
            page.get_by_role("button", name="Masuk").click()
            page.wait_for_url(f"{base}/antrean")
            tally = Tally()
            start = time.perf_counter()
            flow(page, base, truth, tally)
            tally.seconds = time.perf_counter() - start
            context.close()
            assert tally.decisions == len(items), (tally.decisions, len(items))
            return tally
        finally:
            server.should_exit = True
            thread.join(timeout=15)


FLOWS = (("one by one", one_by_one), ("bulk, mouse", in_bulk), ("bulk, keys", with_keys))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="complaints to work through")
    parser.add_argument("--runs", type=int, default=1, help="times to run each flow (seconds of each run)")
    parser.add_argument("--seed-split", action="store_true", help="use the seed test split even when the real "
                        "complaints are there")
    args = parser.parse_args()
    if not CHROMIUM.is_file():
        sys.exit(f"skipped: {CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    path, known, items = records(args.n, args.seed_split)
    print(f"complaints: the first {len(items)} of {path.relative_to(ROOT)} (right: {', '.join(known)}"
          f"{'; other heads as suggested' if len(known) < len(HEADS) else ''})")
    tallies: dict[str, list[Tally]] = {name: [] for name, _ in FLOWS}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for _ in range(args.runs):
                for name, flow in FLOWS:
                    tallies[name].append(run(flow, items, known, browser))
        finally:
            browser.close()
    print(f"{len(items)} complaints, 1366x768, SQLite, this machine, {args.runs} run(s)")
    print(f"{'flow':<12} {'seconds':>18} {'clicks':>7} {'keys':>5} {'actions':>8}")
    base = tallies["one by one"][0]
    for name, runs in tallies.items():
        t = runs[0]
        seconds = ", ".join(f"{r.seconds:.1f}" for r in runs)
        print(f"{name:<12} {seconds:>18} {t.clicks:7d} {t.keys:5d} {t.clicks + t.keys:8d}")
    for name, runs in list(tallies.items())[1:]:
        t = runs[0]
        times = ", ".join(f"{r.seconds / b.seconds:.2f}" for r, b in zip(runs, tallies["one by one"]))
        print(f"{name} / one by one: actions {(t.clicks + t.keys) / (base.clicks + base.keys):.2f}, "
              f"time {times}")


if __name__ == "__main__":
    main()
