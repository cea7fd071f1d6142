"""The API docs (Swagger UI, ReDoc, the schema) come from the package, never a CDN, and only to whom
``settings.docs`` lets read them."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.api.docs import ASSETS
from triage.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "triage"


def client_for(settings, **changes) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=changes)))


def sign_in(client: TestClient, token: str) -> None:
    form = client.get("/masuk").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    response = client.post("/masuk", data={"api_key": token, "csrf": csrf, "next": "/antrean"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def test_the_docs_pages_load_their_scripts_and_styles_from_the_server_itself(settings):
    with client_for(settings, docs="on") as client:
        pages = {path: client.get(path) for path in ("/docs", "/redoc")}
        assets = {name: client.get(f"/docs/static/{name}") for name in ASSETS}

    for path, response in pages.items():
        assert response.status_code == 200, path
        linked = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert linked and all(url.startswith("/docs/static/") for url in linked), (path, linked)
        assert "https://" not in response.text, path
    assert all(response.status_code == 200 for response in assets.values())
    assert assets["swagger-ui-bundle.js"].headers["content-type"].startswith("text/javascript")
    assert b"https://cdn" not in assets["redoc.standalone.js"].content


def test_with_the_default_setting_the_docs_need_a_key_or_a_sign_in(settings, handler):
    assert settings.docs == "key"
    with client_for(settings) as client:
        anonymous_page = client.get("/docs", follow_redirects=False)
        anonymous_schema = client.get("/openapi.json")
        wrong_key = client.get("/openapi.json", headers={"Authorization": "Bearer trg_bukan-kunci"})
        with_key = client.get("/openapi.json", headers=handler.headers)
        sign_in(client, handler.token)
        signed_in_page, signed_in_schema = client.get("/docs"), client.get("/openapi.json")

    assert anonymous_page.status_code == 303 and anonymous_page.headers["location"] == "/masuk?next=%2Fdocs"
    assert anonymous_schema.status_code == 401 and "kunci API" in anonymous_schema.json()["message"]
    assert wrong_key.status_code == 401
    assert with_key.status_code == 200 and "/v1/complaints" in with_key.json()["paths"]
    assert signed_in_page.status_code == 200 and "swagger-ui" in signed_in_page.text
    assert signed_in_schema.json()["paths"] == with_key.json()["paths"]


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/docs/static/swagger-ui-bundle.js"])
def test_docs_switched_off_are_not_there_even_with_a_key(settings, handler, path):
    with client_for(settings, docs="off") as client:
        response = client.get(path, headers=handler.headers)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_an_unknown_asset_name_is_not_read_from_disk(settings):
    with client_for(settings, docs="on") as client:
        assert client.get("/docs/static/..%2F__init__.py").status_code == 404
        assert client.get("/docs/static/core.py").status_code == 404


def test_nothing_in_the_package_loads_from_a_cdn():
    offenders = [str(path.relative_to(PROJECT_ROOT)) for path in PACKAGE.rglob("*")
                 if path.is_file() and path.suffix in {".py", ".html", ".js", ".css", ".yaml", ".md"}
                 and "https://cdn" in path.read_text(encoding="utf-8", errors="replace")]
    assert offenders == []
