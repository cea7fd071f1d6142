"""``triage apikey`` makes, lists and revokes the keys the API accepts; ``triage serve`` is registered."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from triage.cli import app as cli
from triage.settings import get_settings


@pytest.fixture
def run(monkeypatch, database_url):
    monkeypatch.setenv("TRIAGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args))
    get_settings.cache_clear()


def test_a_created_key_works_until_it_is_revoked(run, client):
    created = run("apikey", "create", "--name", "rina-dpupr", "--role", "handler")
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/complaints", headers=headers).status_code == 200

    listed = run("apikey", "list")
    assert "rina-dpupr" in listed.output and "handler" in listed.output and token not in listed.output

    assert run("apikey", "revoke", "rina-dpupr").exit_code == 0
    assert client.get("/v1/complaints", headers=headers).status_code == 401
    assert run("apikey", "list", "--json").output.count('"revoked_at": null') == 0


def test_an_admin_key_from_the_cli_may_read_stats(run, client: TestClient):
    token = run("apikey", "create", "--name", "ops", "--role", "admin").output.strip().splitlines()[-1]

    assert client.get("/v1/stats", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_serve_is_a_command():
    result = CliRunner().invoke(cli, ["serve", "--help"])

    assert result.exit_code == 0
    assert "--workers" in result.output
