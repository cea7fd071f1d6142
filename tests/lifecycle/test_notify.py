"""The focal point is told on disposition: e-mail through a real local SMTP server (aiosmtpd), a signed webhook
to a local HTTP receiver, a WhatsApp link; sending never fails the decision, and every outcome is recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from triage.api import create_app

from .conftest import ROAD, intake, route


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def receiver():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def notices(client, key, complaint_id, n: int = 1, seconds: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + seconds
    while True:
        events = client.get(f"/v1/complaints/{complaint_id}/events", headers=key.headers).json()
        found = [e for e in events if e["action"] == "notify"]
        if len(found) >= n or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_the_focal_point_gets_an_email_on_disposition(settings_for, smtp, handler):
    controller, inbox = smtp
    settings = settings_for(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_from="pengaduan@kukar.example",
                            public_url="https://triage.kukar.example")
    with TestClient(create_app(settings)) as client:
        complaint_id = intake(client, handler)
        assert route(client, handler, complaint_id).status_code == 201
        [notice] = notices(client, handler, complaint_id)
    assert notice["data"] == {"channel": "email", "to": "budi@dpupr.kukar.example", "ok": True, "attempts": 1}
    [(to, mail)] = inbox.messages
    assert to == ["budi@dpupr.kukar.example"] and mail["From"] == "pengaduan@kukar.example"
    assert " ".join(mail["Subject"].split()) == f"[Pengaduan #{complaint_id}] Disposisi ke Dinas Pekerjaan Umum dan Penataan Ruang (biasa)"
    body = mail.get_content()
    assert body.startswith("Yth. Budi Santoso, narahubung Dinas Pekerjaan Umum dan Penataan Ruang.")
    assert ROAD in body and f"https://triage.kukar.example/pengaduan/{complaint_id}" in body
    assert "Batas waktu tanggapan: " in body


def test_a_failing_smtp_server_neither_blocks_nor_fails_the_decision_and_is_recorded(settings_for, handler):
    settings = settings_for(smtp_host="127.0.0.1", smtp_port=free_port(), notify_attempts=2,
                            notify_backoff_seconds=0.5)
    with TestClient(create_app(settings)) as client:
        complaint_id = intake(client, handler)
        started = time.monotonic()
        assert route(client, handler, complaint_id).status_code == 201
        assert time.monotonic() - started < 0.5  # the retries happen after the answer
        [notice] = notices(client, handler, complaint_id)
    assert notice["data"]["ok"] is False and notice["data"]["attempts"] == 2
    assert "ConnectionRefusedError" in notice["data"]["error"]
    assert notice["stage"] == "routed" and notice["actor"] == "triage"


def test_a_signed_webhook_reaches_a_local_receiver(settings_for, receiver, handler):
    url, received = receiver
    with TestClient(create_app(settings_for(webhook_url=url, webhook_secret="rahasia-kukar"))) as client:
        complaint_id = intake(client, handler)
        route(client, handler, complaint_id)
        [notice] = notices(client, handler, complaint_id)
    assert notice["data"] == {"channel": "webhook", "to": url, "ok": True, "attempts": 1}
    [(headers, body)] = received
    expected = "sha256=" + hmac.new(b"rahasia-kukar", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Triage-Signature"], expected)
    payload = json.loads(body)
    assert payload["event"] == "complaint.routed" and payload["message"]["complaint_id"] == complaint_id
    assert payload["message"]["opd"] == "dpupr" and payload["message"]["phone"] == "6281234567890"


def test_the_message_is_ready_as_text_and_a_whatsapp_link(client, handler, focal):
    complaint_id = intake(client, handler)
    route(client, handler, complaint_id)
    message = client.get(f"/v1/complaints/{complaint_id}/message", headers=focal.headers).json()
    link = urlparse(message["whatsapp_url"])
    assert (link.scheme, link.netloc, link.path) == ("https", "wa.me", "/6281234567890")
    assert parse_qs(link.query)["text"] == [message["text"]]
    assert f"Pengaduan #{complaint_id} didisposisikan ke Dinas Pekerjaan Umum dan Penataan Ruang" in message["text"]
    assert message["email"] == "budi@dpupr.kukar.example" and message["urgency"] == "biasa"
    assert notices(client, handler, complaint_id, seconds=0.2) == []  # nothing configured: nothing sent
