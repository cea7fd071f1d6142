"""Migrations go down as well as up without touching rows of the tables they leave alone."""

from __future__ import annotations

import json

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from triage.db import _MIGRATIONS, make_engine, upgrade


def _downgrade(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["url"] = url
    command.downgrade(config, revision)


def test_going_back_from_the_lifecycle_keeps_who_decided_and_the_idempotency_keys_on_sqlite(tmp_path):
    # SQLite enforces foreign keys here: a table rebuilt by dropping it would null or delete what refers to it
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO api_keys (id, name, role, token_sha256, prefix, created_at) "
                                "VALUES (1, 'siti', 'handler', 'x', 'trg_x', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO complaints (id, text, received_at, created_at, status, revisions, model_version, "
            "suggestion, needs_review, min_confidence, suggested_category, suggested_opd, "
            "suggested_maladministration, category_confidence, opd_confidence, maladministration_confidence, "
            "category, opd, maladministration, stage) VALUES (1, 'jalan rusak', '2026-01-01', '2026-01-01', "
            "'decided', 1, 'old', :suggestion, 0, 0.9, 'infrastruktur', 'dpupr', 'bukan_maladministrasi', 0.9, "
            "0.9, 0.9, 'infrastruktur', 'dpupr', 'bukan_maladministrasi', 'routed')"), {"suggestion": json.dumps({})})
        connection.execute(text(
            "INSERT INTO decisions (id, complaint_id, revision, category, opd, maladministration, category_kept, "
            "opd_kept, maladministration_kept, decided_by, api_key_id, decided_at) VALUES (1, 1, 1, "
            "'infrastruktur', 'dpupr', 'bukan_maladministrasi', 1, 1, 1, 'siti', 1, '2026-01-02')"))
        connection.execute(text("INSERT INTO idempotency_keys (api_key_id, key, request_sha256, decision_id, "
                                "created_at) VALUES (1, 'retry-1', 'h', 1, '2026-01-02')"))
    engine.dispose()
    _downgrade(url, "0005")
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT api_key_id FROM decisions")).scalars().all() == [1]
        assert connection.execute(text("SELECT key FROM idempotency_keys")).scalars().all() == ["retry-1"]
        columns = [row[1] for row in connection.execute(text("PRAGMA table_info(api_keys)"))]
    engine.dispose()
    assert "opds" not in columns
    upgrade(url)  # and up again
