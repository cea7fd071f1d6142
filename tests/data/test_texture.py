"""training_data/texture.py adds three typing habits to a share of a corpus's lines, on record as corrections."""

import importlib.util
import json
import random
import sys

from triage.settings import PROJECT_ROOT


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "training_data" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


texture = _load("texture")
realism = _load("realism")


def test_each_habit_changes_only_what_it_names():
    rnd = random.Random(1)
    assert texture.drop_stop("Jalan rusak, mohon diperbaiki.", rnd) == "Jalan rusak, mohon diperbaiki"
    assert texture.drop_stop("kapan diperbaiki?", rnd) is None
    assert texture.drop_stop("tunggu saja...", rnd) is None
    squeezed = texture.squeeze("Sudah lapor, belum ada tindakan.", rnd)
    assert squeezed == "Sudah lapor,belum ada tindakan."
    assert realism.missing_space(squeezed)
    assert texture.squeeze("Tarif Rp 3.500, 00 per bulan", rnd) is None  # numbers are not words
    assert texture.lower_first("Lampu jalan mati", rnd) == "lampu jalan mati"
    assert texture.lower_first("PJU mati", rnd) is None


def test_rates_are_shares_of_the_corpus_and_every_change_is_on_record():
    rows = [{"id": f"r{i}", "text": f"Selokan di gang {i}, penuh sampah. Mohon dibersihkan."} for i in range(200)]
    fixes = texture.texture(rows, {"drop_stop": 0.3, "squeeze": 0.2, "lower": 0.1}, seed=7)
    by_habit = {name: [f for f in fixes if what in f["reason"]] for name, _, what in texture.HABITS}
    assert [len(by_habit[n]) for n in ("drop_stop", "squeeze", "lower")] == [60, 40, 20]
    current = {r["id"]: r["text"] for r in rows}
    for fix in fixes:  # applied in order, each old is the text the one before left
        assert current[fix["id"]] == fix["old"] and fix["field"] == "text"
        current[fix["id"]] = fix["new"]
    assert fixes == texture.texture(rows, {"drop_stop": 0.3, "squeeze": 0.2, "lower": 0.1}, seed=7)


def test_apply_writes_into_a_split_once(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"id": "k1", "text": "Jalan rusak."}) + "\n", encoding="utf-8")
    fix = {"id": "k1", "field": "text", "old": "Jalan rusak.", "new": "Jalan rusak", "reason": "r"}
    assert texture.apply([path], [fix]) == 1
    assert texture.apply([path], [fix]) == 0
    assert json.loads(path.read_text(encoding="utf-8"))["text"] == "Jalan rusak"


def test_wording_habits_keep_the_matter_and_are_counted_by_the_realism_report():
    rnd = random.Random(3)
    closed = texture.close_with_thanks("Sampah di gang 4 belum diangkut seminggu", rnd, "surabaya")
    assert closed.startswith("Sampah di gang 4 belum diangkut seminggu") and realism.mentions_thanks(closed)
    assert texture.close_with_thanks("jalan rusak, makasih min", rnd) is None
    opened = texture.open_with_greeting("Lampu jalan mati", rnd, "kab_bandung")
    assert opened.lower().endswith("lampu jalan mati") and realism.opens_with_greeting(opened)
    assert texture.open_with_greeting("Selamat siang, lampu mati", rnd) is None
    assert texture.speak_as_one("Kami sudah lapor, rumah kami kebanjiran", rnd) == \
        "Saya sudah lapor, rumah saya kebanjiran"
    assert texture.speak_as_one("kami para pedagang pasar menolak", rnd) is None  # a named group stays
    assert texture.speak_as_one("saya dan kami", rnd) is None
