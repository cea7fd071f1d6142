"""Telling an OPD's focal point (narahubung) that a complaint was routed to it.

On every disposition (a ``route`` event) a ready message in Bahasa Indonesia is composed
(:func:`compose`): the complaint's number and an excerpt, the OPD, the suggested urgency, the deadline and
a link. It is always available as copyable text and as a WhatsApp click-to-chat link
(``https://wa.me/<phone>?text=...``, the channel pemdas use today) through
``GET /v1/complaints/{id}/message``. Besides, after the decision's transaction commits, a
:class:`Notifier` installed on the app's sessions sends it in a background thread:

* by e-mail (smtplib) when the deployment configures ``smtp_host`` and the OPD's focal point has an e-mail;
* to ``webhook_url`` as JSON, signed with HMAC-SHA256 of the body under ``webhook_secret`` in the header
  ``X-Triage-Signature: sha256=<hex>``.

Sending never blocks or fails the decision: it starts after the commit, each channel is tried
``attempts`` times, and every outcome is recorded as a ``notify`` event on the complaint (channel, ok,
recipient, attempts, error), so a failure is visible in its timeline and in the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from triage.db import Complaint
from triage.deadlines import Calendar
from triage.lifecycle import NOTIFY, record_event
from triage.taxonomy import Taxonomy

log = logging.getLogger(__name__)

URGENT_CATEGORIES = frozenset({"kebencanaan", "kesehatan", "air_bersih"})
"""Categories whose complaints are suggested as urgent: safety, health and water cannot wait for the queue."""
EXCERPT_CHARS = 280
SERVICE = "triage"
"""Actor of the events the notifier records."""


@dataclass(frozen=True)
class Message:
    """What a focal point is told about one complaint routed to its OPD."""

    complaint_id: int
    opd: str
    opd_name: str
    focal_point: str | None
    phone: str | None
    email: str | None
    urgency: str
    due_at: datetime | None
    link: str
    subject: str
    text: str
    whatsapp_url: str


def compose(complaint: Complaint, taxonomy: Taxonomy, public_url: str, calendar: Calendar) -> Message:
    """The message for the focal point of the OPD ``complaint`` is routed to."""
    label = taxonomy.labels["opd"].get(complaint.opd)
    focal = label.focal_point if label is not None else None
    opd_name = label.name if label is not None else complaint.opd
    urgency = "SEGERA" if complaint.category in URGENT_CATEGORIES else "biasa"
    excerpt = " ".join(complaint.text.split())
    if len(excerpt) > EXCERPT_CHARS:
        excerpt = excerpt[:EXCERPT_CHARS].rsplit(" ", 1)[0] + " ..."
    link = f"{public_url.rstrip('/')}/pengaduan/{complaint.id}"
    due = (f"{calendar.local_day(complaint.due_at - timedelta(microseconds=1)):%d-%m-%Y}" if complaint.due_at else "-")
    greeting = f"Yth. {focal.name}, narahubung {opd_name}" if focal else f"Yth. narahubung {opd_name}"
    text = (f"{greeting}.\n\n"
            f"Pengaduan #{complaint.id} didisposisikan ke {opd_name} untuk ditindaklanjuti.\n"
            f"Urgensi yang disarankan: {urgency}.\n"
            f"Batas waktu tanggapan: {due}.\n\n"
            f"Isi pengaduan: \"{excerpt}\"\n\n"
            f"Buka dan tindak lanjuti: {link}\n"
            "Mohon konfirmasi penerimaan, catat tindak lanjutnya, atau kembalikan bila salah disposisi.")
    phone = _wa_number(focal.phone) if focal and focal.phone else None
    whatsapp = f"https://wa.me/{phone or ''}?text={quote(text, safe='')}"
    return Message(complaint_id=complaint.id, opd=complaint.opd, opd_name=opd_name,
                   focal_point=focal.name if focal else None, phone=phone, email=focal.email if focal else None,
                   urgency=urgency, due_at=complaint.due_at, link=link,
                   subject=f"[Pengaduan #{complaint.id}] Disposisi ke {opd_name} ({urgency})", text=text,
                   whatsapp_url=whatsapp)


def _wa_number(phone: str) -> str:
    """``0812-3456-789`` or ``+62 812 3456 789`` as wa.me wants it: digits with the country code, 62812..."""
    digits = "".join(c for c in phone if c.isdigit())
    return "62" + digits[1:] if digits.startswith("0") else digits


def sign(body: bytes, secret: str) -> str:
    """The webhook's signature header value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class Notifier:
    """Sends each routed complaint's message after its transaction commits, in one background thread."""

    def __init__(self, sessions: sessionmaker, taxonomy: Taxonomy, settings, calendar: Calendar,
                 attempts: int = 3, backoff_seconds: float = 2.0, timeout_seconds: float = 10.0) -> None:
        self.sessions, self.taxonomy, self.settings, self.calendar = sessions, taxonomy, settings, calendar
        self.attempts, self.backoff_seconds, self.timeout_seconds = attempts, backoff_seconds, timeout_seconds
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-notify")

    def install(self) -> None:
        """Listen to the sessions' commits (and forget what a rolled-back transaction routed)."""
        event.listen(self.sessions, "after_commit", self._after_commit)
        event.listen(self.sessions, "after_rollback", self._after_rollback)

    def close(self, wait: bool = True) -> None:
        event.remove(self.sessions, "after_commit", self._after_commit)
        event.remove(self.sessions, "after_rollback", self._after_rollback)
        self._pool.shutdown(wait=wait)

    def _after_commit(self, session: Session) -> None:
        for complaint_id in session.info.pop("routed", []):
            self._pool.submit(self._deliver, complaint_id)

    @staticmethod
    def _after_rollback(session: Session) -> None:
        session.info.pop("routed", None)

    def _deliver(self, complaint_id: int) -> None:
        try:
            with self.sessions() as session:
                complaint = session.get(Complaint, complaint_id)
                if complaint is None:
                    return
                message = compose(complaint, self.taxonomy, self.settings.public_url, self.calendar)
                outcomes = []
                if self.settings.smtp_host and message.email:
                    outcomes.append(self._try("email", message.email, lambda: self._email(message)))
                if self.settings.webhook_url:
                    outcomes.append(self._try("webhook", self.settings.webhook_url, lambda: self._webhook(message)))
                for outcome in outcomes:
                    record_event(session, complaint_id, NOTIFY, by=_Service(), data=outcome)
        except Exception:  # a background thread: log, never raise into the pool
            log.exception("notifying the focal point of complaint %s failed", complaint_id)

    def _try(self, channel: str, to: str, send) -> dict:
        error = None
        for attempt in range(1, self.attempts + 1):
            try:
                send()
                return {"channel": channel, "to": to, "ok": True, "attempts": attempt}
            except Exception as exc:  # SMTP, socket, HTTP: each is retried, then recorded
                error = f"{type(exc).__name__}: {exc}"
                log.warning("notify %s to %s, attempt %d of %d: %s", channel, to, attempt, self.attempts, error)
                if attempt < self.attempts:
                    time.sleep(self.backoff_seconds * attempt)
        return {"channel": channel, "to": to, "ok": False, "attempts": self.attempts, "error": error}

    def _email(self, message: Message) -> None:
        settings = self.settings
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = settings.smtp_from, message.email, message.subject
        mail.set_content(message.text)
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=self.timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(mail)

    def _webhook(self, message: Message) -> None:
        payload = {"event": "complaint.routed", "message": asdict(message)}
        body = json.dumps(payload, default=str, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "triage"}
        if self.settings.webhook_secret:
            headers["X-Triage-Signature"] = sign(body, self.settings.webhook_secret)
        request = urllib.request.Request(self.settings.webhook_url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
            response.read()


@dataclass(frozen=True)
class _Service:
    name: str = SERVICE
    key_id: None = None
