"""The ``triage`` command as a user runs it: real processes, stdout, stderr and exit codes."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from triage.settings import PROJECT_ROOT


def run(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage", *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=PROJECT_ROOT, timeout=120)


def test_suggest_prints_a_readable_routing():
    result = run("suggest", "Jalan poros di Loa Janan rusak parah, mohon diperbaiki")
    assert result.returncode == 0, result.stderr
    assert "opd" in result.stdout and "dpupr" in result.stdout


def test_suggest_json_from_stdin():
    result = run("suggest", "--json", stdin="KUKAR ADUAN ktp sy blm jadi sdh 2 bln")
    assert result.returncode == 0, result.stderr
    suggestion = json.loads(result.stdout)
    assert suggestion["opd"]["code"] == "disdukcapil"
    assert {"model_version", "needs_review", "explanation", "category", "maladministration"} <= set(suggestion)


@pytest.mark.parametrize("confidence, shown", [(1.0, ">0.99"), (0.9951, ">0.99"), (0.994, "0.99"), (0.5, "0.50"),
                                                (0.0051, "0.01"), (0.004, "<0.01"), (0.0, "<0.01")])
def test_a_confidence_is_never_shown_as_a_certainty(confidence, shown):
    from triage.cli.classify import confidence_text

    assert confidence_text(confidence) == shown


def test_suggest_shows_near_certain_and_negligible_confidences_as_such():
    result = run("suggest", "KUKAR ADUAN lampu jalan di Jl. Ahmad Yani Tenggarong mati sdh 2 minggu, gelap rawan jambret")
    assert result.returncode == 0, result.stderr
    assert ">0.99" in result.stdout and "<0.01" in result.stdout
    assert "1.00" not in result.stdout and "0.00" not in result.stdout


def test_suggest_flags_review_in_english_only():
    result = run("suggest", "saya mau tanya soal itu kemarin")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].endswith("[needs review]")
    assert "PERLU" not in result.stdout and "DITINJAU" not in result.stdout


def test_the_operator_cli_writes_its_own_messages_in_english():
    # Indonesian is for handlers (API, web page); a CLI message in both languages reads as neither.
    indonesian = re.compile(r"\b(perlu|ditinjau|pengaduan|tidak|sudah|belum|dengan|kunci|berhasil|gagal)\b", re.I)
    offenders = [f"{path.name}:{number}: {line.strip()}"
                 for path in sorted((PROJECT_ROOT / "triage" / "cli").glob("*.py"))
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if indonesian.search(line) and not line.lstrip().startswith("#")]
    assert offenders == []


def test_evaluate_json_reports_only_the_heads_in_the_file(tmp_path):
    data = tmp_path / "opd_only.jsonl"
    data.write_text("\n".join(json.dumps({"text": t, "opd": o}) for t, o in [
        ("jalan rusak parah mohon diperbaiki", "dpupr"), ("ktp belum jadi sudah lama", "disdukcapil"),
        ("air pdam mati tiga hari", "pdam")]) + "\n")
    result = run("evaluate", "--data", str(data), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 3 and "opd" in report and "category" not in report
    assert {"accuracy", "macro_f1", "top3_accuracy", "ece", "coverage", "accuracy_not_flagged"} <= set(report["opd"])


@pytest.mark.parametrize("content, expected", [
    ('{"text": "jalan rusak", "opd": "dpupr"}\n{"text": "x", "opd": \n', r"line 2: not valid JSON"),
    ('{"text": "jalan rusak", "opd": "dpupr"}\n{"text": "lampu mati", "opd": "dinas-pu2"}\n',
     r"line 2, field 'opd': 'dinas-pu2' is not an opd code of deployment 'kukar'"),
    ('{"text": "", "opd": "dpupr"}\n', r"line 1, field 'text': expected a non-empty string"),
    ('{"text": "jalan rusak", "opd": "dpupr"}\n{"text": "lampu mati"}\n', r"line 2, field 'opd': missing"),
    ('["jalan rusak"]\n', r"line 1: expected a JSON object"),
])
def test_a_bad_input_file_names_file_line_and_field(tmp_path, content, expected):
    data = tmp_path / "bad.jsonl"
    data.write_text(content)
    result = run("evaluate", "--data", str(data))
    assert result.returncode == 2
    assert str(data) in result.stderr
    assert __import__("re").search(expected, result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_file_is_named():
    result = run("evaluate", "--data", "nowhere.jsonl")
    assert result.returncode == 2 and "nowhere.jsonl: file not found" in result.stderr


def test_train_refuses_bad_training_data_before_fitting(tmp_path):
    (tmp_path / "train.jsonl").write_text('{"text": "jalan rusak", "category": "infrastruktur", "opd": "dpupr", '
                                          '"maladministration": "pungli"}\n')
    (tmp_path / "test.jsonl").write_text("")
    result = run("train", "--data", str(tmp_path), env={"TRIAGE_MODELS_DIR": str(tmp_path / "models")})
    assert result.returncode == 2
    assert "train.jsonl line 1, field 'maladministration': 'pungli' is not a maladministration code" in result.stderr


def test_empty_text_is_refused():
    result = run("suggest", "   ")
    assert result.returncode == 2 and "the complaint text is blank" in result.stderr


def test_text_without_letters_is_refused():
    result = run("suggest", "!!! 123")
    assert result.returncode == 2 and "no letters" in result.stderr


def test_unknown_deployment_is_refused():
    result = run("suggest", "--deployment", "jakarta", "jalan rusak")
    assert result.returncode == 2 and "Unknown deployment 'jakarta'" in result.stderr


def test_no_model_says_how_to_train_one(tmp_path):
    result = run("suggest", "jalan rusak", env={"TRIAGE_MODELS_DIR": str(tmp_path)})
    assert result.returncode == 2 and "triage train" in result.stderr


def test_a_corrupt_model_is_refused(tmp_path):
    shutil.copytree(PROJECT_ROOT / "models" / "kukar-seed", tmp_path / "kukar-seed")
    (tmp_path / "kukar-seed" / "model.npz").write_bytes(b"not a model")
    result = run("suggest", "jalan rusak", env={"TRIAGE_MODELS_DIR": str(tmp_path)})
    assert result.returncode == 2 and "corrupt" in result.stderr and "Traceback" not in result.stderr


def test_a_model_of_another_deployment_is_refused():
    legacy = PROJECT_ROOT / "triage" / "deployments" / "legacy" / "kalsel.yaml"  # codes of its own, not national
    result = run("suggest", "--deployment", str(legacy), "jalan rusak")
    assert result.returncode == 2 and "Retrain for this taxonomy" in result.stderr


def test_evaluating_a_file_without_labels_says_what_is_missing(tmp_path):
    data = tmp_path / "unlabelled.jsonl"
    data.write_text('{"text": "jalan rusak parah"}\n')
    result = run("evaluate", "--data", str(data))
    assert result.returncode == 2 and "no labels to evaluate against" in result.stderr
