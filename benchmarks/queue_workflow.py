"""A scripted handler works through 100 complaints in chromium: one by one (the flow before the bulk
confirmation) and then with the dense queue's bulk confirmation, each on a fresh copy of the same queue.
Prints wall time, clicks and keystrokes of each flow, and the ratio.

    .venv/bin/python benchmarks/queue_workflow.py [--n 100]

What the handler knows: the right routing of every complaint (the labels of the seed test split), so
every decision it stores is right. What it does:

* **one by one**: open the first complaint of the queue (a click); for each one, press ``k`` when the
  suggestion is right on all three heads, else pick each wrong head's code in its list (two clicks: open
  the list, pick) and press "Simpan koreksi" (a click); the next complaint opens by itself.
* **bulk**: on the queue, tick "Pilih semua yang yakin" (a click), untick the ticked rows whose
  suggestion is wrong (a click each: the row shows all three suggestions), "Konfirmasi terpilih" (a
  click); again while confident rows remain; then the rest one by one as above.

Typing the key to sign in is not counted. Times are a script's, with no reading: they measure the
page loads and server work a handler waits for, not a person's pace; the clicks and keys are what a
person would do. Complaints are the first ``--n`` of ``training_data/kukar/test.jsonl``. Only 127.0.0.1 is contacted; the database is a temporary SQLite file.
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


def records(n: int) -> list[dict]:
    """``n`` complaints with their right routing."""
    lines = (ROOT / "training_data" / "kukar" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:n]]


def serve(database_url: str):
    settings = Settings(database_url=database_url, models_dir=ROOT / "models", deployment="kukar",
                        secret_key="benchmark", state_dir=Path(database_url.split("///")[1]).parent)
    app = create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


def seed(base: str, token: str, items: list[dict]) -> dict[int, dict]:
    import httpx

    truth = {}
    with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as api:
        for item in items:
            response = api.post("/v1/complaints", json={"text": item["text"], "channel": "lapor"})
            response.raise_for_status()
            body = response.json()
            truth[body["id"]] = {"record": item, "suggestion": body["suggestion"]}
    return truth


def wrong_heads(entry: dict) -> list[str]:
    return [h for h in HEADS if entry["suggestion"][h]["code"] != entry["record"][h]]


def one_by_one(page, base: str, truth: dict[int, dict], tally: Tally) -> None:
    """Work the pending queue from its first complaint until the queue says none is left."""
    page.goto(f"{base}/antrean")
    first = page.locator("table.queue tbody tr a.row-link").first
    if first.count() == 0:
        return
    first.click()
    tally.clicks += 1
    while True:
        page.wait_for_url(lambda url: "/pengaduan/" in url or "/antrean" in url)
        if "/pengaduan/" not in page.url:
            return
        complaint_id = int(page.url.split("/pengaduan/")[1].split("?")[0].split("/")[0])
        entry = truth[complaint_id]
        wrong = wrong_heads(entry)
        before = page.url
        if not wrong:
            page.keyboard.press("k")
            tally.keys += 1
        else:
            for head in wrong:
                page.locator(f"#koreksi-{head}").select_option(entry["record"][head])
                tally.clicks += 2
            page.get_by_role("button", name="Simpan koreksi", exact=True).click()
            tally.clicks += 1
        page.wait_for_url(lambda url: url != before)
        tally.decisions += 1


def in_bulk(page, base: str, truth: dict[int, dict], tally: Tally) -> None:
    """Bulk-confirm the confident rows (unticking the wrong ones), then the rest one by one."""
    left_out: set[int] = set()
    while True:
        page.goto(f"{base}/antrean")
        boxes = page.locator("input[data-confident]")
        ids = [int(v.split(":")[0]) for v in boxes.evaluate_all("els => els.map(e => e.value)")]
        if not [i for i in ids if i not in left_out]:
            break
        page.get_by_label("Pilih semua yang yakin", exact=False).check()
        tally.clicks += 1
        for complaint_id in ids:  # "select all" ticked them again: untick each wrong one
            if wrong_heads(truth[complaint_id]):
                page.locator(f'input[data-confident][value^="{complaint_id}:"]').uncheck()
                tally.clicks += 1
                left_out.add(complaint_id)
        page.get_by_role("button", name="Konfirmasi terpilih").click()
        tally.clicks += 1
        page.wait_for_url(lambda url: "massal=" in url)
        tally.decisions += int(page.url.split("jumlah=")[1].split("&")[0])
    one_by_one(page, base, truth, tally)


def run(flow, items: list[dict], browser) -> Tally:
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{workdir}/triage.db"
        upgrade(url)
        engine = make_engine(url)
        with make_sessions(engine)() as session:
            _, token = create_key(session, "siti-benchmark", "handler")
        engine.dispose()
        server, thread, base = serve(url)
        try:
            truth = seed(base, token, items)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="complaints to work through")
    args = parser.parse_args()
    if not CHROMIUM.is_file():
        sys.exit(f"skipped: {CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    items = records(args.n)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            before = run(one_by_one, items, browser)
            after = run(in_bulk, items, browser)
        finally:
            browser.close()
    print(f"{len(items)} complaints, 1366x768, SQLite, this machine")
    print(f"{'flow':<12} {'seconds':>8} {'clicks':>7} {'keys':>5} {'actions':>8}")
    for name, t in (("one by one", before), ("bulk", after)):
        print(f"{name:<12} {t.seconds:8.1f} {t.clicks:7d} {t.keys:5d} {t.clicks + t.keys:8d}")
    print(f"bulk / one by one: time {after.seconds / before.seconds:.2f}, "
          f"actions {(after.clicks + after.keys) / (before.clicks + before.keys):.2f}")


if __name__ == "__main__":
    main()
