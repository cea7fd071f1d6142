"""The API keeps its published contract: schemathesis generates requests from /openapi.json (valid ones and
broken ones) and sends them to the real app on a real database, with a handler key and an admin key. No
answer may be a 5xx, and every answer must be one the schema documents: its status, content type, headers
and body.

``POST /v1/retrain`` is left out: it starts a real retraining job (tests/retrain covers it). Examples per
operation and mode are capped to keep the test near a minute on the 2-core machine.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from triage.api import create_app

CHECKS = [checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]
EXAMPLES = 40


def failures_of(operation, mode: GenerationMode, keys, sent: list[int]) -> list[str]:
    """What went wrong for ``operation`` over generated cases (empty if nothing did); ``sent`` collects
    the status of every answer."""
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              derandomize=True)
    def run(case) -> None:
        for key in keys:
            response = case.call(headers=key.headers)
            sent.append(response.status_code)
            try:
                assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
                case.validate_response(response, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis's failure groups, or the assertion
                found.append(f"{case.method} {case.formatted_path} ({mode.value}, {key.name}): "
                             f"{str(exc)[:600]}")
                raise

    try:
        run()
    except (Exception, BaseExceptionGroup):
        pass
    return found


@pytest.mark.slow
def test_every_answer_is_documented_and_none_is_a_server_error(settings, handler, admin):
    app = create_app(settings.model_copy(update={"docs": "on", "key_failure_limit": 0}))
    with TestClient(app):  # runs the lifespan: database migrated, model loaded
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        sent: list[int] = []
        failures = [failure
                    for operation in operations if (operation.method, operation.path) != ("post", "/v1/retrain")
                    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
                    for failure in failures_of(operation, mode, (handler, admin), sent)]

    assert len(operations) >= 9
    assert len(sent) >= 300 and {200, 201, 401, 404, 422} <= set(sent)  # it did reach the routes' work
    assert not failures, "\n\n".join(failures)


def test_the_schema_names_this_deployments_limits_codes_and_every_status(settings, handler, taxonomy):
    app = create_app(settings.model_copy(update={"docs": "on"}))
    with TestClient(app) as client:
        schema = client.get("/openapi.json", headers=handler.headers).json()

    paths, components = schema["paths"], schema["components"]["schemas"]
    assert components["ComplaintCreate"]["properties"]["text"]["maxLength"] == settings.max_text_chars
    assert components["DecisionCreate"]["properties"]["opd"]["enum"] == taxonomy.codes("opd")
    assert set(paths["/readyz"]["get"]["responses"]) == {"200", "401", "429", "503"}
    assert set(paths["/v1/complaints"]["post"]["responses"]) >= {"201", "400", "401", "409", "413", "422", "429",
                                                                 "503"}
    assert set(paths["/v1/stats"]["get"]["responses"]) >= {"200", "401", "403", "422", "429"}
    decide = paths["/v1/complaints/{complaint_id}/decisions"]["post"]
    assert set(decide["responses"]) >= {"200", "201", "400", "401", "404", "409", "413", "422", "429", "503"}
    assert any(p["name"] == "Idempotency-Key" for p in decide["parameters"])
    assert "Retry-After" in paths["/v1/complaints"]["get"]["responses"]["429"]["headers"]
    assert set(paths["/healthz"]["get"]["responses"]) == {"200"}
