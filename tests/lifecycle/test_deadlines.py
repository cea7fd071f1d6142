"""Deadlines count Indonesian working days: weekends, national holidays and the deployment's cuti bersama."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from triage.deadlines import Calendar, Deadlines, Span
from triage.errors import InvalidInputError

from .conftest import CLINIC, intake, route

WITA = ZoneInfo("Asia/Makassar")


def test_holidays_and_cuti_bersama_are_not_working_days():
    calendar = Calendar(cuti_bersama=frozenset({date(2026, 3, 18)}))
    assert calendar.holiday_name(date(2026, 3, 19))  # Nyepi, from the holidays package
    assert not calendar.is_working_day(date(2026, 3, 19))
    assert not calendar.is_working_day(date(2026, 3, 18)) and calendar.holiday_name(date(2026, 3, 18)) == "cuti bersama"
    assert not calendar.is_working_day(date(2026, 3, 14))  # a Saturday
    assert calendar.is_working_day(date(2026, 3, 17))


def test_three_working_days_from_a_friday_jump_the_weekend_nyepi_and_cuti_bersama():
    friday = datetime(2026, 3, 13, 10, 0, tzinfo=WITA)
    plain = Deadlines.of()
    # Mon 16, Tue 17, Wed 18: due at the end of Wednesday, WITA
    assert plain.due("route", friday) == datetime(2026, 3, 19, 0, 0, tzinfo=WITA)
    with_leave = Deadlines.of(cuti_bersama=[date(2026, 3, 18)])
    # Mon 16, Tue 17, (Wed 18 cuti bersama, Thu 19 Nyepi), Fri 20
    assert with_leave.due("route", friday) == datetime(2026, 3, 21, 0, 0, tzinfo=WITA)
    assert with_leave.calendar.working_days_between(friday, datetime(2026, 3, 20, 9, tzinfo=WITA)) == 3


def test_the_day_is_the_deployments_local_day():
    late_friday_utc = datetime(2026, 3, 13, 17, 0, tzinfo=timezone.utc)  # already Saturday 01:00 in WITA
    assert Deadlines.of().due("route", late_friday_utc) == datetime(2026, 3, 19, 0, 0, tzinfo=WITA)
    assert Deadlines.of(zone="Asia/Jakarta").due("route", late_friday_utc) == datetime(
        2026, 3, 19, 0, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def test_spans_are_configured_as_indonesian_phrases():
    assert Span.parse("5 hari kerja") == Span(5, True) and Span.parse("60 hari") == Span(60, False)
    deadlines = Deadlines.of({"settle": "40 hari kerja"})
    assert str(deadlines.spans["settle"]) == "40 hari kerja" and str(deadlines.spans["route"]) == "3 hari kerja"
    start = datetime(2026, 1, 5, 9, tzinfo=WITA)
    assert Deadlines.of().due("settle", start) == datetime(2026, 3, 7, 0, 0, tzinfo=WITA)  # 60 calendar days
    for bad in ("tiga hari", "0 hari", "5 days"):
        with pytest.raises(InvalidInputError, match="hari kerja"):
            Span.parse(bad, "route")
    with pytest.raises(InvalidInputError, match="Unknown deadline tutup"):
        Deadlines.of({"tutup": "3 hari"})


def test_an_overdue_complaint_shows_as_overdue_to_handlers_and_focal_points(client, handler, focal, time_machine):
    time_machine.move_to(datetime(2026, 3, 13, 10, 0, tzinfo=WITA), tick=False)
    late = intake(client, handler)
    on_time = intake(client, handler)
    time_machine.move_to(datetime(2026, 3, 16, 9, 0, tzinfo=WITA), tick=False)
    route(client, handler, late)
    detail = client.get(f"/v1/complaints/{late}", headers=handler.headers).json()
    # routed Monday 16: respond within 5 working days: Tue 17, Wed 18, Fri 20, Mon 23, Tue 24 (Nyepi skipped)
    assert datetime.fromisoformat(detail["due_at"]) == datetime(2026, 3, 25, 0, 0, tzinfo=WITA)
    route(client, handler, on_time)
    client.post(f"/v1/complaints/{on_time}/events", json={"action": "progress"}, headers=focal.headers)

    time_machine.move_to(datetime(2026, 3, 25, 0, 0, 1, tzinfo=WITA), tick=False)
    for key in (handler, focal):
        overdue = client.get("/v1/complaints", params={"overdue": True}, headers=key.headers).json()
        assert [c["id"] for c in overdue["items"]] == [late] and overdue["items"][0]["overdue"] is True
    not_overdue = client.get("/v1/complaints", params={"overdue": False}, headers=handler.headers).json()
    assert [c["id"] for c in not_overdue["items"]] == [on_time]
    assert client.get("/v1/complaints", params={"stage": "in_progress"},
                      headers=focal.headers).json()["items"][0]["id"] == on_time
    assert client.get(f"/v1/complaints/{on_time}", headers=focal.headers).json()["overdue"] is False
    assert client.get("/v1/complaints", params={"stage": "nope"}, headers=handler.headers).status_code == 422


def test_intake_counts_the_route_deadline_with_the_deployments_cuti_bersama(settings_for, handler, time_machine):
    from fastapi.testclient import TestClient

    from triage.api import create_app

    time_machine.move_to(datetime(2026, 3, 13, 10, 0, tzinfo=WITA), tick=False)
    with TestClient(create_app(settings_for(cuti_bersama=[date(2026, 3, 18)]))) as client:
        complaint_id = intake(client, handler)
        detail = client.get(f"/v1/complaints/{complaint_id}", headers=handler.headers).json()
    assert detail["stage"] == "received"
    assert datetime.fromisoformat(detail["due_at"]) == datetime(2026, 3, 21, 0, 0, tzinfo=WITA)
    assert datetime.fromisoformat(detail["due_at"]) - timedelta(days=1) > datetime(2026, 3, 19, tzinfo=WITA)


def test_batch_to_queue_counts_the_route_deadline_like_the_api(tmp_path, settings_for, handler, database_url):
    """A complaint received the day before the deployment's cuti bersama is due on the same day whether it
    was queued by ``triage batch --to-queue`` or posted through the API: both count with the deployment's
    calendar (Tue 17: Wed 18 cuti bersama, Thu 19 Nyepi, then Fri 20, Mon 23, Tue 24)."""
    import json
    import os
    import subprocess
    import sys

    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from triage.api import create_app
    from triage.db import Complaint, make_engine, make_sessions
    from triage.settings import PROJECT_ROOT

    received = datetime(2026, 3, 17, 10, 0, tzinfo=WITA)
    settings = settings_for(cuti_bersama=[date(2026, 3, 18)])
    with TestClient(create_app(settings)) as client:
        posted = intake(client, handler, received_at=received.isoformat())
        by_api = datetime.fromisoformat(client.get(f"/v1/complaints/{posted}", headers=handler.headers)
                                        .json()["due_at"])
    backlog = tmp_path / "backlog.csv"
    backlog.write_text(f'id,received,text\nB-1,{received.isoformat()},"{CLINIC}"\n', encoding="utf-8")
    env = {**os.environ, "TRIAGE_DATABASE_URL": database_url, "TRIAGE_DEPLOYMENT": str(settings.deployment),
           "TRIAGE_MODELS_DIR": str(settings.models_dir), "TRIAGE_CUTI_BERSAMA": json.dumps(["2026-03-18"])}
    env.pop("TRIAGE_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "triage", "batch", str(backlog), "-o", str(tmp_path / "out.csv"),
                           "--to-queue", "--jobs", "1"], env=env, cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "queued 1 complaints" in done.stdout, done.stdout
    engine = make_engine(database_url)
    with make_sessions(engine)() as session:
        queued = session.scalars(select(Complaint).where(Complaint.external_id == "B-1")).one()
    engine.dispose()

    assert by_api == datetime(2026, 3, 25, 0, 0, tzinfo=WITA)
    assert queued.due_at.replace(tzinfo=queued.due_at.tzinfo or timezone.utc) == by_api
