"""Alembic environment of triage: run by :func:`triage.db.upgrade`, which passes the URL in
``config.attributes["url"]`` (kept out of the ini parser, so '%' in a password is harmless)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from triage.db import Base, make_engine

_LOCK_ID = 7_274_263  # PostgreSQL advisory lock: one migrating process at a time

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")


def run_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            # SQLite's DDL is transactional under our explicit BEGIN IMMEDIATE, which also makes
            # processes that start at once migrate one after the other.
            context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=sqlite,
                              transactional_ddl=True)
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
