"""full-text search over complaint texts

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

SQLite: an FTS5 table ``complaints_fts`` with external content (the text stays only in ``complaints``),
kept in step by three triggers, and filled with the complaints already stored ('rebuild').
PostgreSQL: a GIN index on ``to_tsvector('simple', text)``; building it indexes the stored complaints.
See triage/search.py for the queries.

A later migration that rebuilds ``complaints`` on SQLite (batch mode: copy, drop, rename) drops these
triggers with the old table: it must create them again (``create_sqlite_search()`` below) and rebuild.
"""

from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE VIRTUAL TABLE complaints_fts USING fts5(text, content='complaints', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER complaints_fts_insert AFTER INSERT ON complaints BEGIN "
    "INSERT INTO complaints_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER complaints_fts_delete AFTER DELETE ON complaints BEGIN "
    "INSERT INTO complaints_fts(complaints_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER complaints_fts_update AFTER UPDATE OF text ON complaints BEGIN "
    "INSERT INTO complaints_fts(complaints_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO complaints_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO complaints_fts(complaints_fts) VALUES ('rebuild')",
]


def create_sqlite_search() -> None:
    for statement in SQLITE:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite_search()
    else:
        op.execute("CREATE INDEX ix_complaints_text_fts ON complaints USING gin (to_tsvector('simple'::regconfig, text))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS complaints_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS complaints_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_complaints_text_fts")
