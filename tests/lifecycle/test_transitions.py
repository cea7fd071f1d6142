"""Every transition of the lifecycle table, every illegal one, and the walk from intake to settled."""

from __future__ import annotations

import pytest

from triage.decisions import latest_decisions
from triage.errors import ConflictError
from triage.lifecycle import STAGES, TRANSITIONS, record_event

from .conftest import CLINIC, intake, route, step

PATH_TO: dict[str, list[tuple[str, dict]]] = {
    "received": [],
    "routed": [("route", {})],
    "acknowledged": [("route", {}), ("acknowledge", {})],
    "in_progress": [("route", {}), ("progress", {})],
    "settled": [("route", {}), ("settle", {"reply": "Sudah ditambal."})],
    "forwarded": [("forward", {"destination": "Balai Jalan Nasional"})],
    "archived": [("archive", {"reason": "spam"})],
    "returned": [("route", {}), ("return", {})],
    "reopened": [("archive", {"reason": "spam"}), ("reopen", {})],
}
PAYLOAD = {"settle": {"reply": "Sudah ditambal."}, "forward": {"destination": "Balai Jalan Nasional"},
           "archive": {"reason": "incomplete"}}


class Admin:
    name, key_id, role, opds = "andi-admin", None, "admin", ()


def test_the_table_allows_exactly_its_transitions_from_every_stage(client, handler, db):
    assert set(PATH_TO) == set(STAGES)
    for action, transition in TRANSITIONS.items():
        for stage in STAGES:
            complaint_id = intake(client, handler)
            for earlier, data in PATH_TO[stage]:
                record_event(db, complaint_id, earlier, by=Admin(), data=data, note="alasan")
            note = "bukan tugas kami" if action == "return" else None
            if stage in transition.sources:
                event = record_event(db, complaint_id, action, by=Admin(), data=PAYLOAD.get(action), note=note)
                assert event.stage == transition.stage, (action, stage)
                read = client.get(f"/v1/complaints/{complaint_id}", headers=handler.headers).json()
                assert read["stage"] == transition.stage
                assert [e["action"] for e in read["timeline"]] == [a for a, _ in PATH_TO[stage]] + [action]
            else:
                with pytest.raises(ConflictError, match="hanya bisa dari status"):
                    record_event(db, complaint_id, action, by=Admin(), data=PAYLOAD.get(action), note=note)
                db.rollback()
                assert client.get(f"/v1/complaints/{complaint_id}",
                                  headers=handler.headers).json()["stage"] == stage, (action, stage)


def test_a_complaint_goes_from_intake_to_settled_with_a_handler_and_a_focal_point(client, handler, focal):
    complaint_id = intake(client, handler)
    assert client.get(f"/v1/complaints/{complaint_id}", headers=handler.headers).json()["stage"] == "received"
    assert route(client, handler, complaint_id).status_code == 201
    assert step(client, focal, complaint_id, "acknowledge").json()["stage"] == "acknowledged"
    progress = step(client, focal, complaint_id, "progress", note="Tim survei dijadwalkan Kamis.")
    assert progress.status_code == 201 and progress.json()["stage"] == "in_progress"
    settled = step(client, focal, complaint_id, "settle", reply="Lubang jalan sudah ditambal pada 12 Maret.")
    assert settled.status_code == 201
    assert settled.json()["stage"] == "settled" and settled.json()["due_at"] is None
    assert settled.json()["event"]["data"] == {"reply": "Lubang jalan sudah ditambal pada 12 Maret."}
    detail = client.get(f"/v1/complaints/{complaint_id}", headers=focal.headers).json()
    assert [(e["action"], e["actor"]) for e in detail["timeline"]] == [
        ("route", "siti"), ("acknowledge", "budi"), ("progress", "budi"), ("settle", "budi")]
    assert detail["timeline"][0]["opd"] == "dpupr" and detail["timeline"][0]["data"] == {"revision": 1}


def test_illegal_steps_answer_409_in_indonesian(client, handler, focal):
    archived = intake(client, handler)
    assert step(client, handler, archived, "archive", reason="spam").status_code == 201
    refused = step(client, focal, archived, "settle", reply="selesai")
    assert refused.status_code in (403, 409)  # archived before routing: not even the focal point's to see
    admin_refused = route(client, handler, archived)
    assert admin_refused.status_code == 409
    assert "Diarsipkan" in admin_refused.json()["message"] and "reopen" in admin_refused.json()["message"]

    settled = intake(client, handler)
    route(client, handler, settled)
    step(client, focal, settled, "settle", reply="Sudah ditambal.")
    again = step(client, focal, settled, "settle", reply="Sudah ditambal lagi.")
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    assert again.json()["message"].startswith(f"Pengaduan #{settled} berstatus 'Selesai'")
    acknowledged_before_routing = step(client, handler, intake(client, handler), "reopen")
    assert acknowledged_before_routing.status_code == 409


def test_steps_missing_what_they_need_answer_422(client, handler, focal):
    complaint_id = intake(client, handler)
    assert step(client, handler, complaint_id, "forward").status_code == 422
    assert "destination" in step(client, handler, complaint_id, "forward", destination="  ").json()["message"]
    assert "reason" in step(client, handler, complaint_id, "archive").json()["message"]
    no_original = step(client, handler, complaint_id, "archive", reason="duplicate")
    assert no_original.status_code == 422 and "duplicate_of" in no_original.json()["message"]
    itself = step(client, handler, complaint_id, "archive", reason="duplicate", duplicate_of=complaint_id)
    assert itself.status_code == 422
    assert step(client, handler, complaint_id, "archive", reason="duplicate", duplicate_of=999999).status_code == 422
    original = intake(client, handler)
    duplicate = step(client, handler, complaint_id, "archive", reason="duplicate", duplicate_of=original)
    assert duplicate.status_code == 201
    assert duplicate.json()["event"]["data"] == {"reason": "duplicate", "duplicate_of": original}

    routed = intake(client, handler)
    route(client, handler, routed)
    assert "reply" in step(client, focal, routed, "settle").json()["message"]
    assert "Alasan pengembalian" in step(client, focal, routed, "return").json()["message"]
    assert step(client, focal, routed, "route").status_code == 422  # routing is a decision, not an event


def test_a_returned_complaint_goes_back_to_the_queue_and_its_new_routing_is_what_retraining_learns(
        client, handler, focal, db):
    complaint_id = intake(client, handler, CLINIC)
    route(client, handler, complaint_id, opd="dpupr")  # wrongly
    returned = step(client, focal, complaint_id, "return", note="Ini tugas Dinas Kesehatan, bukan PUPR.")
    assert returned.status_code == 201 and returned.json()["stage"] == "returned"
    queue = client.get("/v1/complaints", params={"status": "pending"}, headers=handler.headers).json()
    assert complaint_id in [c["id"] for c in queue["items"]]
    assert complaint_id not in [c.id for c, _ in latest_decisions(db)]  # the wrong routing is no label
    db.rollback()  # end the read: on SQLite it holds the write lock
    assert client.get(f"/v1/complaints/{complaint_id}", headers=focal.headers).status_code == 403

    corrected = route(client, handler, complaint_id, opd="dinkes", category="kesehatan")
    assert corrected.status_code == 201 and corrected.json()["revision"] == 2
    labels = {c.id: (d.opd, d.revision) for c, d in latest_decisions(db)}
    db.rollback()
    assert labels[complaint_id] == ("dinkes", 2)
    response = client.get(f"/v1/complaints/{complaint_id}", headers=handler.headers)
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["stage"] == "routed" and detail["status"] == "decided"
    assert [e["action"] for e in detail["timeline"]] == ["route", "return", "route"]
    assert [e["opd"] for e in detail["timeline"]] == ["dpupr", "dpupr", "dinkes"]
