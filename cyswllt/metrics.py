"""``GET /metrics`` in the Prometheus text format, counting real things."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from sqlalchemy import func
from sqlmodel import select

from cyswllt.appkeys import DB, METRICS, SETTINGS
from cyswllt.clients import is_loopback
from storage.models import AnalysisState, JobRun, OutboxHold, OutboxMessage, OutboxState, Response, utcnow


async def collect(db, registry: CollectorRegistry) -> None:
    """The database-backed figures, read at scrape time so every replica reports the same truth."""
    outbox = Gauge("cyswllt_outbox_messages", "Outbox rows by state", ["state"], registry=registry)
    oldest = Gauge("cyswllt_outbox_oldest_pending_seconds", "How long the oldest message due to be sent has "
                   "waited, by platform (0: nothing waiting)", ["platform"], registry=registry)
    held = Gauge("cyswllt_outbox_held_channels", "Channels (or whole platforms) the outbox is waiting for: rate "
                 "limited, or failing", ["platform", "reason"], registry=registry)
    responses = Gauge("cyswllt_responses_stored", "Consultation responses stored, by analysis state",
                      ["analysis_state"], registry=registry)
    backlog = Gauge("cyswllt_analysis_backlog", "Responses stored but not yet analysed", registry=registry)
    backlog_age = Gauge("cyswllt_analysis_oldest_pending_seconds", "How long the oldest response waiting for "
                        "analysis has waited", registry=registry)
    job_success = Gauge("cyswllt_job_last_success_timestamp_seconds", "When each scheduled job last ran to the "
                        "end, on any replica (Unix time; absent: never)", ["job"], registry=registry)
    job_queued = Gauge("cyswllt_job_last_queued", "Messages each job queued when it last ran", ["job"],
                       registry=registry)
    now = utcnow()
    async with db.session() as s:
        for state, n in (await s.exec(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))).all():
            outbox.labels(state).set(n)
        for platform, first in (await s.exec(select(OutboxMessage.platform, func.min(OutboxMessage.next_attempt_at))
                                            .where(OutboxMessage.state == OutboxState.pending,
                                                   OutboxMessage.next_attempt_at <= now)
                                            .group_by(OutboxMessage.platform))).all():
            oldest.labels(platform).set(max(0.0, (now - _aware(first)).total_seconds()))
        for hold in (await s.exec(select(OutboxHold).where(OutboxHold.until > now))).all():
            reason = "rate_limited" if (hold.reason or "").startswith("rate limited") else "failing"
            held.labels(hold.platform, reason).inc()
        for state, n in (await s.exec(select(Response.analysis_state, func.count()).group_by(Response.analysis_state))).all():
            responses.labels(state).set(n)
        waiting, first = (await s.exec(select(func.count(), func.min(Response.received_at))
                                        .where(Response.analysis_state == AnalysisState.pending))).one()
        backlog.set(waiting)
        backlog_age.set(max(0.0, (now - _aware(first)).total_seconds()) if first else 0.0)
        for run in (await s.exec(select(JobRun))).all():
            if run.last_succeeded_at is not None:
                job_success.labels(run.name).set(_aware(run.last_succeeded_at).timestamp())
                job_queued.labels(run.name).set(run.last_queued)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    scrape = CollectorRegistry()
    await collect(request.app[DB], scrape)
    body = generate_latest(request.app[METRICS].registry) + generate_latest(scrape)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


def setup(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
