"""The lifecycle on the pages through the real app (fast tier): what the timeline shows of a message to the
focal point, where a focal point's step leads."""

from __future__ import annotations

from tests.web.conftest import PU_COMPLAINT, csrf_of, post_complaint, sign_in
from triage.apikeys import create_key
from triage.db import make_engine, make_sessions
from triage.lifecycle import NOTIFY, record_event
from triage.notify import _Service

HOOK = "https://hook.kukar.example/masuk/T0KEN-RAHASIA"


def record_notice(database_url: str, complaint_id: int, data: dict) -> None:
    engine = make_engine(database_url)
    try:
        with make_sessions(engine)() as session:
            record_event(session, complaint_id, NOTIFY, by=_Service(), data=data)
    finally:
        engine.dispose()


def test_a_failed_message_shows_in_indonesian_without_the_webhook_address(client, signed_in, handler,
                                                                          database_url):
    complaint = post_complaint(client, handler, PU_COMPLAINT)
    record_notice(database_url, complaint["id"], {
        "channel": "webhook", "to": HOOK, "ok": False, "attempts": 3,
        "error": "URLError: <urlopen error [Errno 111] Connection refused>"})
    record_notice(database_url, complaint["id"], {"channel": "email", "to": "pu@kukar.example", "ok": True,
                                                  "attempts": 1})

    html = client.get(f"/pengaduan/{complaint['id']}").text

    assert "webhook: gagal setelah 3 kali percobaan" in html
    assert "e-mail ke pu@kukar.example: terkirim" in html
    assert "T0KEN-RAHASIA" not in html and "Connection refused" not in html


def test_a_focal_points_step_without_a_page_to_go_back_to_lands_on_its_own_page(client, handler, database_url):
    complaint = post_complaint(client, handler, PU_COMPLAINT)
    csrf = sign_in(client, handler)
    client.post(f"/pengaduan/{complaint['id']}/keputusan", data={"csrf": csrf, "action": "konfirmasi"})
    engine = make_engine(database_url)
    with make_sessions(engine)() as session:
        _, token = create_key(session, "rina-pu", "focal_point", [complaint["routing"]["opd"]])
    engine.dispose()
    form = client.get("/masuk")
    client.post("/masuk", data={"api_key": token, "csrf": csrf_of(form.text)})
    csrf = csrf_of(client.get("/narahubung").text)

    response = client.post("/tindakan", follow_redirects=False, data={
        "csrf": csrf, "nomor": str(complaint["id"]), "action": "acknowledge", "kembali": "//jahat.example/"})

    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/narahubung/pengaduan/{complaint['id']}?selesai=")
    assert client.get(response.headers["location"]).status_code == 200
