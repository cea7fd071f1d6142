"""Backups: a consistent copy of the history database and the model registry, and its restore.

A backup is a folder::

    DEST/
      manifest.json       what is in it: versions, row counts, the promotion pointer, a sha256 per file
      database.sqlite3    SQLite: a copy made by SQLite's online backup API (safe while the service writes)
      database.pgdump     PostgreSQL: pg_dump's custom format, taken in one snapshot (the row counts too)
      models/             every model version (folders, signatures) and PROMOTED.json

The database is copied first, then the models: versions are only ever added, so every version a stored
complaint names is in the copy. :func:`restore` refuses a target that is not empty, checks every file
against the manifest before touching anything, restores, runs the migrations (a backup of an older triage
comes up to date) and checks the row counts and the serving model against the manifest.

PostgreSQL needs ``pg_dump`` and ``pg_restore`` (Debian's ``postgresql-client``) of the server's major
version or newer on the PATH; a SQLite backup restores only into SQLite and a PostgreSQL one only into
PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from pathlib import Path

from sqlalchemy import inspect, make_url, text
from sqlalchemy.engine import URL

from triage.dataset import file_sha256
from triage.errors import TriageError
from triage.registry import SHIPPED_VERSION

MANIFEST = "manifest.json"
FORMAT = 1
COUNTED_TABLES: tuple[str, ...] = ("complaints", "decisions", "api_keys")
"""Tables whose row counts the manifest records and a restore checks."""
_SQLITE_FILE = "database.sqlite3"
_PG_FILE = "database.pgdump"
_POINTER = "PROMOTED.json"


class BackupError(TriageError):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds, or what a restore put back (from the manifest)."""

    path: Path
    manifest: dict

    @property
    def counts(self) -> dict[str, int]:
        return self.manifest["database"]["counts"]

    @property
    def serving_model(self) -> str | None:
        return self.manifest["models"]["serving"]


# -- backup -------------------------------------------------------------------------------------------

def backup(database_url: str, models_dir: str | Path, dest: str | Path) -> BackupSummary:
    """Copy the database at ``database_url`` and the registry ``models_dir`` into the new folder ``dest``."""
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not an empty folder. Name a new folder for the backup.")
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        raise BackupError(f"{models_dir}: no models directory. Set TRIAGE_MODELS_DIR to the registry.")
    url = make_url(database_url)
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".backup.", dir=dest))
    try:
        if url.get_backend_name() == "sqlite":
            database = _backup_sqlite(url, staging / _SQLITE_FILE)
        elif url.get_backend_name() == "postgresql":
            database = _backup_postgres(url, staging / _PG_FILE)
        else:
            raise BackupError(f"cannot back up a '{url.get_backend_name()}' database: only SQLite and PostgreSQL.")
        models = _copy_models(models_dir, staging / "models")
        files = {str(p.relative_to(staging)): file_sha256(p) for p in sorted(staging.rglob("*")) if p.is_file()}
        manifest = {"format": FORMAT, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "triage_version": package_version("triage"), "database": database, "models": models,
                    "files": files}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        for item in staging.iterdir():
            os.replace(item, dest / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupSummary(dest, manifest)


def _backup_sqlite(url: URL, target: Path) -> dict:
    source_path = Path(url.database or "")
    if not url.database or url.database == ":memory:" or not source_path.is_file():
        raise BackupError(f"no SQLite database file at '{url.database}'. Check TRIAGE_DATABASE_URL.")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # the online backup API: a consistent copy while others write
    finally:
        source.close()
    try:
        counts = {t: copy.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED_TABLES}
        revision = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        copy.close()
    return {"kind": "sqlite", "file": _SQLITE_FILE, "counts": counts, "alembic_revision": revision}


def _backup_postgres(url: URL, target: Path) -> dict:
    """pg_dump in the snapshot of a transaction of ours, in which the rows are counted too: the counts are
    those of the dump."""
    from triage.db import make_engine

    pg_dump = _tool("pg_dump")
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            counts = {t: connection.scalar(text(f"SELECT count(*) FROM {t}")) for t in COUNTED_TABLES}
            revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
            server = connection.scalar(text("SHOW server_version"))
            _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                  f"--file={target}", *_pg_args(url)], url)
            connection.rollback()
    finally:
        engine.dispose()
    return {"kind": "postgresql", "file": _PG_FILE, "counts": counts, "alembic_revision": revision,
            "server_version": server}


def _copy_models(models_dir: Path, target: Path) -> dict:
    """Every version folder and the pointer; hidden folders (a version being written) are left out."""
    target.mkdir()
    pointer = models_dir / _POINTER
    state = json.loads(pointer.read_text()) if pointer.is_file() else None  # read once: written atomically
    versions = sorted(p.name for p in models_dir.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and (p / "metadata.json").is_file())
    for name in versions:
        shutil.copytree(models_dir / name, target / name)
    if state is not None:
        (target / _POINTER).write_text(json.dumps(state, indent=2) + "\n")
    serving = (state or {}).get("current") or (SHIPPED_VERSION if SHIPPED_VERSION in versions else None)
    if serving is not None and serving not in versions:
        raise BackupError(f"{pointer} names version '{serving}', which {models_dir} lacks. Repair the registry "
                          "(`triage models promote VERSION`) before backing it up.")
    return {"versions": versions, "pointer": state, "serving": serving}


# -- restore ------------------------------------------------------------------------------------------

def read_manifest(source: str | Path) -> BackupSummary:
    """The manifest of the backup in ``source``, every file checked against its sha256."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{source}: no {MANIFEST}. Name a folder made by `triage backup`.") from None
    except json.JSONDecodeError as exc:
        raise BackupError(f"{source / MANIFEST} is not valid JSON ({exc}). The backup is damaged.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: backup format {manifest.get('format')!r}, this triage reads {FORMAT}. "
                          "Restore it with the triage version that made it.")
    for name, digest in manifest["files"].items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"{source}: {name} is missing. The backup is incomplete; use another one.")
        if file_sha256(path) != digest:
            raise BackupError(f"{source}: {name} does not match its sha256 in the manifest. The backup is "
                              "damaged; use another one.")
    return BackupSummary(source, manifest)


def restore(source: str | Path, database_url: str, models_dir: str | Path) -> BackupSummary:
    """Restore the backup in ``source`` into the empty database ``database_url`` and the empty (or absent)
    folder ``models_dir``; check what was restored against the manifest."""
    from triage.db import make_engine, upgrade
    from triage.registry import ModelRegistry

    summary = read_manifest(source)
    database = summary.manifest["database"]
    url = make_url(database_url)
    kind = url.get_backend_name()
    if kind != database["kind"]:
        raise BackupError(f"the backup holds a {database['kind']} database; TRIAGE_DATABASE_URL is {kind}. "
                          f"Restore into a {database['kind']} database.")
    models_dir = Path(models_dir)
    if models_dir.exists() and any(models_dir.iterdir()):
        raise BackupError(f"{models_dir} is not empty. Restore into a new models directory (TRIAGE_MODELS_DIR).")
    dump = summary.path / database["file"]
    if kind == "sqlite":
        target = Path(url.database or "")
        if not url.database or target.exists() and target.stat().st_size:
            raise BackupError(f"{url.database} exists. Restore into a new SQLite file (TRIAGE_DATABASE_URL).")
        target.parent.mkdir(parents=True, exist_ok=True)
        source_db, copy = sqlite3.connect(f"file:{dump}?mode=ro", uri=True), sqlite3.connect(target)
        try:
            source_db.backup(copy)
        finally:
            source_db.close()
            copy.close()
    else:
        engine = make_engine(database_url)
        try:
            with engine.connect() as connection:
                tables = inspect(connection).get_table_names()
        finally:
            engine.dispose()
        if tables:
            raise BackupError(f"database {url.database} already has tables ({', '.join(sorted(tables)[:5])}). "
                              "Restore into a new, empty database (createdb NAME).")
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              f"--dbname={url.database}", *_pg_args(url, dbname=False), str(dump)], url)
    upgrade(database_url)  # a backup of an older triage: its schema brought up to date
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            counts = {t: connection.scalar(text(f"SELECT count(*) FROM {t}")) for t in COUNTED_TABLES}
    finally:
        engine.dispose()
    if counts != database["counts"]:
        raise BackupError(f"restored rows {counts} differ from the backup's {database['counts']}. Do not use this "
                          "database; report it.")
    models_dir.mkdir(parents=True, exist_ok=True)
    for item in (summary.path / "models").iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy2)(item, models_dir / item.name)
    serving = summary.serving_model
    if serving is not None and ModelRegistry(models_dir).current_version() != serving:
        raise BackupError(f"the restored registry serves '{ModelRegistry(models_dir).current_version()}', the "
                          f"backup served '{serving}'. Check {models_dir / _POINTER}.")
    return summary


# -- helpers ------------------------------------------------------------------------------------------

def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found on the PATH. Install PostgreSQL's client tools (Debian: apt-get "
                          "install postgresql-client) of the server's major version or newer.")
    return found


def _pg_args(url: URL, dbname: bool = True) -> list[str]:
    args = [f"--host={url.host or 'localhost'}", f"--port={url.port or 5432}"]
    if url.username:
        args.append(f"--username={url.username}")
    if dbname:
        args.append(f"--dbname={url.database}")
    return [*args, "--no-password"]


def _run(command: list[str], url: URL) -> None:
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{Path(command[0]).name} failed (exit {result.returncode}): {last}")
