"""Storage: migrations, all-or-nothing writes, bulk enqueueing idempotent on external_id, revisions unique."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, inspect, select
from sqlalchemy.exc import IntegrityError

from triage.complaints import NewComplaint, create_complaint, enqueue_complaints
from triage.db import Complaint, Decision, make_engine, upgrade
from triage.errors import ConflictError
from triage.suggest import Suggester
from triage.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def suggester() -> Suggester:
    return Suggester.from_registry(PROJECT_ROOT / "models", "kukar")


def count(db, table=Complaint) -> int:
    db.rollback()  # see what is committed now
    return db.scalar(select(func.count()).select_from(table))


def test_migrations_create_the_tables_and_running_them_again_changes_nothing(database_url):
    upgrade(database_url)
    upgrade(database_url)

    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"complaints", "decisions", "api_keys", "alembic_version"} <= tables


def test_a_failure_in_the_middle_of_creating_leaves_no_complaint(app, handler, db):
    def crash_after_the_insert(session, flush_context):
        raise RuntimeError("the process dies after the INSERT, before COMMIT")

    with TestClient(app, raise_server_exceptions=False) as client:
        event.listen(app.state.sessions, "after_flush", crash_after_the_insert)
        try:
            response = client.post("/v1/complaints", json={"text": "Jalan rusak di Tenggarong."},
                                   headers=handler.headers)
        finally:
            event.remove(app.state.sessions, "after_flush", crash_after_the_insert)
        listed = client.get("/v1/complaints", headers=handler.headers).json()

    assert response.status_code == 500
    assert response.json()["error"] == "internal"
    assert listed["total"] == 0
    assert count(db) == 0


def test_create_complaint_refuses_a_stored_external_id(db, suggester):
    create_complaint(db, suggester, "Air PDAM mati.", external_id="WA-9")

    with pytest.raises(ConflictError, match="WA-9"):
        create_complaint(db, suggester, "Air PDAM mati lagi.", external_id="WA-9")
    assert count(db) == 1


def test_enqueueing_twice_stores_each_external_id_once(db, suggester):
    texts = {"LAPOR-1": "Jalan rusak parah di Loa Janan.", "LAPOR-2": "Sampah menumpuk di pasar Tenggarong.",
             "LAPOR-3": "Guru honorer belum digaji tiga bulan."}
    rows = [(NewComplaint(text=t, external_id=e, channel="lapor"), s)
            for (e, t), s in zip(texts.items(), suggester.suggest_many(list(texts.values())))]

    first = enqueue_complaints(db, rows, chunk_size=2)
    again = enqueue_complaints(db, rows + [({"text": "Baru.", "external_id": "LAPOR-4"}, rows[0][1])])

    assert len(first.created) == 3 and first.skipped == 0
    assert len(again.created) == 1 and again.skipped == 3
    stored = db.scalars(select(Complaint).order_by(Complaint.external_id)).all()
    assert [c.external_id for c in stored] == ["LAPOR-1", "LAPOR-2", "LAPOR-3", "LAPOR-4"]
    assert all(c.status == "pending" and c.channel == "lapor" for c in stored[:3])


def test_enqueueing_skips_an_external_id_repeated_within_the_rows(db, suggester):
    suggestion = suggester.suggest("Lampu jalan mati.")
    result = enqueue_complaints(db, [(NewComplaint("Lampu jalan mati.", "SMS-5"), suggestion)] * 2)

    assert (len(result.created), result.skipped) == (1, 1)
    assert count(db) == 1


def test_two_decisions_cannot_share_a_revision(db, suggester):
    complaint = create_complaint(db, suggester, "Jalan rusak di Muara Badak.")
    codes = {"category": "pekerjaan_umum", "opd": "dpupr", "maladministration": "bukan_maladministrasi"}
    for _ in range(2):
        db.add(Decision(complaint_id=complaint.id, revision=1, **codes, category_kept=True, opd_kept=True,
                        maladministration_kept=True, decided_by="test"))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    assert count(db, Decision) == 0
