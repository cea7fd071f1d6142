"""Migration 0006 keeps every complaint and decision (a decided one becomes routed, with an event), and the
outcome report's figures are exactly what happened."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import text

from triage.db import make_engine, upgrade
from triage.deadlines import Deadlines

from .conftest import CLINIC, intake, route, step

WITA = ZoneInfo("Asia/Makassar")
SUGGESTION = json.dumps({"model_version": "old", "needs_review": False})


def test_the_migration_turns_decided_complaints_into_routed_ones_and_keeps_everything(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    engine = make_engine(url)
    received = datetime(2026, 3, 2, 1, 0)  # naive UTC, as stored
    decided = datetime(2026, 3, 3, 2, 0)
    with engine.begin() as connection:
        for cid, status, revisions in ((1, "decided", 2), (2, "pending", 0)):
            connection.execute(text(
                "INSERT INTO complaints (id, text, received_at, created_at, status, revisions, model_version, "
                "suggestion, needs_review, min_confidence, suggested_category, suggested_opd, "
                "suggested_maladministration, category_confidence, opd_confidence, maladministration_confidence, "
                "category, opd, maladministration) VALUES (:id, 'jalan rusak', :at, :at, :status, :revisions, 'old', "
                ":suggestion, 0, 0.9, 'infrastruktur', 'dpupr', 'bukan_maladministrasi', 0.9, 0.9, 0.9, "
                "'infrastruktur', :opd, 'bukan_maladministrasi')"),
                {"id": cid, "at": received, "status": status, "revisions": revisions, "suggestion": SUGGESTION,
                 "opd": "perkim" if status == "decided" else "dpupr"})
        for revision, opd in ((1, "dpupr"), (2, "perkim")):
            connection.execute(text(
                "INSERT INTO decisions (complaint_id, revision, category, opd, maladministration, category_kept, "
                "opd_kept, maladministration_kept, note, decided_by, decided_at) VALUES (1, :revision, "
                "'infrastruktur', :opd, 'bukan_maladministrasi', 1, :kept, 1, 'koreksi', 'siti', :at)"),
                {"revision": revision, "opd": opd, "kept": opd == "dpupr", "at": decided})
    upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, status, revisions, opd, stage, stage_at, due_at FROM complaints "
                                       "ORDER BY id")).all()
        events = connection.execute(text("SELECT complaint_id, action, stage, actor, opd, note, data, at "
                                         "FROM complaint_events")).all()
        decisions = connection.execute(text("SELECT COUNT(*) FROM decisions")).scalar()
    engine.dispose()
    defaults = Deadlines()
    utc = timezone.utc
    assert decisions == 2
    assert [tuple(r[:5]) for r in rows] == [(1, "decided", 2, "perkim", "routed"), (2, "pending", 0, "dpupr", "received")]
    assert str(rows[0].due_at)[:19] == str(defaults.due("respond", decided.replace(tzinfo=utc)).replace(tzinfo=None))
    assert str(rows[1].due_at)[:19] == str(defaults.due("route", received.replace(tzinfo=utc)).replace(tzinfo=None))
    [event] = events
    assert tuple(event[:6]) == (1, "route", "routed", "siti", "perkim", "koreksi")
    assert json.loads(event.data) == {"revision": 2, "migrated": True}


def test_the_outcome_report_counts_what_happened(client, handler, focal, health_focal, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 8, 0, tzinfo=WITA), tick=False)  # Monday
    settled, returned, late, archived = (intake(client, handler), intake(client, handler, CLINIC),
                                         intake(client, handler), intake(client, handler))
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=WITA), tick=False)  # routed 2 h after intake
    route(client, handler, settled)
    route(client, handler, returned)
    step(client, handler, archived, "archive", reason="spam")
    time_machine.move_to(datetime(2026, 3, 2, 14, 0, tzinfo=WITA), tick=False)  # 6 h after intake
    route(client, handler, late)
    step(client, focal, returned, "return", note="Ini urusan Dinas Kesehatan.")
    time_machine.move_to(datetime(2026, 3, 12, 8, 0, tzinfo=WITA), tick=False)  # 10 days after intake
    step(client, focal, settled, "settle", reply="Sudah ditambal.")
    time_machine.move_to(datetime(2026, 3, 31, 8, 0, tzinfo=WITA), tick=False)
    report = client.get("/v1/reports/outcomes", params={"date_from": "2026-03-01", "date_to": "2026-03-31"},
                        headers=handler.headers).json()
    rows = {row["opd"]: row for row in report["rows"]}
    assert [row["opd"] for row in report["rows"]] == ["dpupr", "belum_didisposisikan", None]
    figures = ("received", "routed", "in_progress", "settled", "overdue", "forwarded", "archived", "returned")
    # the returned complaint waits for the handlers again and the archived one was never routed: neither is
    # dpupr's, whose focal point never received (or no longer has) them
    assert [rows["dpupr"][k] for k in figures] == [2, 2, 1, 1, 1, 0, 0, 0]
    assert [rows["belum_didisposisikan"][k] for k in figures] == [2, 1, 0, 0, 1, 0, 1, 1]
    total = rows[None]
    assert {k: total[k] for k in ("received", "routed", "in_progress", "settled", "overdue", "forwarded",
                                  "archived", "returned")} == {
        "received": 4, "routed": 3, "in_progress": 1, "settled": 1, "overdue": 2, "forwarded": 0, "archived": 1,
        "returned": 1}
    assert total["returned_rate"] == round(1 / 3, 4)
    assert (total["hours_to_route_median"], total["hours_to_route_p90"]) == (2.0, 6.0)
    assert (total["days_to_settle_median"], total["days_to_settle_p90"]) == (10.0, 10.0)
    assert total["settled_on_time"] == 1.0

    csv = client.get("/v1/reports/outcomes", params={"date_from": "2026-03-01", "date_to": "2026-03-31",
                                                      "format": "csv"}, headers=handler.headers)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith("\ufeff".encode("utf-8"))
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Kode OPD;Nama OPD;Diterima;Didisposisikan;Dalam proses;Selesai;Terlambat")
    assert lines[1].startswith("dpupr;Dinas Pekerjaan Umum dan Penataan Ruang;2;2;1;1;1;0;0;0;0,0000;")
    assert lines[2].startswith("belum_didisposisikan;Belum didisposisikan;2;1;0;0;1;0;1;1;1,0000;")
    assert lines[3].startswith("Semua OPD;;4;")
    theirs = client.get("/v1/reports/outcomes", params={"date_from": "2026-03-01", "date_to": "2026-03-31"},
                        headers=focal.headers).json()["rows"]
    assert [(r["opd"], r["received"]) for r in theirs] == [("dpupr", 2), (None, 2)]  # only what reached dpupr
    mine = client.get("/v1/reports/outcomes", headers=health_focal.headers).json()["rows"]
    assert [r["opd"] for r in mine] == [None] and mine[0]["received"] == 0
    assert date.fromisoformat(report["date_to"]) == date(2026, 3, 31)
