"""The API docs render in a real chromium that can reach nothing but the server (no internet, no CDN)."""

from __future__ import annotations

import pytest

from tests.web.conftest import browser_sign_in

pytestmark = pytest.mark.browser


def test_swagger_ui_and_redoc_render_offline_for_a_signed_in_handler(live, context_factory):
    page = context_factory().new_page()
    page.goto(f"{live.url}/docs")
    assert page.url.startswith(f"{live.url}/masuk")  # not signed in: the sign-in form first

    browser_sign_in(page, live, live.handler)
    page.goto(f"{live.url}/docs")
    operations = page.locator(".swagger-ui .opblock")
    operations.first.wait_for()
    assert operations.count() >= 8
    assert page.locator(".opblock-summary-path", has_text="/v1/complaints/{complaint_id}/decisions").count() == 1

    page.goto(f"{live.url}/redoc")
    page.get_by_text("Store a complaint and return the routing suggested for it.").first.wait_for()
    assert page.locator("h1").first.inner_text().startswith("triage")
    # context_factory fails the test if either page tried any other host or logged an error
