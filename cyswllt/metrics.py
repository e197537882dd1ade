"""``GET /metrics`` in the Prometheus text format, counting real things."""

from __future__ import annotations

import hmac

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from sqlalchemy import func
from sqlmodel import select

from cyswllt.appkeys import DB, METRICS, SETTINGS
from cyswllt.clients import is_loopback
from storage.models import OutboxMessage, Response


def allowed(request: web.Request) -> None:
    """With CYSWLLT_METRICS_TOKEN, only a request bearing it; without, only clients on this host."""
    expected = request.app[SETTINGS].metrics_token
    if expected:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
            raise web.HTTPUnauthorized(text="A valid metrics bearer token is required.\n",
                                       headers={"WWW-Authenticate": "Bearer"})
    elif not is_loopback(request):
        raise web.HTTPForbidden(text="Metrics are served to this host only; set CYSWLLT_METRICS_TOKEN to "
                                     "scrape them from elsewhere.\n")


async def metrics(request: web.Request) -> web.Response:
    allowed(request)
    # Database-backed figures are read at scrape time, so every replica reports the same truth.
    scrape = CollectorRegistry()
    outbox = Gauge("cyswllt_outbox_messages", "Outbox rows by state", ["state"], registry=scrape)
    responses = Gauge("cyswllt_responses_stored", "Consultation responses stored, by analysis state",
                      ["analysis_state"], registry=scrape)
    async with request.app[DB].session() as s:
        for state, n in (await s.exec(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))).all():
            outbox.labels(state).set(n)
        for state, n in (await s.exec(select(Response.analysis_state, func.count()).group_by(Response.analysis_state))).all():
            responses.labels(state).set(n)
    body = generate_latest(request.app[METRICS].registry) + generate_latest(scrape)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


def setup(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
