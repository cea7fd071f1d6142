"""API keys: bearer tokens with a role, of which only the sha256 is stored.

A token is ``trg_`` plus 43 URL-safe characters (256 random bits), so a plain sha256 is a safe hash: there
is nothing to guess. The token is shown once, when the key is created.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage.db import ROLES, ApiKey, utcnow
from triage.errors import AuthError, ConflictError, ForbiddenError, InvalidInputError, NotFoundError

TOKEN_PREFIX = "trg_"


@dataclass(frozen=True)
class Caller:
    """The holder of a valid key, as a request sees it."""

    key_id: int
    name: str
    role: str
    opds: tuple[str, ...] = ()
    """A focal point key's OPD codes: the complaints it may see and follow up (:mod:`triage.lifecycle`)."""

    def require(self, role: str) -> None:
        """:class:`ForbiddenError` unless the caller has ``role`` (an admin may do everything)."""
        if self.role != role and self.role != "admin":
            raise ForbiddenError(f"Kunci API '{self.name}' berperan '{self.role}'; tindakan ini hanya untuk "
                                 f"peran '{role}'. Minta admin melakukannya atau memberi kunci yang sesuai.")


def hash_token(token: str) -> str:
    """sha256 (hex) of a token: what the database keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, role: str, opds: list[str] | tuple[str, ...] = ()) -> tuple[ApiKey, str]:
    """Create key ``name`` with ``role`` (a ``focal_point`` with its ``opds``, checked against the deployment
    by the caller); returns the stored key and the token (shown only now)."""
    if role not in ROLES:
        raise InvalidInputError(f"Role '{role}' is not one of {', '.join(ROLES)}. Choose one of them.")
    if role == "focal_point" and not opds:
        raise InvalidInputError("A focal_point key needs the OPDs it answers for: add --opd CODE once per OPD, "
                                "e.g. --opd dinkes --opd rsud.")
    if role != "focal_point" and opds:
        raise InvalidInputError(f"Only focal_point keys are scoped to OPDs; a {role} key sees every complaint. "
                                "Drop --opd or use --role focal_point.")
    if not name.strip():
        raise InvalidInputError("A key needs a name (who or what uses it), e.g. 'siti-dinkes'.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name.strip(), role=role, token_sha256=hash_token(token), prefix=token[:8], created_at=utcnow(),
                 opds=list(dict.fromkeys(opds)) or None)
    session.add(key)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"An API key named '{name.strip()}' exists already (names stay taken after a key is "
                            "revoked, for the audit trail). Choose another name, e.g. "
                            f"'{name.strip()}-2'.") from None
    return key, token


def list_keys(session: Session) -> list[ApiKey]:
    """All keys, revoked ones too, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def revoke_key(session: Session, name: str) -> ApiKey:
    """Revoke key ``name`` (it stays listed, for the audit trail); revoking twice is harmless."""
    key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        known = ", ".join(k.name for k in list_keys(session)) or "none"
        raise NotFoundError(f"No API key named '{name}'. Known keys: {known}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.commit()
    return key


def authenticate(session: Session, token: str | None) -> Caller:
    """The caller holding ``token``; :class:`AuthError` if it is missing, unknown or revoked."""
    if not token:
        raise AuthError("Kunci API tidak ada. Kirim header 'Authorization: Bearer <kunci>' dengan kunci "
                        "yang diberikan admin.")
    key = session.scalar(select(ApiKey).where(ApiKey.token_sha256 == hash_token(token)))
    if key is None:
        raise AuthError("Kunci API tidak dikenal. Periksa kunci yang Anda kirim atau minta kunci baru ke admin.")
    if key.revoked_at is not None:
        raise AuthError(f"Kunci API '{key.name}' sudah dicabut. Minta kunci baru ke admin.")
    return Caller(key_id=key.id, name=key.name, role=key.role, opds=tuple(key.opds or ()))
