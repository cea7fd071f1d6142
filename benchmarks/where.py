"""Step "where" (triage/gazetteer.py) on Surabaya's real complaints: how often, how right, how fast.

    .venv/bin/python benchmarks/where.py [--shared ../shared] [--limit N]

Data: Surabaya's Media Center export in ``../shared/corpora`` (``triage.realdata.SOURCES["surabaya"]``),
read at run time for evaluation only and never copied into the repository. Each row carries the
``kecamatan`` and ``kelurahan`` the city filed the ticket under; they are read through the Surabaya SOTK
(``Sotk.body_of_name``) and compared with what :meth:`Gazetteer.find` reads from the citizen's text
(``keluhan``, cleaned as ``triage.realdata.clean_text`` does). Without ``../shared`` the script says so and
exits 0.

Figures: coverage (share of rows where a kecamatan / a kelurahan is found), precision (share of those found
that equal the row's label; the label is where the ticket was filed, which is not always the place the text
names, so precision is a lower bound), precision of marked vs bare finds, gazetteer construction time and
time per text (mean, median and p99 over all rows, over texts of 30-50 words, and a second pass over all
rows once the typo look-ups are remembered).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from triage.gazetteer import _WORD, Gazetteer, _marker, fold  # noqa: E402
from triage.realdata import DEFAULT_SHARED, SOURCES, clean_text  # noqa: E402
from triage.sotk import load_sotk  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(DEFAULT_SHARED), help="folder holding corpora/")
    parser.add_argument("--limit", type=int, default=0, help="read only the first N rows (0 = all)")
    args = parser.parse_args()
    source = SOURCES["surabaya"]
    path = source.path(args.shared)
    if not path.is_file():
        print(f"where: skipped, the Surabaya export is not at {path} (give the shared folder with --shared).")
        return 0

    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if args.limit:
        frame = frame.head(args.limit)
    sotk = load_sotk("surabaya")
    started = time.perf_counter()
    gazetteer = Gazetteer(list(sotk.bodies.values()))
    build_ms = (time.perf_counter() - started) * 1000
    Gazetteer.of(sotk)

    texts = [clean_text(t) for t in frame[source.text_column]]
    kec_labels, kel_labels = [], []
    unmapped = 0
    for kec, kel in zip(frame["kecamatan"], frame["kelurahan"]):
        kec_code = sotk.body_of_name(f"Kecamatan {kec}") if kec.strip() else None
        kel_code = None
        if kel.strip():
            kel_code = sotk.body_of_name(f"Kelurahan {kel}") or sotk.body_of_name(f"Kelurahan {kel} ({kec})")
        unmapped += bool(kec.strip() and kec_code is None) + bool(kel.strip() and kel_code is None)
        kec_labels.append(kec_code)
        kel_labels.append(kel_code)

    for text in texts[:200]:  # warm up
        gazetteer.find(text)
    results, times = [], []
    for text in texts:
        t0 = time.perf_counter_ns()
        where = gazetteer.find(text)
        times.append((time.perf_counter_ns() - t0) / 1000)
        results.append(where)

    n = len(texts)
    print(f"Surabaya export: {n} rows; labels not in the SOTK: {unmapped}")
    print(f"Gazetteer construction: {build_ms:.1f} ms")
    for level, labels, get in (("kecamatan", kec_labels, lambda w: w.kecamatan),
                               ("kelurahan", kel_labels, lambda w: w.village)):
        found = [(get(w), label) for w, label in zip(results, labels) if get(w) is not None]
        right = sum(place.code == label for place, label in found)
        print(f"{level:9}: found in {len(found)}/{n} rows ({len(found) / n:.1%}); precision vs label "
              f"{right}/{len(found)} = {right / max(len(found), 1):.1%}")
    for level, labels, get in (("kecamatan", kec_labels, lambda w: w.kecamatan),
                               ("kelurahan", kel_labels, lambda w: w.village)):
        groups: dict[str, list[bool]] = {"after a marker word": [], "bare": []}
        for text, w, label in zip(texts, results, labels):
            place = get(w)
            if place is not None:
                groups["after a marker word" if _marked(text, place.matched) else "bare"].append(place.code == label)
        print(f"  {level} " + "; ".join(f"{k}: {len(v)} rows, precision {sum(v) / max(len(v), 1):.1%}"
                                         for k, v in groups.items()))
    # A kecamatan known only from its village carries the village's span.
    direct = [(w.kecamatan, label) for w, label in zip(results, kec_labels) if w.kecamatan is not None
              and (w.village is None or w.kecamatan.matched != w.village.matched)]
    print(f"kecamatan named in the text itself (not via a village): {len(direct)} rows, precision "
          f"{sum(p.code == label for p, label in direct) / max(len(direct), 1):.1%}")

    def summary(values: list[float]) -> str:
        values = sorted(values)
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        return f"mean {statistics.fmean(values):.1f} us, median {values[len(values) // 2]:.1f} us, p99 {p99:.1f} us"

    words = [len(t.split()) for t in texts]
    typical = [t for t, w in zip(times, words) if 30 <= w <= 50]
    print(f"time per text, all rows (median {sorted(words)[n // 2]} words): {summary(times)}")
    if typical:
        print(f"time per text, 30-50 words ({len(typical)} rows): {summary(typical)}")
    again = []
    for text in texts:
        t0 = time.perf_counter_ns()
        gazetteer.find(text)
        again.append((time.perf_counter_ns() - t0) / 1000)
    print(f"time per text, second pass (typo look-ups after marker words remembered): {summary(again)}")
    return 0


def _marked(text: str, matched: str) -> bool:
    """Whether the first occurrence of ``matched`` in ``text`` follows a marker word ("kel.", "kec", ...)."""
    at = text.find(matched)
    before = _WORD.findall(text[:at])
    return bool(before) and _marker(fold(before[-1].lower())) is not None


if __name__ == "__main__":
    raise SystemExit(main())
