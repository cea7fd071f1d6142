"""Benchmark ``triage batch`` against the usual per-document pipeline, on the same backlog, in one run.

    python benchmarks/batch.py [--rows 100000] [--memory-rows 10000] [--repeat 3] [--big]

The backlog is ``benchmarks/backlog.py``'s: seed complaints with typos, so its vocabulary grows with its
size as real data's does. The usual pipeline is ``benchmarks/classifier.py``'s (Sastrawi ``stem()`` per
document, then TF-IDF and LinearSVC per head), trained on the seed training split; only its *prediction*
is timed, in a fresh process, in chunks of 5,000 documents.

``triage batch`` is timed as a user runs it: the whole command in its own process, from start to exit
(start-up, model loading in each worker, reading the CSV, writing the output), with one process, with every
core and on a Dask LocalCluster. Peak memory is the largest sum of the resident memory of the command and
all its child processes (workers included; proportional set size, so pages that forked workers
share are counted once), sampled every 50 ms in runs of its own on every core: reading each process's memory map
that often costs a 2-core machine 1-2 s of a 7 s job, so timed runs are not sampled. ``--big`` adds the peak
memory for 1,000,000 rows (minutes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402
import psutil  # noqa: E402
from backlog import backlog  # noqa: E402
from classifier import baseline_predict, in_process, measure_training  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 5000


def write_backlog(rows: int, path: Path) -> Path:
    texts = backlog(rows)
    frame = pd.DataFrame({"id": [f"c{i:07d}" for i in range(rows)], "channel": "sms", "text": texts})
    frame.to_csv(path, index=False)
    return path


def measure_baseline(model_file: str, csv: str, queue) -> None:
    import joblib
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    pipelines = joblib.load(model_file)
    stemmer = StemmerFactory().create_stemmer()
    texts = pd.read_csv(csv, dtype=str, keep_default_na=False)["text"].tolist()
    started = time.perf_counter()
    for i in range(0, len(texts), CHUNK):
        baseline_predict(pipelines, stemmer, texts[i:i + CHUNK])
    queue.put({"docs_per_s": len(texts) / (time.perf_counter() - started)})


def _pss(process: psutil.Process) -> int:
    """Proportional set size: pages shared between processes (forked workers) counted once in the sum."""
    try:
        return process.memory_full_info().pss
    except psutil.Error:
        return 0


def run_batch(csv: Path, out: Path, *args: str, memory: bool = False) -> dict:
    """Run ``triage batch`` to completion; its wall seconds and, with ``memory``, the peak memory of its process
    tree (``peak_mb``, else ``None``). Sampling reads every process's memory map every 50 ms, which on 2 cores
    costs the job 1-2 s of its 7: a timed run is never sampled."""
    command = [str(Path(sys.executable).with_name("triage")), "batch", str(csv), "-o", str(out), "--quiet",
               "--restart", *args]
    started = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    peak = 0
    while memory and process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(_pss(p) for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.05)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"triage batch failed: {stderr.decode()}")
    return {"seconds": seconds, "peak_mb": peak / 2**20 if memory else None,
            "summary": stdout.decode().splitlines()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="backlog size for the speed measurements")
    parser.add_argument("--memory-rows", type=int, default=10_000,
                        help="backlog size for the small memory figure")
    parser.add_argument("--big", action="store_true", help="also measure peak memory on 1,000,000 rows")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every measurement")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for 'every core'")
    args = parser.parse_args()
    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="triage-batch-bench-"))
    csv = write_backlog(args.rows, work / "backlog.csv")

    baseline_model = str(work / "baseline.joblib")
    in_process(measure_training, "baseline", baseline_model)
    configs = {
        "triage batch, 1 process": ("out1.csv", "--jobs", "1"),
        f"triage batch, {args.jobs} processes": ("outn.csv", "--jobs", str(args.jobs)),
        f"triage batch, Dask LocalCluster ({args.jobs} workers)": ("outd.csv", "--engine", "dask", "--jobs",
                                                                  str(args.jobs)),
    }
    # Rounds interleave the systems, so that a busy moment on the machine hits all of them; the best round
    # of each is reported (as timeit does), the median too.
    baselines: list[float] = []
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    for _ in range(args.repeat):
        baselines.append(in_process(measure_baseline, baseline_model, str(csv))["docs_per_s"])
        for name, (out, *options) in configs.items():
            runs[name].append(run_batch(csv, work / out, *options))
    outputs = [(work / name).read_bytes() for name in ("out1.csv", "outn.csv", "outd.csv")]
    same = outputs[0] == outputs[1] == outputs[2]

    small = write_backlog(args.memory_rows, work / "small.csv")
    memory = {rows: run_batch(path, work / "memory_out.csv", "--jobs", str(args.jobs), memory=True)
              for rows, path in ((args.memory_rows, small), (args.rows, csv))}
    if args.big:
        memory[1_000_000] = run_batch(write_backlog(1_000_000, work / "big.csv"), work / "big_out.csv",
                                      "--jobs", str(args.jobs), memory=True)

    print(f"load average before: {load[0]:.2f}, after: {os.getloadavg()[0]:.2f} (other work on the machine)")
    print(f"backlog: {args.rows:,} rows (typo'd, growing vocabulary), {os.cpu_count()} cores; "
          f"outputs identical across engines: {same}")
    print(f"best of {args.repeat} rounds (median in brackets); 'per round': the ratio of each round's own "
          "baseline and job, run one after the other (median, lowest-highest): the figure the machine's drift "
          "disturbs least")
    print(f"{'':52} {'docs/s':>16} {'seconds':>8} {'vs baseline':>14} {'per round':>20}")
    base, base_median = max(baselines), statistics.median(baselines)
    print(f"{'usual pipeline, prediction only (1 process)':52} {base:>7,.0f} ({base_median:>6,.0f}) "
          f"{args.rows / base:>8.1f} {'1.00x':>14}")
    for name, results in runs.items():
        rates = [args.rows / r["seconds"] for r in results]
        best = max(results, key=lambda r: -r["seconds"])
        rate, median = max(rates), statistics.median(rates)
        rounds = [r / b for r, b in zip(rates, baselines)]
        print(f"{name + ', whole job':52} {rate:>7,.0f} ({median:>6,.0f}) {best['seconds']:>8.1f} "
              f"{rate / base:>6.2f}x ({median / base_median:.2f}x) "
              f"{statistics.median(rounds):>6.2f}x ({min(rounds):.2f}-{max(rounds):.2f}x)")
    print("peak memory of `triage batch` (all processes), every core, in runs of its own (sampled, not timed):")
    for rows, result in sorted(memory.items()):
        print(f"  {rows:>9,} rows  {result['peak_mb']:>6.0f} MB  ({result['seconds']:.1f} s)")


if __name__ == "__main__":
    main()
