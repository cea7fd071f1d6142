"""Bulk confirmation and its undo, conflicts on a complaint decided meanwhile, presence: on SQLite and
PostgreSQL, through the library functions the pages and the API call."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from triage.bulk import confirm_in_bulk, undo_batch, undone_batches
from triage.complaints import NewComplaint, enqueue_complaints
from triage.db import ApiKey, Complaint, DecisionBatch, utcnow
from triage.deadlines import Deadlines
from triage.decisions import Decider, history, latest_decisions, record_decision
from triage.errors import ConflictError, ForbiddenError
from triage.lifecycle import record_event, timeline
from triage.presence import EXPIRES_SECONDS, mark_closed, mark_open, open_by_others
from triage.settings import PROJECT_ROOT
from triage.suggest import Suggester

SITI, BUDI = Decider("siti", None), Decider("budi", None)


@pytest.fixture(scope="module")
def suggester() -> Suggester:
    return Suggester.from_registry(PROJECT_ROOT / "models", "kukar")


@pytest.fixture(scope="module")
def texts(suggester) -> dict[str, list[str]]:
    """Seed test complaints the shipped model is sure of on every head, and some it flags for review."""
    lines = (PROJECT_ROOT / "training_data" / "kukar" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    sure, unsure = [], []
    for line in lines[:80]:
        text = json.loads(line)["text"]
        suggestion = suggester.suggest(text)  # forwarding outside the pemda is never confirmed in bulk
        (unsure if suggestion.needs_review or suggestion.opd.outside else sure).append(text)
    assert len(sure) >= 4 and len(unsure) >= 1
    return {"sure": sure[:4], "unsure": unsure[:1]}


@pytest.fixture
def stored(db, suggester, texts) -> dict[str, list[int]]:
    ids = {}
    for kind, batch in texts.items():
        ids[kind] = enqueue_complaints(db, [(NewComplaint(text=t), suggester.suggest(t)) for t in batch]).created
    return ids


def state(db, complaint_id: int) -> tuple:
    db.rollback()
    c = db.get(Complaint, complaint_id)
    db.refresh(c)
    result = (c.status, c.revisions, c.opd, c.suggested_opd)
    db.rollback()
    return result


def test_bulk_confirms_each_sure_complaint_as_its_own_revision_and_leaves_the_others(db, taxonomy, stored):
    sure, unsure = stored["sure"], stored["unsure"]
    result = confirm_in_bulk(db, taxonomy, [(i, 0) for i in sure + unsure], SITI)

    assert result.done == sure
    assert set(result.left) == set(unsure) and "perlu ditinjau" in result.left[unsure[0]]
    for complaint_id in sure:
        [decision] = history(db, complaint_id)
        assert decision.batch_id == result.batch_id and decision.revision == 1
        assert decision.decided_by == "siti" and decision.category_kept and decision.opd_kept
        assert state(db, complaint_id)[0] == "decided"
    assert state(db, unsure[0])[:2] == ("pending", 0)


def test_a_complaint_decided_since_it_was_shown_is_left_as_decided(db, taxonomy, stored):
    first, *rest = stored["sure"]
    record_decision(db, taxonomy, first, category="kesehatan", opd="dinkes", maladministration="penundaan_berlarut",
                    decider=BUDI)
    result = confirm_in_bulk(db, taxonomy, [(i, 0) for i in stored["sure"]], SITI)
    assert result.done == rest
    assert result.left == {first: "sudah diputuskan oleh budi (revisi 1)"}
    assert [d.decided_by for d in history(db, first)] == ["budi"]


def test_undo_returns_pending_complaints_to_the_queue_and_keeps_the_history_truthful(db, taxonomy, stored):
    sure = stored["sure"]
    batch = confirm_in_bulk(db, taxonomy, [(i, 0) for i in sure], SITI).batch_id

    undone = undo_batch(db, taxonomy, batch, SITI)

    assert undone.done == sure and undone.left == {}
    for complaint_id in sure:
        status, revisions, opd, suggested_opd = state(db, complaint_id)
        assert (status, revisions, opd) == ("pending", 1, suggested_opd)  # pending again; the revision stays
        assert [d.batch_id for d in history(db, complaint_id)] == [batch]
    assert set(undone_batches(db, [batch])) == {batch}
    assert latest_decisions(db) == []  # retraining learns nothing from an undone confirmation
    # Back in the queue, they can be confirmed again: the next one is revision 2.
    again = confirm_in_bulk(db, taxonomy, [(i, 1) for i in sure], SITI)
    assert again.done == sure and [d.revision for d in history(db, sure[0])] == [1, 2]


def test_undo_spares_a_complaint_decided_again_after_the_batch(db, taxonomy, stored):
    corrected, kept_by_budi, *_ = stored["sure"]
    record_decision(db, taxonomy, corrected, category="kesehatan", opd="dinkes",
                    maladministration="penundaan_berlarut", decider=BUDI)
    db.rollback()
    batch = confirm_in_bulk(db, taxonomy, [(i, 0) for i in stored["sure"]], SITI)
    assert corrected not in batch.done  # decided before: not pending, not taken
    record_decision(db, taxonomy, kept_by_budi, category="kesehatan", opd="dinkes",
                    maladministration="penundaan_berlarut", decider=BUDI)  # budi decides after the batch

    undone = undo_batch(db, taxonomy, batch.batch_id, SITI)

    assert kept_by_budi in undone.left and "budi" in undone.left[kept_by_budi]
    assert state(db, kept_by_budi)[:3] == ("decided", 2, "dinkes")
    with pytest.raises(ConflictError, match="sudah dibatalkan"):
        undo_batch(db, taxonomy, batch.batch_id, SITI)


def test_undo_after_an_earlier_decision_records_a_restoring_revision(db, taxonomy, stored):
    complaint_id = stored["sure"][0]
    record_decision(db, taxonomy, complaint_id, category="kesehatan", opd="dinkes",
                    maladministration="penundaan_berlarut", decider=BUDI)
    # The batch tags a decision made on top of budi's (as a bulk confirmation of a re-opened complaint would).
    db.rollback()
    batch = DecisionBatch(decided_by="siti", created_at=utcnow())
    db.add(batch)
    db.commit()
    suggested = {h: getattr(db.get(Complaint, complaint_id), f"suggested_{h}") for h in ("category", "opd",
                                                                                      "maladministration")}
    db.rollback()
    record_decision(db, taxonomy, complaint_id, **suggested, decider=SITI, expected_revision=1, batch_id=batch.id)

    undo_batch(db, taxonomy, batch.id, SITI)

    revisions = history(db, complaint_id)
    assert [(d.revision, d.decided_by, d.opd) for d in revisions] == [
        (1, "budi", "dinkes"), (2, "siti", suggested["opd"]), (3, "siti", "dinkes")]
    assert revisions[2].note == f"Membatalkan konfirmasi massal #{batch.id}"
    assert state(db, complaint_id)[:3] == ("decided", 3, "dinkes")


def test_only_who_made_a_batch_or_an_admin_may_undo_it(db, taxonomy, stored):
    batch = confirm_in_bulk(db, taxonomy, [(stored["sure"][0], 0)], SITI).batch_id
    with pytest.raises(ForbiddenError, match="hanya dia atau admin"):
        undo_batch(db, taxonomy, batch, BUDI)
    assert undo_batch(db, taxonomy, batch, BUDI, admin=True).done == [stored["sure"][0]]


def test_a_decision_on_a_revision_that_moved_on_is_refused_with_what_the_other_decided(db, taxonomy, stored):
    complaint_id = stored["sure"][0]
    record_decision(db, taxonomy, complaint_id, category="kesehatan", opd="dinkes",
                    maladministration="penundaan_berlarut", decider=BUDI, expected_revision=0)
    with pytest.raises(ConflictError) as refused:
        record_decision(db, taxonomy, complaint_id, category="kesehatan", opd="rsud",
                        maladministration="penundaan_berlarut", decider=SITI, expected_revision=0)
    assert "sudah diputuskan oleh budi (revisi 1: kategori kesehatan, OPD dinkes" in str(refused.value)
    assert [d.decided_by for d in history(db, complaint_id)] == ["budi"]
    # Deliberately overwriting: a new revision on top of the one now seen.
    record_decision(db, taxonomy, complaint_id, category="kesehatan", opd="rsud",
                    maladministration="penundaan_berlarut", decider=SITI, expected_revision=1)
    assert [d.revision for d in history(db, complaint_id)] == [1, 2]


def test_presence_shows_others_until_it_expires_or_they_decide(db, stored, handler, admin, time_machine):
    siti = db.scalar(select(ApiKey).where(ApiKey.name == handler.name))
    budi = db.scalar(select(ApiKey).where(ApiKey.name == admin.name))
    db.rollback()
    first, second = stored["sure"][:2]
    time_machine.move_to("2031-05-06 08:00:00+00:00", tick=False)
    mark_open(db, first, siti.id, "siti")
    mark_open(db, second, siti.id, "siti")
    mark_open(db, first, budi.id, "budi")

    assert open_by_others(db, [first, second], budi.id) == {first: ["siti"], second: ["siti"]}
    assert open_by_others(db, [first, second], siti.id) == {first: ["budi"]}
    mark_closed(db, second, siti.id)
    assert open_by_others(db, [first, second], budi.id) == {first: ["siti"]}

    time_machine.move_to(f"2031-05-06 08:0{EXPIRES_SECONDS // 60 - 1}:59+00:00", tick=False)
    mark_open(db, first, budi.id, "budi")  # budi's heartbeat; siti's page has gone quiet
    time_machine.shift(timedelta(seconds=61))
    assert open_by_others(db, [first], budi.id) == {}
    assert open_by_others(db, [first], siti.id) == {first: ["budi"]}


def test_the_api_answers_409_when_expected_revision_is_stale(client, handler, admin, complaint):
    url = f"/v1/complaints/{complaint['id']}/decisions"
    routing = {"category": "pekerjaan_umum", "opd": "dpupr", "maladministration": "penundaan_berlarut"}
    first = client.post(url, json={**routing, "expected_revision": 0}, headers=admin.headers)
    assert first.status_code == 201, first.text

    second = client.post(url, json={**routing, "opd": "dishub", "expected_revision": 0}, headers=handler.headers)
    assert second.status_code == 409
    assert second.json()["message"].startswith(f"Pengaduan #{complaint['id']} sudah diputuskan oleh budi-admin "
                                               "(revisi 1: kategori pekerjaan_umum, OPD dpupr")
    overwrite = client.post(url, json={**routing, "opd": "dishub", "expected_revision": 1}, headers=handler.headers)
    assert overwrite.status_code == 201 and overwrite.json()["revision"] == 2
    without = client.post(url, json=routing, headers=handler.headers)  # no expected_revision: always a revision
    assert without.status_code == 201 and without.json()["revision"] == 3


def test_undo_takes_the_routing_back_as_a_lifecycle_step_and_spares_what_the_opd_acknowledged(db, taxonomy, stored):
    first, second, *_ = stored["sure"]
    batch = confirm_in_bulk(db, taxonomy, [(first, 0), (second, 0)], SITI).batch_id
    for complaint_id in (first, second):
        assert db.get(Complaint, complaint_id).stage == "routed"
    record_event(db, second, "acknowledge", by=BUDI)  # the OPD took it up meanwhile

    undone = undo_batch(db, taxonomy, batch, SITI)

    assert undone.done == [first]
    assert undone.left == {second: "sudah ditindaklanjuti OPD (status 'Diterima OPD')"}
    db.expire_all()
    back = db.get(Complaint, first)
    assert (back.status, back.stage, back.stage_at) == ("pending", "received", back.received_at)
    assert back.due_at == Deadlines().due("route", back.received_at)  # the clock of its stage before the batch
    steps = [(e.action, e.stage, e.actor) for e in timeline(db, first)]
    assert steps == [("route", "routed", "siti"), ("unroute", "received", "siti")]
    assert timeline(db, first)[-1].data == {"batch_id": batch}
    kept = db.get(Complaint, second)
    assert (kept.status, kept.stage) == ("decided", "acknowledged")
