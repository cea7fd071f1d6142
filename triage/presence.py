"""Who has a complaint open: a soft lock that warns, never blocks.

The complaint page marks the complaint as open by the signed-in handler (:func:`mark_open`) and its
script repeats that every :data:`HEARTBEAT_SECONDS` while the page stays open. Others see "sedang dibuka
oleh <name>" in the queue and on the complaint until :data:`EXPIRES_SECONDS` pass without a heartbeat,
or the handler decides it (:func:`mark_closed`). Nothing is refused because of it: two handlers may still
decide the same complaint, and the second one is told (``expected_revision``, see
:func:`triage.decisions.record_decision`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from triage.db import Presence, utcnow

HEARTBEAT_SECONDS = 60
EXPIRES_SECONDS = 180


def mark_open(session: Session, complaint_id: int, key_id: int, name: str) -> None:
    """Record that ``name`` (key ``key_id``) has complaint ``complaint_id`` open now; commits."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    upsert = dialect.insert(Presence).values(complaint_id=complaint_id, api_key_id=key_id, name=name, seen_at=now)
    session.execute(upsert.on_conflict_do_update(index_elements=[Presence.complaint_id, Presence.api_key_id],
                                                 set_={"seen_at": now, "name": name}))
    session.commit()


def mark_closed(session: Session, complaint_id: int, key_id: int) -> None:
    """``key_id`` no longer has the complaint open (it decided it); commits."""
    session.execute(delete(Presence).where(Presence.complaint_id == complaint_id, Presence.api_key_id == key_id))
    session.commit()


def open_by_others(session: Session, complaint_ids: Iterable[int], key_id: int) -> dict[int, list[str]]:
    """Per complaint among ``complaint_ids``, the names of the others who have it open (heartbeat within
    :data:`EXPIRES_SECONDS`), sorted."""
    ids = list(complaint_ids)
    if not ids:
        return {}
    since = utcnow() - timedelta(seconds=EXPIRES_SECONDS)
    rows = session.execute(select(Presence.complaint_id, Presence.name)
                           .where(Presence.complaint_id.in_(ids), Presence.api_key_id != key_id,
                                  Presence.seen_at >= since)
                           .order_by(Presence.complaint_id, Presence.name))
    found: dict[int, list[str]] = {}
    for complaint_id, name in rows:
        found.setdefault(complaint_id, []).append(name)
    return found
