"""Writes error_analysis.ipynb from the cells below (kept as code so that diffs stay readable).

    python notebooks/build_notebook.py
"""

from pathlib import Path

import nbformat as nbf

CELLS = [
    ("md", """# Error analysis of the serving model

What a data person opens first: where the model is wrong, how far its confidences can be trusted, and what
the `needs_review` threshold buys. It runs top to bottom in the test suite, so it never rots.
Figures are on `training_data/kukar/test.jsonl` (held out), and on the Surabaya real-data file when
`triage realdata build` has made it."""),
    ("code", """import json
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import ConfusionMatrixDisplay

from triage.dataset import read_jsonl
from triage.evaluate import evaluate
from triage.settings import PROJECT_ROOT, get_settings
from triage.suggest import Suggester
from triage.taxonomy import HEADS

settings = get_settings()
suggester = Suggester.from_registry(settings.models_dir, settings.deployment)
model, taxonomy = suggester.model, suggester.taxonomy
test = read_jsonl(PROJECT_ROOT / "training_data" / taxonomy.code / "test.jsonl", taxonomy)
proba = model.predict_proba(test.texts)
predicted = {h: model.classes_[h][proba[h].argmax(axis=1)] for h in HEADS}
confidence = {h: proba[h].max(axis=1) for h in HEADS}
print(f"model {suggester.version}, {len(test)} held-out complaints")"""),
    ("md", "## Figures per head"),
    ("code", """report = evaluate(model, test)
pd.DataFrame({h: report[h] for h in HEADS}).T"""),
    ("md", "## Confusion matrices\nRows are the true code, columns the predicted one."),
    ("code", """fig, axes = plt.subplots(1, 3, figsize=(24, 8))
for ax, head in zip(axes, HEADS):
    labels = list(model.classes_[head])
    ConfusionMatrixDisplay.from_predictions(test.labels[head], predicted[head], labels=labels, ax=ax,
                                            xticks_rotation=90, colorbar=False, include_values=False)
    ax.set_title(head)
plt.tight_layout()
plt.show()"""),
    ("md", "## The worst confusions, with examples\nThe most frequent (true -> predicted) pairs per head, with two texts each."),
    ("code", """for head in HEADS:
    pairs = Counter((t, p) for t, p in zip(test.labels[head], predicted[head]) if t != p)
    print(f"=== {head}")
    for (true, pred), n in pairs.most_common(5):
        print(f"  {true} -> {pred}: {n}")
        shown = [i for i, (t, p) in enumerate(zip(test.labels[head], predicted[head])) if (t, p) == (true, pred)][:2]
        for i in shown:
            print(f"      [{confidence[head][i]:.2f}] {test.texts[i][:160]}")"""),
    ("md", "## Calibration\nA confidence of 0.8 should be right about 80% of the time: points on the diagonal."),
    ("code", """fig, ax = plt.subplots(figsize=(6, 6))
bins = np.linspace(0, 1, 11)
for head in HEADS:
    correct = predicted[head] == np.asarray(test.labels[head], dtype=object)
    which = np.clip(np.digitize(confidence[head], bins) - 1, 0, 9)
    xs = [confidence[head][which == b].mean() for b in range(10) if (which == b).any()]
    ys = [correct[which == b].mean() for b in range(10) if (which == b).any()]
    ax.plot(xs, ys, marker="o", label=f"{head} (ECE {report[head]['ece']:.3f})")
ax.plot([0, 1], [0, 1], color="grey", linestyle="--")
ax.set_xlabel("confidence")
ax.set_ylabel("accuracy")
ax.legend()
plt.show()"""),
    ("md", "## What the `needs_review` threshold buys\nFor each threshold: the share of complaints not flagged (coverage) and how often those are right. The dot is the threshold the model chose on out-of-fold training predictions."),
    ("code", """fig, axes = plt.subplots(1, 3, figsize=(18, 5))
grid = np.linspace(0, 1, 101)
for ax, head in zip(axes, HEADS):
    correct = predicted[head] == np.asarray(test.labels[head], dtype=object)
    coverage = [(confidence[head] >= t).mean() for t in grid]
    accuracy = [correct[confidence[head] >= t].mean() if (confidence[head] >= t).any() else np.nan for t in grid]
    ax.plot(grid, coverage, label="coverage")
    ax.plot(grid, accuracy, label="accuracy of not flagged")
    t = model.thresholds_[head]
    ax.scatter([t, t], [(confidence[head] >= t).mean(), correct[confidence[head] >= t].mean()], color="black")
    ax.set_title(f"{head}: threshold {t:.2f}")
    ax.set_xlabel("threshold")
    ax.legend()
plt.show()"""),
    ("md", "## Real text nobody here wrote (Surabaya)\nOnly when `evaluation/surabaya.jsonl` exists (`triage realdata build`)."),
    ("code", """real_file = PROJECT_ROOT / "evaluation" / "surabaya.jsonl"
if real_file.is_file():
    real = read_jsonl(real_file, taxonomy)
    real_report = evaluate(model, real)
    print(json.dumps({"n": real_report["n"], "opd": real_report["opd"]}, indent=1))
    real_pred = model.predict(real.texts)[:, HEADS.index("opd")]
    print(Counter((t, p) for t, p in zip(real.labels["opd"], real_pred) if t != p).most_common(8))
else:
    print("no real-data file; run `triage realdata build` to make it")"""),
]


def build() -> nbf.NotebookNode:
    notebook = nbf.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
                      for kind, src in CELLS]
    return notebook


if __name__ == "__main__":
    nbf.write(build(), Path(__file__).with_name("error_analysis.ipynb"))
