"""The lifecycle on the complaint page through the real app (fast tier): what the timeline shows of a
message to the focal point."""

from __future__ import annotations

from tests.web.conftest import PU_COMPLAINT, post_complaint
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
