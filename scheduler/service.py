"""Background work started and stopped with the app: the outbox worker (and the scheduled jobs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from cyswllt.appkeys import DB, SENDERS, SETTINGS
from scheduler.worker import OutboxWorker

log = logging.getLogger("cyswllt.scheduler")

WORKER = web.AppKey("outbox_worker", OutboxWorker)


def notify_outbox(app: web.Application, *, urgent: bool = False) -> None:
    """Wake the delivery worker now (after enqueueing something); ``urgent`` for a member's own
    answer, which the worker sends in a lane of its own, never behind other channels' messages."""
    worker = app.get(WORKER)
    if worker is not None:
        worker.wake.set()
        if urgent:
            worker.urgent.set()


async def outbox_ctx(app: web.Application):
    worker = OutboxWorker(app[DB], app[SENDERS], app[SETTINGS])
    app[WORKER] = worker
    task = asyncio.create_task(worker.run(), name="outbox-worker")
    log.info("outbox worker started (senders: %s)", ", ".join(sorted(app[SENDERS])) or "none")
    yield
    # Let the message in hand finish (a cancelled send would leave its row "sending" until checked).
    worker.stop()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, timeout=10)


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    if settings.outbox_enabled:
        app.cleanup_ctx.append(outbox_ctx)
    if settings.scheduler_enabled:
        from scheduler import jobs

        jobs.setup(app)
