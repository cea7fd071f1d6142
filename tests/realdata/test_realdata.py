"""Real-data evaluation files: the reviewed maps, the build on a synthetic export, and the real build.

The real corpora live outside the project (``../shared/corpora``); the tests that read them skip cleanly
when that folder is missing (the ``shared_dir`` fixture).
"""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from triage.cli import app
from triage.dataset import read_jsonl
from triage.errors import DataError
from triage.realdata import (
    DROP_DUPLICATE, DROP_NO_CATEGORY, DROP_NO_OPD, DROP_SHORT, DROP_UNMAPPED, MAPS_DIR, OPD_CATEGORY, SOURCES,
    Source, build_all, build_source, clean_text, load_map, read_source,
)
from triage.taxonomy import LEGACY_DIR, load_taxonomy


@pytest.fixture(scope="module")
def taxonomy():
    """The realdata maps speak the Kukar codes from before the national layer (they read as national codes
    through the kukar deployment: tests/test_taxonomy.py)."""
    return load_taxonomy(LEGACY_DIR / "kukar.yaml")

MIN_ROWS_REVIEWED = 20


@pytest.mark.parametrize("name", list(SOURCES))
def test_map_codes_are_kukar_opd_codes(name, taxonomy):
    with (MAPS_DIR / f"{name}_opd_map.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and set(rows[0]) == {"source_body", "kukar_opd", "n_rows", "note"}
    for row in rows:
        assert row["kukar_opd"] == "" or row["kukar_opd"] in taxonomy.codes("opd"), row
        assert row["note"].strip(), f"{name}: body {row['source_body']!r} has no review note"
    assert load_map(MAPS_DIR / f"{name}_opd_map.csv", taxonomy)  # validates and finds no duplicates


def test_opd_category_follows_the_taxonomy(taxonomy):
    assert set(OPD_CATEGORY) == set(taxonomy.codes("opd")) - {"inspektorat"}
    assert set(OPD_CATEGORY.values()) <= set(taxonomy.codes("category"))


def test_load_map_rejects_an_unknown_code(tmp_path, taxonomy):
    path = tmp_path / "x_opd_map.csv"
    path.write_text("source_body,kukar_opd,n_rows,note\nDinas PU,dinas_pu,3,typo\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2, field 'kukar_opd'.*'dinas_pu' is not an OPD code"):
        load_map(path, taxonomy)


def test_clean_text():
    raw = "  jalan rusak\\n\\nmohon   diperbaiki\\t segera \r\n"
    assert clean_text(raw) == "jalan rusak\nmohon diperbaiki segera"


SYNTHETIC = Source("toy", "toy", "toy.csv", "Isi", "Instansi", "ID")


def _toy(tmp_path):
    rows = [
        ("1", "Jalan di depan sekolah rusak berlubang", "Dinas PU"),
        ("2", "jalan  di depan sekolah rusak berlubang", "Dinas PU"),   # duplicate after normalising
        ("3", "pju mati", "Dinas Perhubungan"),                          # two words
        ("4", "Lampu jalan mati sudah seminggu", "Dinas Perhubungan"),
        ("5", "Mohon perbaiki data warga kami", "Kelurahan Contoh"),     # body dropped by the map
        ("6", "Sampah menumpuk di TPS pasar", ""),                       # never dispositioned
        ("7", "Pegawai minta uang untuk tanda tangan", "Inspektorat"),  # no single category
        ("8", "Ada yang tidak dikenal di map", "Badan Lain"),            # not in the map
    ]
    path = tmp_path / "toy.csv"
    pd.DataFrame(rows, columns=["ID", "Isi", "Instansi"]).to_csv(path, index=False)
    mapping = tmp_path / "toy_opd_map.csv"
    mapping.write_text("source_body,kukar_opd,n_rows,note\n"
                       "Dinas PU,dpupr,2,roads\nDinas Perhubungan,dishub,2,PJU\n"
                       "Kelurahan Contoh,,1,territorial\n"
                       "(kosong),,1,not dispositioned\nInspektorat,inspektorat,1,audit\n", encoding="utf-8")
    return path, mapping


def test_build_source_on_a_synthetic_export(tmp_path, taxonomy):
    path, mapping = _toy(tmp_path)
    records, report = build_source(read_source(path, SYNTHETIC), load_map(mapping, taxonomy), "toy")
    assert [(r["id"], r["opd"], r["category"], r["source_body"]) for r in records] == [
        ("toy-1", "dpupr", "infrastruktur", "Dinas PU"),
        ("toy-4", "dishub", "perhubungan", "Dinas Perhubungan")]
    assert (report.read, report.kept) == (8, 2)
    assert report.dropped == {DROP_DUPLICATE: 1, DROP_SHORT: 1, DROP_NO_OPD: 2, DROP_NO_CATEGORY: 1,
                              DROP_UNMAPPED: 1}
    assert report.opd == {"dpupr": 1, "dishub": 1}


def test_build_all_writes_files_read_jsonl_accepts(tmp_path, taxonomy, monkeypatch):
    path, mapping = _toy(tmp_path)
    shared = tmp_path / "shared"
    (shared / "corpora" / "toy").mkdir(parents=True)
    path.rename(shared / "corpora" / "toy" / "toy.csv")
    monkeypatch.setitem(SOURCES, "toy", SYNTHETIC)
    [report] = build_all(taxonomy, shared=shared, out=tmp_path / "out", maps_dir=tmp_path, sources=["toy"])
    labelled = read_jsonl(report.path, taxonomy)
    assert labelled.heads == ("category", "opd")
    assert labelled.texts == ["Jalan di depan sekolah rusak berlubang", "Lampu jalan mati sudah seminggu"]
    assert labelled.ids == ["toy-1", "toy-4"]
    assert labelled.extra[0] == {"source_body": "Dinas PU"}


def test_read_source_names_missing_columns(tmp_path):
    path = tmp_path / "toy.csv"
    path.write_text("ID,Teks\n1,halo\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"missing \['Isi', 'Instansi'\]"):
        read_source(path, SYNTHETIC)


def test_cli_missing_shared_folder_is_one_line(tmp_path):
    result = CliRunner().invoke(app, ["realdata", "build", "--shared", str(tmp_path / "nope"),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert isinstance(result.exception, DataError)  # main() prints it as one line, exit code 2
    assert "shared folder not found" in str(result.exception)
    assert not (tmp_path / "out").exists()


def test_cli_missing_corpus_is_one_line(tmp_path):
    (tmp_path / "shared" / "corpora").mkdir(parents=True)
    result = CliRunner().invoke(app, ["realdata", "build", "--shared", str(tmp_path / "shared"),
                                      "--out", str(tmp_path / "out")])
    assert isinstance(result.exception, DataError)
    assert "corpus 'surabaya' not found" in str(result.exception)
    assert not (tmp_path / "out").exists()


# --- the real corpora (skip without ../shared) ---

@pytest.mark.parametrize("name", list(SOURCES))
def test_every_frequent_body_is_reviewed(name, shared_dir, taxonomy):
    frame = read_source(SOURCES[name].path(shared_dir), SOURCES[name])
    counts = frame["body"].value_counts()
    frequent = set(counts[counts >= MIN_ROWS_REVIEWED].index)
    missing = frequent - set(load_map(MAPS_DIR / f"{name}_opd_map.csv", taxonomy))
    assert not missing, f"{name}: bodies with >= {MIN_ROWS_REVIEWED} rows missing from the map: {missing}"


def test_real_build(shared_dir, tmp_path, taxonomy):
    result = CliRunner().invoke(app, ["realdata", "build", "--shared", str(shared_dir),
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in SOURCES:
        labelled = read_jsonl(tmp_path / f"{name}.jsonl", taxonomy)
        assert labelled.heads == ("category", "opd")
        assert len(set(labelled.texts)) == len(labelled)
        assert all(len(t.split()) >= 3 for t in labelled.texts)
        assert f"{name}: " in result.output
    lines = (tmp_path / "surabaya.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) > 5000
    assert set(json.loads(lines[0])) == {"id", "text", "opd", "category", "source_body"}
