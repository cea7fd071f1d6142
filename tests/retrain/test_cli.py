"""``triage retrain`` and ``triage models`` as an operator (or cron) runs them, each in its own process.

Exit codes: 0 promoted, 3 rejected by the gate, 2 error; the serving model changes only on 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.registry import ModelRegistry
from triage.retrain_job import RetrainLock

pytestmark = pytest.mark.slow  # trains models or runs the service


def reports(settings) -> list[Path]:
    return sorted((Path(settings.models_dir) / "retrain-reports").glob("*.json"))


def test_a_dry_run_trains_and_reports_but_saves_and_promotes_nothing(cli, retrain_settings, small_champion,
                                                                    small_corpus_dir):
    settings = retrain_settings(small_champion, small_corpus_dir)
    before = [i.version for i in ModelRegistry(settings.models_dir).list()]

    done = cli("retrain", "--dry-run", settings=settings)

    assert done.returncode == 0, done.stderr
    assert "dry run: the gate would pass the challenger; nothing saved" in done.stdout
    assert [i.version for i in ModelRegistry(settings.models_dir).list()] == before
    assert ModelRegistry(settings.models_dir).current_version() == "kukar-small"
    report = json.loads(reports(settings)[0].read_text())
    assert report["status"] == "dry_run" and report["challenger"] is None
    assert reports(settings)[0].with_suffix(".md").read_text().startswith("# Retraining report: kukar")


def test_a_dry_run_on_a_database_nobody_created_yet_brings_it_up_to_date_first(cli, retrain_settings, tmp_path,
                                                                              small_champion, small_corpus_dir):
    fresh = f"sqlite:///{tmp_path / 'never-served.db'}"
    settings = retrain_settings(small_champion, small_corpus_dir).model_copy(update={"database_url": fresh})

    done = cli("retrain", "--dry-run", settings=settings)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "dry run:" in done.stdout


def test_retrain_prints_its_stages_promotes_and_the_models_commands_list_and_roll_back(cli, retrain_settings,
                                                                                        small_champion,
                                                                                        small_corpus_dir):
    settings = retrain_settings(small_champion, small_corpus_dir)

    done = cli("retrain", settings=settings)

    assert done.returncode == 0, done.stderr
    stages = [line.split("]")[1].split()[0] for line in done.stderr.splitlines() if line.startswith("[")]
    assert stages[0] == "load" and stages[-1] == "save" and "train" in stages and "evaluate" in stages
    assert "[100%]" in done.stderr
    registry = ModelRegistry(settings.models_dir)
    new = registry.current_version()
    assert new != "kukar-small" and done.stdout.startswith(f"promoted {new} (was kukar-small)")
    assert (registry.info(new).path / "report.md").is_file()
    assert json.loads((registry.info(new).path / "retrain.json").read_text())["status"] == "promoted"

    listed = cli("models", "list", settings=settings).stdout
    assert f"* {new}" in listed and "  kukar-small" in listed
    assert cli("models", "show", settings=settings).stdout.startswith("# Retraining report")

    rolled = cli("models", "rollback", settings=settings)
    assert rolled.stdout.strip() == f"serving kukar-small (was {new})"
    promoted = cli("models", "promote", new, settings=settings)
    assert promoted.stdout.strip() == f"serving {new} (was kukar-small)"
    assert registry.current_version() == new


def test_a_rejected_challenger_exits_3_is_kept_but_not_served_and_the_report_says_why(cli, retrain_settings,
                                                                                    small_champion,
                                                                                    small_corpus_dir):
    # A deployment that demands a gain of 0.5 on every head: no challenger can pass.
    settings = retrain_settings(small_champion, small_corpus_dir, retrain_seed_tolerance=-0.5,
                                retrain_confidence=0.0)

    done = cli("retrain", settings=settings)

    assert done.returncode == 3, done.stderr
    registry = ModelRegistry(settings.models_dir)
    assert registry.current_version() == "kukar-small"
    rejected = registry.list()[-1]
    assert rejected.metadata["retrain"]["status"] == "rejected"
    assert f"rejected {rejected.version}: kukar-small keeps serving" in done.stdout
    report = json.loads(reports(settings)[-1].read_text())
    assert not report["passed"]
    assert "category accuracy on the seed test split" in report["reasons"][0]
    assert "**REJECTED (not promoted)**" in (rejected.path / "report.md").read_text()


def test_an_error_exits_2_with_one_line_and_changes_nothing(cli, retrain_settings, small_champion, tmp_path):
    settings = retrain_settings(small_champion, tmp_path / "no-corpus-here")

    done = cli("retrain", settings=settings)

    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "train.jsonl" in done.stderr and "Traceback" not in done.stderr
    assert [i.version for i in ModelRegistry(settings.models_dir).list()] == ["kukar-small"]


def test_retrain_refuses_to_start_while_another_job_holds_the_lock(cli, retrain_settings, small_champion,
                                                                  small_corpus_dir):
    settings = retrain_settings(small_champion, small_corpus_dir)
    lock = RetrainLock(settings.models_dir).acquire("rt-nightly")
    try:
        done = cli("retrain", settings=settings)
    finally:
        lock.release()

    assert done.returncode == 2
    assert "A retrain job is running already: job rt-nightly" in done.stderr
