"""``triage apikey create|list|revoke``: the bearer keys of the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from triage.apikeys import create_key, list_keys, revoke_key
from triage.cli import app
from triage.db import ROLES, make_engine, make_sessions, upgrade
from triage.settings import get_settings
from triage.taxonomy import load_taxonomy

apikey = typer.Typer(help="Create, list and revoke API keys (bearer tokens with a role).", no_args_is_help=True)
app.add_typer(apikey, name="apikey")


@contextmanager
def _session() -> Iterator[Session]:
    """A session on the configured database, migrated first; the engine is closed afterwards."""
    url = get_settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_sessions(engine)() as session:
            yield session
    finally:
        engine.dispose()


@apikey.command("create")
def create(name: Annotated[str, typer.Option("--name", help="Who or what uses the key, e.g. 'siti-dinkes'.")],
           role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")] = "handler",
           opd: Annotated[list[str] | None, typer.Option("--opd", help="For --role focal_point: an OPD code the key "
                                                                       "answers for (repeat for several).")] = None
           ) -> None:
    """Create a key; its token is printed once, as the last line. Only its sha256 is stored."""
    opds = [load_taxonomy(get_settings().deployment).check("opd", code) for code in opd or []]
    with _session() as session:
        key, token = create_key(session, name, role, opds)
    scope = f", OPD {', '.join(key.opds)}" if key.opds else ""
    typer.echo(f"created API key '{key.name}' (role {key.role}{scope}). Keep the token below; it is not shown "
               "again.", err=False)
    typer.echo(token)


@apikey.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False) -> None:
    """List keys: name, role, token prefix, created, revoked."""
    with _session() as session:
        keys = list_keys(session)
    rows = [{"name": k.name, "role": k.role, "prefix": k.prefix, "created_at": k.created_at.isoformat(timespec="seconds"),
             "revoked_at": k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else None} for k in keys]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no API keys; create one with `triage apikey create --name NAME --role handler`")
        return
    typer.echo(f"{'name':<24} {'role':<8} {'prefix':<10} {'created':<26} revoked")
    for r in rows:
        typer.echo(f"{r['name']:<24} {r['role']:<8} {r['prefix']:<10} {r['created_at']:<26} {r['revoked_at'] or '-'}")


@apikey.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="Name of the key to revoke.")]) -> None:
    """Revoke a key: requests with it get 401 from now on. It stays listed for the audit trail."""
    with _session() as session:
        key = revoke_key(session, name)
    typer.echo(f"revoked API key '{key.name}' at {key.revoked_at.isoformat(timespec='seconds')}")
