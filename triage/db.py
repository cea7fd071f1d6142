"""Storage of complaints, their suggestions, the handlers' decisions and API keys (SQLAlchemy 2).

A SQLite file by default (``var/triage.db``), PostgreSQL by URL. The schema is owned by the Alembic
migrations in ``triage/migrations``; :func:`upgrade` brings a database to the newest one and is called
by ``triage serve``, ``triage apikey`` and the app at start.

Tables::

    complaints   one row a complaint: text, channel, when it came, the suggestion (JSON, as served) plus
                 indexed copies of its codes, confidences and needs_review; status pending|decided,
                 the current routing (the latest decision, else the suggestion) and the revision count
    decisions    one row per handler decision; (complaint_id, revision) is unique and never updated
    complaint_events  the lifecycle of each complaint (triage/lifecycle.py): routed, acknowledged, settled,
                 returned ..., who, when, note, data; appended, never updated. complaints.stage/due_at follow it
    api_keys     bearer keys: name, role handler|admin|focal_point (with its OPD codes), sha256 of the
                 token, revoked_at
    web_sessions the web page's signed-in sessions (sha256 of the cookie's nonce, key, expiry): signing out
                 deletes the row, so a copied cookie stops working
    decision_batches  bulk confirmations (who, when, undone when and by whom); decisions.batch_id points here
    saved_filters     queue filters saved per API key: name and URL query string
    presence          who has which complaint open, with the time of the last heartbeat
    idempotency_keys  per API key, each Idempotency-Key a client sent with a decision: the request's sha256
                      and the decision it made, so that a retry gets that decision back, not a new one
    complaints_fts    (SQLite only) the FTS5 index of complaint texts; PostgreSQL: a GIN index instead

On SQLite every transaction starts with ``BEGIN IMMEDIATE``: writers queue on the busy timeout instead of
failing with "database is locked" when a read transaction tries to become a write one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

STATUSES: tuple[str, ...] = ("pending", "decided")
CHANNELS: tuple[str, ...] = ("sms", "web", "wa", "desk", "lapor")
ROLES: tuple[str, ...] = ("handler", "admin", "focal_point")

_MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (what every timestamp column holds)."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and read back timezone-aware (SQLite keeps no offsets)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of triage's tables (constraint names fixed, so migrations can name them)."""

    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    })


class Complaint(Base):
    """A complaint and the suggestion served for it."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    channel: Mapped[str | None] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    revisions: Mapped[int] = mapped_column(Integer, default=0)

    model_version: Mapped[str] = mapped_column(String(200), index=True)
    suggestion: Mapped[dict] = mapped_column(JSONType)
    needs_review: Mapped[bool] = mapped_column(Boolean, index=True)
    min_confidence: Mapped[float] = mapped_column(Float, index=True)
    suggested_category: Mapped[str] = mapped_column(String(64), index=True)
    suggested_opd: Mapped[str] = mapped_column(String(64), index=True)
    suggested_maladministration: Mapped[str] = mapped_column(String(64), index=True)
    category_confidence: Mapped[float] = mapped_column(Float)
    opd_confidence: Mapped[float] = mapped_column(Float)
    maladministration_confidence: Mapped[float] = mapped_column(Float)

    # The routing in force: the latest decision's codes, else the suggested ones.
    category: Mapped[str] = mapped_column(String(64), index=True)
    opd: Mapped[str] = mapped_column(String(64), index=True)
    maladministration: Mapped[str] = mapped_column(String(64), index=True)

    # Where it is in its lifecycle (triage/lifecycle.py keeps these three; complaint_events says how it got there).
    stage: Mapped[str] = mapped_column(String(16), default="received", index=True)
    stage_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class ComplaintEvent(Base):
    """One step of a complaint's lifecycle (routed, acknowledged, settled, returned ...): never updated."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(16), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    opd: Mapped[str | None] = mapped_column(String(64), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSONType)


class Decision(Base):
    """One handler's confirmation or correction of a complaint's routing (never updated)."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("complaint_id", "revision", name="uq_decisions_complaint_id_revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(64))
    opd: Mapped[str] = mapped_column(String(64))
    maladministration: Mapped[str] = mapped_column(String(64))
    category_kept: Mapped[bool] = mapped_column(Boolean)
    opd_kept: Mapped[bool] = mapped_column(Boolean)
    maladministration_kept: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(100))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("decision_batches.id", ondelete="SET NULL"),
                                                 index=True)  # made by a bulk confirmation


class ApiKey(Base):
    """A bearer key of the API; only the token's sha256 is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    opds: Mapped[list | None] = mapped_column(JSONType)  # a focal_point key's OPD codes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyKey(Base):
    """An ``Idempotency-Key`` an API key sent with a decision, and the decision it made (never updated)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_idempotency_keys_api_key_id_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_sha256: Mapped[str] = mapped_column(String(64))
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DecisionBatch(Base):
    """A bulk confirmation from the queue: one decision per complaint points to it; ``undone_at`` once undone."""

    __tablename__ = "decision_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decided_by: Mapped[str] = mapped_column(String(100))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(100))


class SavedFilter(Base):
    """A queue filter a key saved under a name (the queue's URL query string)."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("api_key_id", "name", name="uq_saved_filters_api_key_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Presence(Base):
    """Who has a complaint open: one row per complaint and key, refreshed by the page's heartbeat."""

    __tablename__ = "presence"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class WebSignIn(Base):
    """A live session of the web page: the cookie names it by a nonce, of which only the sha256 is kept."""

    __tablename__ = "web_sessions"

    nonce_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; for a SQLite file, its folder is created and WAL plus immediate
    transactions are switched on."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A look-up that only reads (execution option read_only, e.g. every request's API key) takes no write
        # lock: in WAL mode it neither waits for writers nor makes them wait (SQLite's busy wait sleeps 1-100 ms).
        read_only = connection.get_execution_options().get("read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def make_sessions(engine: Engine) -> sessionmaker:
    """The session factory of ``engine`` (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (the newest by default); safe to call at every start."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["url"] = url
    command.upgrade(config, revision)
