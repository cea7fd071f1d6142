"""``/metrics``: Prometheus's scrape of the service (every worker's counters summed; see
:mod:`triage.metrics`).

Open to the server itself (loopback: a Prometheus or node exporter on the same machine) and to a scraper
sending ``Authorization: Bearer <TRIAGE_METRICS_KEY>``; anyone else gets 403. Behind a reverse proxy on the
same machine every request comes from loopback unless the proxy sends ``X-Forwarded-For`` (uvicorn then
sees the real client): the operations guide's proxy does, and does not pass ``/metrics`` at all.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from triage.api.deps import SettingsDep
from triage.errors import ForbiddenError
from triage.metrics import CONTENT_TYPE, exposition

router = APIRouter(tags=["health"])


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:  # "testclient" and other names are not addresses
        return False


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    """Metrics in Prometheus's text format."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    keyed = bool(settings.metrics_key) and scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), settings.metrics_key.encode())
    if not (keyed or _loopback(request.client.host if request.client else None)):
        raise ForbiddenError("Metrik hanya untuk server ini sendiri (loopback) atau pemegang TRIAGE_METRICS_KEY. "
                             "Kirim header 'Authorization: Bearer <kunci metrik>'.")
    return Response(await run_in_threadpool(exposition, request.app.state), media_type=CONTENT_TYPE)
