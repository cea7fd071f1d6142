"""Focal points see and follow up only complaints routed to their OPDs; handlers keep the whole queue."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import CLINIC, intake, route, step


def test_a_focal_point_lists_and_reads_only_complaints_routed_to_its_opds(client, handler, focal, health_focal):
    road, clinic, waiting = intake(client, handler), intake(client, handler, CLINIC), intake(client, handler)
    route(client, handler, road, opd="dpupr")
    route(client, handler, clinic, opd="dinkes", category="kesehatan")
    listed = client.get("/v1/complaints", headers=focal.headers).json()
    assert [c["id"] for c in listed["items"]] == [road] and listed["total"] == 1  # not yet routed: not listed
    assert [c["id"] for c in client.get("/v1/complaints", headers=health_focal.headers).json()["items"]] == [clinic]
    assert client.get("/v1/complaints", headers=handler.headers).json()["total"] == 3
    assert client.get(f"/v1/complaints/{road}", headers=focal.headers).status_code == 200
    for complaint_id in (clinic, waiting):
        refused = client.get(f"/v1/complaints/{complaint_id}", headers=focal.headers)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        assert "tidak didisposisikan ke OPD Anda (dpupr, rsud)" in refused.json()["message"]
        assert client.get(f"/v1/complaints/{complaint_id}/events", headers=focal.headers).status_code == 403


def test_a_focal_point_cannot_touch_another_opds_complaint(client, handler, focal, health_focal):
    clinic = intake(client, handler, CLINIC)
    route(client, handler, clinic, opd="dinkes", category="kesehatan")
    for action, fields in (("acknowledge", {}), ("settle", {"reply": "selesai"}), ("return", {"note": "bukan"})):
        refused = step(client, focal, clinic, action, **fields)
        assert refused.status_code == 403, action
        assert "budi" in refused.json()["message"]
    assert step(client, health_focal, clinic, "acknowledge").status_code == 201


def test_each_role_takes_only_its_own_steps(client, handler, focal, admin):
    complaint_id = intake(client, handler)
    assert client.post("/v1/complaints", json={"text": CLINIC}, headers=focal.headers).status_code == 403
    assert route(client, focal, complaint_id).status_code == 403
    route(client, handler, complaint_id)
    handler_ack = step(client, handler, complaint_id, "acknowledge")
    assert handler_ack.status_code == 403
    assert "hanya untuk focal point (narahubung) OPD" in handler_ack.json()["message"]
    focal_archive = step(client, focal, complaint_id, "archive", reason="spam")
    assert focal_archive.status_code == 403 and "hanya untuk pengelola pengaduan" in focal_archive.json()["message"]
    assert step(client, admin, complaint_id, "acknowledge").status_code == 201
    assert step(client, admin, complaint_id, "settle", reply="Sudah ditambal.").status_code == 201
    assert step(client, focal, complaint_id, "reopen").status_code == 403
    assert step(client, handler, complaint_id, "reopen").status_code == 201


def test_triage_apikey_create_makes_a_focal_point_scoped_to_opds(tmp_path):
    env = {**os.environ, "TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'keys.db'}"}
    run = [sys.executable, "-m", "triage", "apikey", "create", "--name", "budi", "--role", "focal_point"]
    made = subprocess.run([*run, "--opd", "dpupr", "--opd", "rsud"], env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert "role focal_point, OPD dpupr, rsud" in made.stdout and made.stdout.splitlines()[-1].startswith("trg_")
    unscoped = subprocess.run([*run[:-4], "--name", "ani", "--role", "focal_point"], env=env, capture_output=True,
                              text=True)
    assert unscoped.returncode == 2 and "--opd" in unscoped.stderr
    unknown = subprocess.run([*run[:-4], "--name", "tono", "--role", "focal_point", "--opd", "dinas-pu2"], env=env,
                             capture_output=True, text=True)
    assert unknown.returncode == 2 and "dinas-pu2" in unknown.stderr


def test_a_complaint_archived_or_forwarded_before_any_routing_stays_hidden_from_the_suggested_opds_focal_point(
        client, handler, focal):
    spam, elsewhere = intake(client, handler), intake(client, handler)
    assert client.get(f"/v1/complaints/{spam}", headers=handler.headers).json()["routing"]["opd"] == "dpupr"  # suggested
    assert step(client, handler, spam, "archive", reason="spam").status_code == 201
    assert step(client, handler, elsewhere, "forward", destination="Balai Jalan Nasional").status_code == 201
    assert client.get("/v1/complaints", headers=focal.headers).json()["total"] == 0
    for complaint_id in (spam, elsewhere):
        for path in ("", "/events", "/message"):
            assert client.get(f"/v1/complaints/{complaint_id}{path}", headers=focal.headers).status_code == 403, path
