"""Benchmark ``triage retrain --dry-run`` on the seed corpus plus a history of decided complaints.

    python benchmarks/retrain.py [--decided 20000] [--keep DIR]

Fills a temporary SQLite history database with ``--decided`` complaints, each a seed training complaint with
typos (``benchmarks/backlog.py``'s), suggested by the shipped model and decided with the seed label (so about
one in fifteen is a correction), decided over the past 60 days; then runs ``triage retrain --dry-run`` as a
user runs it, in its own process, against a copy of the shipped registry, and reports the wall time of the
whole command, the time of each stage (from the retraining report) and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil  # noqa: E402
from backlog import typo  # noqa: E402
from sqlalchemy import insert, update  # noqa: E402

from triage.complaints import NewComplaint, enqueue_complaints  # noqa: E402
from triage.dataset import read_jsonl  # noqa: E402
from triage.db import Complaint, Decision, make_engine, make_sessions, upgrade  # noqa: E402
from triage.suggest import Suggester  # noqa: E402
from triage.taxonomy import HEADS, load_taxonomy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def fill(url: str, models: Path, n: int, seed: int = 7) -> dict:
    """``n`` decided complaints in the database at ``url``; returns how many were corrections."""
    taxonomy = load_taxonomy("kukar")
    corpus = read_jsonl(ROOT / "training_data" / "kukar" / "train.jsonl", taxonomy)
    rng = random.Random(seed)
    picks = [rng.randrange(len(corpus)) for _ in range(n)]
    texts = [" ".join(typo(w, rng) if rng.random() < 0.06 else w for w in corpus.texts[i].split()) for i in picks]
    suggester = Suggester.from_registry(models, "kukar")
    suggestions = []
    for start in range(0, n, 2000):
        suggestions.extend(suggester.suggest_many(texts[start:start + 2000], explain=False))
    now = datetime.now(timezone.utc)
    received = [now - timedelta(days=60) + timedelta(seconds=i * 60 * 86400 / n) for i in range(n)]
    decided = [{h: corpus.labels[h][i] for h in HEADS} for i in picks]
    corrections = store_decided(url, texts, suggestions, decided, received, channel="sms",
                                after=timedelta(hours=3))
    return {"decided": n, "corrections": corrections}


def store_decided(url: str, texts: list[str], suggestions: list, decided: list[dict], received: list[datetime],
                  channel: str, after: timedelta) -> int:
    """Store each text with its suggestion, received at ``received``, and decided ``after`` that with the codes
    of ``decided`` (in bulk: what the API does one at a time); returns how many decisions corrected a head."""
    engine = make_engine(url)
    sessions = make_sessions(engine)
    with sessions() as session:
        created = enqueue_complaints(session, ((NewComplaint(text=t, channel=channel, received_at=r), s)
                                               for t, r, s in zip(texts, received, suggestions))).created
    decisions, routings = [], []
    corrections = 0
    for complaint_id, codes, s, r in zip(created, decided, suggestions, received):
        kept = {f"{h}_kept": codes[h] == s.head(h).code for h in HEADS}
        corrections += not all(kept.values())
        decisions.append({"complaint_id": complaint_id, "revision": 1, **codes, **kept, "note": None,
                          "decided_by": "benchmark", "api_key_id": None, "decided_at": r + after})
        routings.append({"id": complaint_id, "status": "decided", "revisions": 1, **codes})
    with sessions() as session:
        session.execute(insert(Decision), decisions)
        session.execute(update(Complaint), routings)  # bulk UPDATE by primary key
        session.commit()
    engine.dispose()
    return corrections


def run_retrain(env: dict) -> dict:
    """``triage retrain --dry-run`` to completion: wall seconds, peak RSS of the process, its output."""
    command = [str(Path(sys.executable).with_name("triage")), "retrain", "--dry-run", "--json"]
    started = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, process.memory_info().rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode not in (0, 3):
        raise SystemExit(f"triage retrain failed ({process.returncode}):\n{stderr}")
    return {"seconds": seconds, "peak_rss_mb": peak / 2**20, "result": json.loads(stdout), "stages": stderr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decided", type=int, default=20_000, help="Decided complaints in the history.")
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it (default: a temporary one).")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="triage-retrain-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        models = folder / "models"
        shutil.rmtree(models, ignore_errors=True)
        shutil.copytree(ROOT / "models" / "kukar-seed", models / "kukar-seed")
        database = folder / "history.db"
        database.unlink(missing_ok=True)
        url = f"sqlite:///{database}"
        upgrade(url)
        began = time.perf_counter()
        filled = fill(url, models, args.decided)
        print(f"history: {filled['decided']:,} decided complaints ({filled['corrections']:,} corrections), filled in "
              f"{time.perf_counter() - began:.0f} s")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")} | {
            "TRIAGE_DATABASE_URL": url, "TRIAGE_MODELS_DIR": str(models), "TRIAGE_DEPLOYMENT": "kukar"}
        run = run_retrain(env)
        report = json.loads(Path(run["result"]["report"]["json"]).read_text())
        print(run["stages"].rstrip())
        print(f"triage retrain --dry-run: {run['seconds']:.0f} s wall, peak memory {run['peak_rss_mb']:,.0f} MB, "
              f"trained on {report['data']['train']:,} complaints "
              f"({report['data']['seed_train']:,} seed + {report['data']['decided_in_training']:,} decided; "
              f"{report['data']['recent_holdout']} held out), {os.cpu_count()} cores")
        print("stages (s): " + ", ".join(f"{k} {v}" for k, v in report["seconds"].items()))
        print(f"report: {run['result']['report']['markdown']}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
