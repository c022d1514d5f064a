"""Prometheus metrics: public (no token), but only to the networks in REGISTRY_METRICS_NETWORKS.

Decision: scrapers do not carry 15-minute JWTs, so /metrics declares ``public()``; what it
shows holds no personal data (route templates, counts, latencies, queue length), and it is
still answered only to callers on the configured networks (loopback by default), 403 to
everyone else. Behind a reverse proxy, the proxy must not forward /metrics.
"""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from api.authz import public
from registry.core.errors import Forbidden
from registry.core.metrics import CONTENT_TYPE, render_metrics

router = APIRouter(tags=["operations"])


def _allowed(request: Request) -> bool:
    host = request.client.host if request.client else None
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    networks = request.app.state.settings.metrics_networks
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


@router.get(
    "/metrics",
    dependencies=[public()],
    response_class=PlainTextResponse,
    response_model=None,
    responses={200: {"content": {CONTENT_TYPE.split(";")[0]: {}}}, 403: {}},
)
def metrics(request: Request) -> PlainTextResponse:
    """Prometheus text: requests, latencies, batch sizes, link outcomes, review queue."""
    if not _allowed(request):
        raise Forbidden("metrics are served only to the monitoring networks")
    return PlainTextResponse(render_metrics(request.app.state.engine), media_type=CONTENT_TYPE)
