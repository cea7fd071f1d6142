"""The published contract (``/openapi.json``): FastAPI's schema, completed with what the routes' decorators
cannot know, so that a client (or schemathesis) finds every answer documented.

* Statuses each operation can answer, read from its dependencies rather than listed per route: 401 and 429
  where a key is needed, 403 where the admin role is, 503 where the model serves, 400 and 413 where a body
  is read, and 422 (in the shape of every error body, :class:`~triage.api.schemas.ErrorPublic`) where
  anything is validated.
* This deployment's limits and code lists: the complaint text's ``maxLength`` (``max_text_chars``) and the
  codes of each head as ``enum`` in decisions and in the list filters. The schema is built again when the
  taxonomy changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from triage.api.deps import get_admin, get_caller, get_holder, get_suggester
from triage.settings import Settings
from triage.taxonomy import HEADS, load_taxonomy

ERROR = {"$ref": "#/components/schemas/ErrorPublic"}

STATUS_TEXT = {
    400: "The body is not valid JSON (or not UTF-8).",
    401: "Missing, unknown or revoked API key.",
    403: "The key's role may not do this.",
    413: "The body is larger than the limit.",
    422: "A value is missing, malformed or outside what the service accepts.",
    429: "Too many wrong API keys from this address: wait `Retry-After` seconds.",
    503: "No model can serve (the service is not ready).",
}


def install(app: FastAPI, settings: Settings) -> None:
    """Make ``app.openapi()`` return the completed schema (built again when the taxonomy changes)."""
    cache: dict[str, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        taxonomy = load_taxonomy(settings.deployment)
        if taxonomy.hash not in cache:
            cache.clear()
            cache[taxonomy.hash] = complete(app, settings, {h: taxonomy.codes(h) for h in HEADS})
        return cache[taxonomy.hash]

    app.openapi = openapi  # type: ignore[method-assign]


def complete(app: FastAPI, settings: Settings, codes: dict[str, list[str]]) -> dict[str, Any]:
    """FastAPI's schema of ``app`` with every status, the text limit and the deployment's ``codes``."""
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path, route in _api_routes(app):
        if not route.include_in_schema or path not in schema["paths"]:
            continue
        calls = _dependency_calls(route)
        for method in route.methods:
            operation = schema["paths"][path].get(method.lower())
            if operation is not None:
                _add_statuses(operation, calls, has_body=route.body_field is not None)
    components = schema.get("components", {}).get("schemas", {})
    if "ComplaintCreate" in components:
        components["ComplaintCreate"]["properties"]["text"].update(minLength=1, maxLength=settings.max_text_chars)
    if "DecisionCreate" in components:
        for head in HEADS:
            components["DecisionCreate"]["properties"][head]["enum"] = codes[head]
    listing = schema["paths"].get("/v1/complaints", {}).get("get", {})
    for parameter in listing.get("parameters", []):
        if parameter["name"] in ("opd", "category"):
            for option in parameter["schema"].get("anyOf", [parameter["schema"]]):
                if option.get("type") == "string":
                    option["enum"] = codes[parameter["name"]]
    return schema


def _api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Each API route of ``app`` with its full path (routers included with a prefix too)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # a FastAPI that flattens included routers into app.routes
        yield from ((r.path_format, r) for r in app.routes if isinstance(r, APIRoute))
        return
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.path_format:
            yield context.path_format, context.original_route


def _dependency_calls(route: APIRoute) -> set[Any]:
    calls, stack = set(), [route.dependant]
    while stack:
        dependant = stack.pop()
        calls.add(dependant.call)
        stack.extend(dependant.dependencies)
    return calls


def _add_statuses(operation: dict[str, Any], calls: set[Any], has_body: bool) -> None:
    statuses: set[int] = set()
    if get_caller in calls:
        statuses |= {401, 429}
    if get_admin in calls:
        statuses.add(403)
    if get_suggester in calls or get_holder in calls:
        statuses.add(503)
    if has_body:
        statuses |= {400, 413, 422}
    if operation.get("parameters"):
        statuses.add(422)
    responses = operation.setdefault("responses", {})
    for status in sorted(statuses):
        entry = responses.setdefault(str(status), {"description": STATUS_TEXT[status]})
        if status == 503 and "content" in entry:
            continue  # /readyz documents its own 503 body
        entry["content"] = {"application/json": {"schema": ERROR}}
        if status == 429:
            entry["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
