"""Fixtures of the retraining tests: a registry with a champion, a history database, complaints of a kind.

* ``seed_champion``: a registry whose serving model (``kukar-champion``) was trained here on today's seed
  training split, so that the tests compare like with like whether or not the shipped ``kukar-seed`` was
  retrained after the corpus last changed (when it was not, retraining skips the seed comparison; see
  ``test_gate.py``).
* ``small_corpus_dir`` and ``small_champion``: a slice of the seed corpus (about 12 complaints per OPD)
  and a model trained on it in a second or two, for the tests of mechanics (jobs, exit codes, taxonomy).
* ``street_lights(n, templates, seed)``: complaints about street lighting (PJU), the kind of complaint a
  reorganisation moves from Dinas Perhubungan to Dinas Perkim.
* ``retrain_settings(...)``: settings on a fresh SQLite history database and a copy of a registry.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from triage.dataset import LabelledSet
from triage.db import upgrade
from triage.registry import ModelRegistry
from triage.settings import PROJECT_ROOT, Settings
from triage.taxonomy import HEADS

STREETS = ["Jl. Mulawarman", "Jl. Ahmad Yani", "Jl. Poros Tenggarong-Samarinda", "Jl. Wolter Monginsidi",
           "Jl. Imam Bonjol", "Jl. Danau Semayang", "Jl. Gunung Belah", "Jl. KH Akhmad Muksin", "Jl. Panjaitan",
           "Jl. Diponegoro", "Jl. Cut Nyak Dien", "Jl. Pesut", "Jl. Sultan Sulaiman", "Jl. Ki Hajar Dewantara",
           "Jl. Patin", "Jl. Robert Wolter", "Jl. Kartini", "Jl. Bukit Biru"]
PLACES = ["Tenggarong", "Tenggarong Seberang", "Loa Kulu", "Loa Janan", "Sebulu", "Muara Badak", "Samboja",
          "Anggana", "Sanga-Sanga", "Muara Jawa", "Kota Bangun", "Muara Kaman", "Marang Kayu", "Loa Ipuh",
          "Bukit Biru", "Mangkurawang", "Timbau", "Jahab"]
SPOTS = ["masjid", "sekolah", "pasar", "kantor desa", "puskesmas", "jembatan", "simpang tiga", "gereja",
         "lapangan bola", "SPBU", "musala", "pos ronda"]
WHEN = ["awal bulan", "minggu lalu", "lebaran kemarin", "bulan puasa", "dua bulan lalu", "hujan badai kemarin"]

# What handlers see and re-route after the reorganisation.
LIGHTS_SEEN = [
    "lampu jalan di {street} {place} mati sudah {n} minggu, malam gelap gulita rawan begal",
    "PJU di depan {spot} {place} padam sejak {when}. mohon segera diperbaiki",
    "KUKAR ADUAN lampu penerangan jalan {street} {place} mati {n} tiang berturut2",
    "Dengan hormat, kami warga {place} melaporkan lampu penerangan jalan umum di {street} tidak menyala sejak "
    "{when}. Mohon ditindaklanjuti.",
    "tolong lampu jalan dekat {spot} di {place} diganti, sdh {n} bulan mati, anak2 pulang ngaji gelap",
    "tiang PJU di {street} {place} miring hampir roboh dan lampunya mati, bahaya buat pengendara",
]
# Street-lighting complaints worded in ways no decision used.
LIGHTS_UNSEEN = [
    "lampu jalan {street} nyala siang mati malam, tolong dicek timernya. {place}",
    "sdh lapor berkali2 soal lampu PJU depan {spot} {place} yg mati, smp skrg blm ada petugas datang",
    "Selamat siang. Penerangan jalan umum di sekitar {spot} {place} sudah {n} minggu padam, warga takut "
    "keluar malam.",
]


def street_lights(n: int, templates: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(templates).format(street=rng.choice(STREETS), place=rng.choice(PLACES),
                                         spot=rng.choice(SPOTS), when=rng.choice(WHEN), n=rng.randint(2, 9))
            for _ in range(n)]


def with_typos(text: str, rng: random.Random, rate: float = 0.06) -> str:
    """``text`` with a share of its words misspelt (``benchmarks/backlog.py``'s keyboard slips)."""
    sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
    try:
        from backlog import typo
    finally:
        sys.path.pop(0)
    return " ".join(typo(w, rng) if rng.random() < rate else w for w in text.split())


def write_jsonl(path: Path, data: LabelledSet) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for i, text in enumerate(data.texts):
            record = {"id": data.ids[i] if data.ids else str(i), "text": text,
                      **{h: data.labels[h][i] for h in HEADS}}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def per_opd(data: LabelledSet, n: int) -> LabelledSet:
    """Up to ``n`` complaints of each OPD, in corpus order."""
    seen: dict[str, int] = {}
    keep = []
    for i, opd in enumerate(data.labels["opd"]):
        if seen.get(opd, 0) < n:
            seen[opd] = seen.get(opd, 0) + 1
            keep.append(i)
    return LabelledSet(texts=[data.texts[i] for i in keep], labels={h: [v[i] for i in keep] for h, v in
                                                                     data.labels.items()},
                       ids=[data.ids[i] for i in keep])


@pytest.fixture(scope="session")
def seed_champion(tmp_path_factory, taxonomy) -> Path:
    """A models directory whose promoted model was trained on today's seed training split (~15 s, once)."""
    from triage.train import train

    root = tmp_path_factory.mktemp("seed-champion") / "models"
    train(PROJECT_ROOT / "training_data", taxonomy, ModelRegistry(root), version="kukar-champion")
    ModelRegistry(root).promote("kukar-champion")
    return root


@pytest.fixture(scope="session")
def small_corpus_dir(tmp_path_factory, taxonomy, train_set, test_set) -> Path:
    """A seed corpus folder: 12 training and 6 test complaints per OPD, codes too rare for cv=3 left out."""
    from triage.retrain import subset, too_rare_codes

    folder = tmp_path_factory.mktemp("small-corpus") / "kukar"
    train = per_opd(train_set, 12)
    keep, _ = too_rare_codes(train, taxonomy, 3)
    write_jsonl(folder / "train.jsonl", subset(train, keep))
    write_jsonl(folder / "test.jsonl", per_opd(test_set, 6))
    return folder


@pytest.fixture(scope="session")
def small_champion(tmp_path_factory, taxonomy, small_corpus_dir) -> Path:
    """A models directory serving ``kukar-small``, trained on ``small_corpus_dir`` (a second or two)."""
    from triage.train import train

    root = tmp_path_factory.mktemp("small-champion") / "models"
    train(small_corpus_dir, taxonomy, ModelRegistry(root), version="kukar-small")
    ModelRegistry(root).promote("kukar-small")
    return root


@pytest.fixture
def retrain_settings(tmp_path):
    """``retrain_settings(models=..., data=..., **overrides)``: settings on a fresh SQLite database and a
    copy of the registry ``models``; codes need 3 examples (the small corpus has 12 per OPD)."""

    def make(models: Path, data: Path | None = None, **overrides) -> Settings:
        copy = tmp_path / "models"
        if not copy.exists():
            shutil.copytree(models, copy)
        url = f"sqlite:///{tmp_path / 'history.db'}"
        upgrade(url)
        values = dict(database_url=url, models_dir=copy, training_data_dir=data or PROJECT_ROOT / "training_data",
                      deployment="kukar", model_check_seconds=0, retrain_min_examples=3)
        return Settings(**(values | overrides))

    return make


def run_cli(*args: str, settings: Settings, timeout: float = 300) -> subprocess.CompletedProcess:
    """``triage ARGS`` in its own process, configured by ``settings`` through TRIAGE_* variables."""
    from triage.retrain_job import settings_environment

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")} | settings_environment(settings)
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=timeout)


@pytest.fixture
def cli():
    """``cli(*args, settings=...)``: :func:`run_cli`."""
    return run_cli


@pytest.fixture(scope="session")
def lights():
    """``lights(n, seen=True, seed=0)``: street-lighting complaints, worded as decided (or never decided)."""

    def make(n: int, seen: bool = True, seed: int = 0) -> list[str]:
        return street_lights(n, LIGHTS_SEEN if seen else LIGHTS_UNSEEN, seed)

    return make
