"""Decisions made at most once per ``Idempotency-Key``: a client that retries after a crash or a timeout gets
the decision its first try made, not a second revision.

Per API key, each key a client sends is stored with the sha256 of its request (complaint id and body) and
the decision it made, in the decision's own transaction (``record_decision(remember=...)``): a decision is
never stored without its key, nor a key without its decision, and both outlive a restart. The same key
again with the same request returns that decision; with another request it is refused (422), since the
client has mixed up two decisions. Two tries with one key at the same moment: the unique constraint
(api_key_id, key) lets one commit, the other rolls back whole and returns the first's decision.
Keys are kept as long as their decisions.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage.db import Decision, IdempotencyKey
from triage.decisions import Decider, record_decision
from triage.errors import InvalidInputError
from triage.taxonomy import Taxonomy

KEY_MAX = 200
"""Longest Idempotency-Key, in characters (printable ASCII without spaces)."""
KEY_PATTERN = r"^[!-~]{1,200}$"


def request_sha256(complaint_id: int, body: dict[str, Any]) -> str:
    """The fingerprint of a decision request: the complaint and the body's fields, in a canonical form."""
    canonical = json.dumps({"complaint_id": complaint_id, "body": body}, sort_keys=True, ensure_ascii=True,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def decide_once(session: Session, taxonomy: Taxonomy, complaint_id: int, *, key: str, decider: Decider,
                fingerprint: str, **decision: Any) -> tuple[Decision, bool]:
    """Record the decision unless ``decider``'s key already used ``key``: then return the decision made then.

    Returns the decision and whether it was replayed. :class:`InvalidInputError` if ``key`` came before
    with a different request (``fingerprint``, from :func:`request_sha256`). ``decision`` holds the other
    arguments of :func:`~triage.decisions.record_decision`.
    """
    if decider.key_id is None:
        raise ValueError("an idempotency key belongs to an API key: the decider needs key_id")
    earlier = _earlier(session, decider.key_id, key, fingerprint)
    if earlier is not None:
        return earlier, True

    def remember(session: Session, made: Decision) -> None:
        session.add(IdempotencyKey(api_key_id=decider.key_id, key=key, request_sha256=fingerprint,
                                   decision_id=made.id))

    try:
        return record_decision(session, taxonomy, complaint_id, decider=decider, remember=remember,
                               **decision), False
    except IntegrityError:  # the same key committed a moment ago, by a try running alongside this one
        earlier = _earlier(session, decider.key_id, key, fingerprint)
        if earlier is None:
            raise
        return earlier, True


def _earlier(session: Session, api_key_id: int, key: str, fingerprint: str) -> Decision | None:
    stored = session.scalar(select(IdempotencyKey).where(IdempotencyKey.api_key_id == api_key_id,
                                                         IdempotencyKey.key == key))
    if stored is None:
        return None
    if stored.request_sha256 != fingerprint:
        raise InvalidInputError(f"Idempotency-Key '{key}' sudah dipakai untuk keputusan lain (pengaduan atau isi "
                                "yang berbeda). Satu kunci hanya untuk satu keputusan: buat kunci baru untuk "
                                "keputusan ini, atau kirim ulang isi yang sama persis untuk mengulang yang lama.")
    return session.get(Decision, stored.decision_id)
