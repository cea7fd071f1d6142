"""Benchmark loading the shipped model: the signed ``model.npz`` against the pickle it replaced.

    python benchmarks/model_load.py [--repeat 30]

In one process, after the imports: the baseline is ``pickle.loads`` of the same :class:`Predictor` (what
``model.pickle`` held, pickled here from the loaded model), against ``read_predictor`` of ``model.npz``'s
bytes, and against the registry's whole ``load`` (signature check, sha256 of the file, parse), the median of
``--repeat`` runs each. It also checks that the two give the same probabilities on the seed test split.
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import time
from pathlib import Path

import numpy as np

from triage.artefact import read_predictor
from triage.registry import ModelRegistry
from triage.taxonomy import HEADS, load_taxonomy

ROOT = Path(__file__).resolve().parent.parent


def median_ms(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    taxonomy = load_taxonomy("kukar")
    registry = ModelRegistry(ROOT / "models")
    model, info = registry.load("kukar-seed", taxonomy)
    pickled = pickle.dumps(model, protocol=5)
    data = (info.path / "model.npz").read_bytes()
    texts = [json.loads(line)["text"] for line in open(ROOT / "training_data" / "kukar" / "test.jsonl")]
    a, b = pickle.loads(pickled).predict_proba(texts), read_predictor(data).predict_proba(texts)
    same = all(np.array_equal(a[h], b[h]) for h in HEADS)
    rows = [("pickle.loads (baseline)", median_ms(lambda: pickle.loads(pickled), args.repeat), len(pickled)),
            ("read_predictor(model.npz)", median_ms(lambda: read_predictor(data), args.repeat), len(data)),
            ("registry.load (verify + sha256 + parse)",
             median_ms(lambda: registry.load("kukar-seed", taxonomy), args.repeat), len(data))]
    print(f"{'':<42} {'median ms':>9} {'bytes':>10}")
    for name, ms, size in rows:
        print(f"{name:<42} {ms:>9.1f} {size:>10,}")
    print(f"same probabilities on {len(texts)} test complaints: {same}")


if __name__ == "__main__":
    main()
