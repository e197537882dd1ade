"""Background work started and stopped with the app: the outbox worker (and the scheduled jobs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from cyswllt.appkeys import DB, METRICS, SENDERS, SETTINGS
from scheduler.worker import OutboxWorker

log = logging.getLogger("cyswllt.scheduler")

WORKER = web.AppKey("outbox_worker", OutboxWorker)
WORKER_TASK = web.AppKey("outbox_worker_task", asyncio.Task)
SCHEDULER = web.AppKey("scheduler", object)  # APScheduler's AsyncIOScheduler, while it runs here


def notify_outbox(app: web.Application, *, urgent: bool = False) -> None:
    """Wake the delivery worker now (after enqueueing something); ``urgent`` for a member's own
    answer, which the worker sends in a lane of its own, never behind other channels' messages."""
    worker = app.get(WORKER)
    if worker is not None:
        worker.wake.set()
        if urgent:
            worker.urgent.set()


def _observer(app: web.Application):
    """Counters of what the worker met, by platform, in the app's Prometheus registry."""
    from prometheus_client import Counter

    registry = app[METRICS].registry
    counters = {
        "sent": Counter("cyswllt_outbox_sent", "Messages the platform took, by platform", ["platform"],
                        registry=registry),
        "rate_limited": Counter("cyswllt_outbox_rate_limited", "Sends the platform refused for its rate limit "
                                "(HTTP 429, or the platform's own word for it), by platform", ["platform"], registry=registry),
        "failed": Counter("cyswllt_outbox_send_failures", "Sends that failed and will be tried again, by platform",
                          ["platform"], registry=registry),
        "dead": Counter("cyswllt_outbox_dead", "Messages given up (a refusal that cannot succeed, or failing for "
                        "a day), by platform", ["platform"], registry=registry),
    }
    return lambda platform, outcome: counters[outcome].labels(platform).inc()


def _outbox_ctx(answers_only: bool):
    """The outbox worker for this process: all of it, or (when the outbox runs in another process) only
    the answers to the commands this one took."""

    async def ctx(app: web.Application):
        worker = OutboxWorker(app[DB], app[SENDERS], app[SETTINGS], observe=_observer(app))
        app[WORKER] = worker
        if answers_only:
            task = asyncio.create_task(worker.run_answers(), name="outbox-answers")
            log.info("answers to commands sent from this process (the outbox runs in another)")
        else:
            task = app[WORKER_TASK] = asyncio.create_task(worker.run(), name="outbox-worker")
            log.info("outbox worker started (senders: %s)", ", ".join(sorted(app[SENDERS])) or "none")
        yield
        # Let the message in hand finish (a cancelled send would leave its row "sending" until checked).
        worker.stop()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout=10)

    return ctx


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    if settings.outbox_enabled:
        app.cleanup_ctx.append(_outbox_ctx(answers_only=False))
    elif settings.outbox_answers:
        app.cleanup_ctx.append(_outbox_ctx(answers_only=True))
    if settings.scheduler_enabled:
        from scheduler import jobs

        jobs.setup(app)


async def health(app: web.Application) -> dict:
    """What ``/healthz`` says of the outbox and the scheduler, beside the database: whether this
    process runs each, what is waiting to be sent, and when each job last ran to the end (on any
    replica) — a job not run for three of its intervals is "late"."""
    from datetime import timedelta

    from sqlalchemy import func
    from sqlmodel import select

    from scheduler.jobs import INTERVAL_MINUTES, JOBS
    from storage.models import JobRun, OutboxHold, OutboxMessage, OutboxState, utcnow

    now = utcnow()
    async with app[DB].session() as s:
        due, oldest = (await s.exec(select(func.count(), func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.state == OutboxState.pending, OutboxMessage.next_attempt_at <= now))).one()
        dead = (await s.exec(select(func.count()).where(OutboxMessage.state == OutboxState.dead))).one()
        held = (await s.exec(select(func.count()).where(OutboxHold.until > now))).one()
        runs = {r.name: r for r in (await s.exec(select(JobRun))).all()}
    task = app.get(WORKER_TASK)
    oldest_seconds = max(0.0, (now - _aware(oldest)).total_seconds()) if oldest else 0.0
    outbox = {"running": task is not None and not task.done(), "due": due, "oldest_due_seconds": round(oldest_seconds),
              "held_channels": held, "dead": dead}
    jobs = {}
    for name in JOBS:
        run = runs.get(name)
        last = _aware(run.last_succeeded_at) if run and run.last_succeeded_at else None
        jobs[name] = {"last_success": last.isoformat() if last else None,
                      "late": last is None or now - last > timedelta(minutes=3 * INTERVAL_MINUTES[name])}
    scheduler = app.get(SCHEDULER)
    return {"outbox": outbox, "scheduler": {"running": scheduler is not None and scheduler.running, "jobs": jobs}}


def _aware(moment):
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
