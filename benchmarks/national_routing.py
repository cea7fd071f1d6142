"""Route real complaints of pemdas the model never saw: day one, after retraining, outside the pemda, where.

    .venv/bin/python benchmarks/national_routing.py                       # day one, outside, where
    .venv/bin/python benchmarks/national_routing.py --curve 300 1000 3000 # + learning curve (slow: one
                                                                          #   retraining per pemda and size)

Data: the three real exports in ``../shared/corpora`` (Surabaya's Media Center, Kab. Bandung's and Kota
Samarinda's SP4N-LAPOR!), read at run time for evaluation only and never copied into the repository; every
*disposed* row (a body in "Instansi Terdisposisi"/"instansi"; rows never dispositioned are left out, none
other), its body read through the pemda's own SOTK file (``triage.realdata.routing_records``). Without
``../shared`` the script says so and exits 0.

Figures, per pemda:

* **day one**: the shipped model (it saw none of these rows, and no row of any real export) routes through
  the pemda's SOTK (:mod:`triage.route`): OPD top-1 and top-3 on the pemda's *own* bodies, kecamatan and
  kelurahan offices included; national-code accuracy (the predicted category is a function the true body
  carries; for a body outside the pemda, that destination; for the pemda's own account, an outcome or 4.01);
  ECE of the OPD confidence; the share flagged ``needs_review`` and the top-1 of the rest.
* **outside**: rows whose true body is outside the pemda (PLN, BPJS, Polri, ...): share suggested as outside
  at all, and as the right destination. The three exports hold almost none (pemdas forward those before they
  reach a body), so real complaints that belong elsewhere are also taken from Central Java's LaporGub export
  (``aiaja__text-mining-laporgub``: stemmed tokens only, joined back into text): its ``energi`` rows (PLN,
  Pertamina) and ``forkominda`` rows (Polri), with the share suggested outside the pemda and to those
  destinations.
* **learning curve** (``--curve N ...``): the pemda's rows in time order (export order); the last 20% (at most
  1,500) are the test rows; the first N are decided through the real path (a SQLite database filled as the
  API fills it: complaint, the serving model's suggestion, the handler's decision with the export's body and
  the suggested category and maladministration kept, as a busy handler does) and ``triage.retrain.run_retrain``
  trains a challenger with the pemda's own OPD head; its top-1/top-3 on the test rows. Sizes the pemda does
  not have are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PEMDAS = ("surabaya", "kab_bandung", "samarinda")


def records_of(name: str, shared: Path) -> list[dict]:
    from triage.realdata import SOURCES, read_source, routing_records
    from triage.taxonomy import load_taxonomy

    source = SOURCES[name]
    return routing_records(read_source(source.path(shared), source), load_taxonomy(name), name)


def national_right(taxonomy, category: str, body: str) -> bool:
    """Whether predicted ``category`` is a national code the true ``body`` is responsible for."""
    label = taxonomy.labels["opd"][body]
    cat = taxonomy.labels["category"][taxonomy.canonical("category", category)]
    if label.kind == "outside":
        return cat.code == body
    if label.kind == "pemda":
        return cat.kind == "outcome" or "4.01" in cat.functions
    return bool(set(cat.functions) & set(label.functions))


def score(routed, taxonomy, rows: list[dict]) -> dict:
    """OPD top-1/top-3, national-code accuracy, ECE, review share of a routed model on ``rows``."""
    from triage.evaluate import expected_calibration_error

    texts = [r["text"] for r in rows]
    truth = np.asarray([r["opd"] for r in rows], dtype=object)
    proba = routed.predict_proba(texts)
    codes = routed.classes_["opd"]
    order = np.argsort(-proba["opd"], axis=1)[:, :3]
    top1 = codes[order[:, 0]] == truth
    top3 = (codes[order] == truth[:, None]).any(axis=1)
    confidence = proba["opd"].max(axis=1)
    categories = routed.classes_["category"][proba["category"].argmax(axis=1)]
    national = np.array([national_right(taxonomy, c, b) for c, b in zip(categories, truth)])
    flagged = confidence < routed.thresholds_["opd"]
    outside_rows = np.array([taxonomy.labels["opd"][b].outside for b in truth])
    predicted_outside = np.array([taxonomy.labels["opd"][c].outside for c in codes[order[:, 0]]])
    return {
        "n": len(rows), "top1": float(top1.mean()), "top3": float(top3.mean()), "national": float(national.mean()),
        "ece": float(expected_calibration_error(confidence, top1)), "flagged": float(flagged.mean()),
        "top1_not_flagged": float(top1[~flagged].mean()) if (~flagged).any() else None,
        "outside_rows": int(outside_rows.sum()),
        "outside_as_outside": float(predicted_outside[outside_rows].mean()) if outside_rows.any() else None,
        "outside_right": float(top1[outside_rows].mean()) if outside_rows.any() else None,
        "territorial_rows": int(sum(taxonomy.labels["opd"][b].kind in ("kecamatan", "kelurahan", "desa")
                                    for b in truth)),
    }


def day_one(shared: Path, models: Path) -> dict:
    from triage.registry import ModelRegistry
    from triage.route import RoutedModel, Router
    from triage.taxonomy import load_taxonomy

    results = {}
    for name in PEMDAS:
        taxonomy = load_taxonomy(name)
        model, info = ModelRegistry(models).load(None, taxonomy)
        rows = records_of(name, shared)
        began = time.perf_counter()
        results[name] = score(RoutedModel(model, Router(taxonomy), learned=False,
                                          priors=info.metadata.get("category_priors")), taxonomy, rows)
        results[name]["seconds"] = round(time.perf_counter() - began, 1)
        results[name]["model"] = info.version
    return results


LAPORGUB = "aiaja__text-mining-laporgub/prep_2024_2025.csv"
"""Central Java's LaporGub: only stemmed tokens survive, with the category its system gave. Two categories are
bodies outside any pemda: ``energi`` (electricity and fuel: PLN, Pertamina) and ``forkominda`` (police,
military, prosecutors: Polri for what a citizen reports)."""
OUTSIDE_GROUPS = {"energi": {"pln", "pertamina"}, "forkominda": {"polri"}}


def outside_laporgub(shared: Path, models: Path) -> dict | None:
    """Of LaporGub's ``energi`` and ``forkominda`` rows (tokens joined back into text), the share the shipped
    model calls outside the pemda, and the share it sends to the destination the group stands for."""
    import ast

    import pandas as pd

    from triage.priors import adjust
    from triage.registry import ModelRegistry
    from triage.taxonomy import load_taxonomy

    path = shared / "corpora" / LAPORGUB
    if not path.is_file():
        return None
    frame = pd.read_csv(path, sep=";")
    taxonomy = load_taxonomy("kalsel")  # a province's channel, as LaporGub is
    model, info = ModelRegistry(models).load(None, taxonomy)
    results = {}
    for group, destinations in OUTSIDE_GROUPS.items():
        rows = frame[frame.category.str.strip() == group]
        texts = [" ".join(ast.literal_eval(tokens)) for tokens in rows.complaints]
        texts = [t for t in texts if t.strip()]
        proba = adjust(model.predict_proba(texts)["category"], model.classes_["category"],
                       info.metadata.get("category_priors"))
        predicted = model.classes_["category"][proba.argmax(axis=1)]
        kinds = np.array([taxonomy.labels["category"][c].kind for c in predicted])
        results[group] = {"n": len(texts), "as_outside": float((kinds == "outside").mean()),
                          "to_destination": float(np.isin(predicted, list(destinations)).mean()),
                          "destinations": sorted(destinations)}
    return results


def fill_decisions(url: str, models: Path, name: str, rows: list[dict]) -> None:
    """Complaints and decisions as the API stores them: the serving model's suggestion, then the handler's
    decision with the export's body (category and maladministration kept as suggested)."""
    from retrain import store_decided

    from triage.db import upgrade
    from triage.suggest import Suggester

    upgrade(url)
    suggester = Suggester.from_registry(models, name)
    texts = [r["text"] for r in rows]
    suggestions = suggester.suggest_many(texts, explain=False)
    now = datetime.now(timezone.utc)
    received = [now - timedelta(days=90) + timedelta(minutes=10 * i) for i in range(len(rows))]
    decided = [{"category": s.category.code, "opd": row["opd"], "maladministration": s.maladministration.code}
               for row, s in zip(rows, suggestions)]
    store_decided(url, texts, suggestions, decided, received, channel="lapor", after=timedelta(hours=2))


def learning_curve(shared: Path, models: Path, sizes: list[int]) -> dict:
    from triage.registry import ModelRegistry
    from triage.retrain import run_retrain
    from triage.route import RoutedModel, Router
    from triage.settings import Settings
    from triage.signing import generate_key
    from triage.taxonomy import load_taxonomy

    results: dict = {}
    for name in PEMDAS:
        taxonomy = load_taxonomy(name)
        rows = records_of(name, shared)
        n_test = min(1500, len(rows) // 5)
        test, pool = rows[-n_test:], rows[:-n_test]
        results[name] = {"test_rows": n_test}
        for size in sizes:
            if size > len(pool):
                results[name][size] = f"skipped: {len(pool)} rows before the test rows"
                continue
            with tempfile.TemporaryDirectory(prefix="triage-curve-") as work:
                work = Path(work)
                registry_dir = work / "models"
                shutil.copytree(models, registry_dir, ignore=shutil.ignore_patterns("*.lock"))
                key = work / "key.pem"
                generate_key(key, "learning curve")
                url = f"sqlite:///{work / 'history.db'}"
                fill_decisions(url, registry_dir, name, pool[:size])
                settings = Settings(deployment=name, database_url=url, models_dir=registry_dir,
                                    signing_key=key, training_data_dir=ROOT / "training_data")
                began = time.perf_counter()
                outcome = run_retrain(settings, progress=None)
                model, info = ModelRegistry.for_settings(settings).load(outcome.version, taxonomy)
                figures = score(RoutedModel(model, Router(taxonomy), learned=True,
                                            priors=info.metadata.get("category_priors")), taxonomy, test)
                figures.update(status=outcome.status, seconds=round(time.perf_counter() - began),
                               reasons=outcome.verdict.reasons)
                results[name][size] = figures
                print(f"  {name} after {size}: top1 {figures['top1']:.3f} top3 {figures['top3']:.3f} "
                      f"({outcome.status}, {figures['seconds']} s)", flush=True)
    return results


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--curve", type=int, nargs="*", default=[], help="Decisions to retrain on, per size.")
    parser.add_argument("--json", type=Path, help="Also write every figure to this file.")
    args = parser.parse_args()
    if not (args.shared / "corpora").is_dir():
        print(f"skipped: {args.shared}/corpora not found (the real exports are evaluation only, not shipped)")
        return
    print(f"machine: {os.cpu_count()} cores; model registry {args.models}")
    out = {"day_one": day_one(args.shared, args.models)}
    print("\nDay one (no row of the pemda seen), every disposed row:")
    print(f"  {'pemda':<12} {'rows':>6} {'top1':>6} {'top3':>6} {'national':>9} {'ECE':>6} {'flagged':>8} "
          f"{'top1 ok':>8} {'outside rows':>13} {'as outside':>11} {'right dest':>11}")
    for name, r in out["day_one"].items():
        print(f"  {name:<12} {r['n']:>6} {r['top1']:>6.3f} {r['top3']:>6.3f} {r['national']:>9.3f} {r['ece']:>6.3f} "
              f"{r['flagged']:>8.3f} {fmt(r['top1_not_flagged']):>8} {r['outside_rows']:>13} "
              f"{fmt(r['outside_as_outside']):>11} {fmt(r['outside_right']):>11}")
    laporgub = outside_laporgub(args.shared, args.models)
    if laporgub:
        out["outside_laporgub"] = laporgub
        print("\nOutside the pemda, real LaporGub rows (stemmed tokens only) of groups that belong elsewhere:")
        for group, r in laporgub.items():
            print(f"  {group:<11} {r['n']:>5} rows: suggested outside the pemda {r['as_outside']:.3f}, "
                  f"to {'/'.join(r['destinations'])} {r['to_destination']:.3f}")
    if args.curve:
        print("\nLearning curve (retrained through triage.retrain.run_retrain on the first N decisions):")
        out["curve"] = learning_curve(args.shared, args.models, sorted(args.curve))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/retrain.py's store_decided
    main()
