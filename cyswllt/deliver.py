"""``cyswllt outbox send``: deliver whatever is due now, with the senders the service would use,
and exit — for an installation with no service running, and for the console demo. Like the
service at start-up it first runs the reminder sweeps (idempotent: nothing is queued twice), so
what is due includes today's reminders and escalations."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

# A channel takes one message a second, so a pass that finds nothing may only be waiting for that.
SETTLE_SECONDS = 1.2
LONGEST = 600.0


async def send_due(settings) -> tuple[int, int, dict[str, int]]:
    """(rows the sweeps queued, rows handed to a platform, rows still waiting by platform)."""
    from sqlalchemy import func
    from sqlmodel import select

    from cyswllt.app import create_app
    from cyswllt.appkeys import DB, SENDERS
    from scheduler.jobs import JOBS, run_job
    from scheduler.worker import OutboxWorker
    from storage.models import OutboxMessage, OutboxState

    quiet = settings.model_copy(update={"scheduler_enabled": False, "outbox_enabled": False,
                                        "analysis_enabled": False})
    app = create_app(quiet)
    runner = web.AppRunner(app)
    await runner.setup()  # the senders' connection pools
    try:
        queued = 0
        for name in JOBS:
            if name != "digests":  # digests keep to their groups' own schedules
                queued += await run_job(name, app[DB], settings) or 0
        worker = OutboxWorker(app[DB], app[SENDERS], settings)
        await worker.recover(stale_only=True)
        handed, idle_since, started = 0, None, time.monotonic()
        while time.monotonic() - started < LONGEST:
            done = await worker.deliver_due()
            handed += done
            if done:
                idle_since = None
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > SETTLE_SECONDS:
                break
            await asyncio.sleep(0.2)
        async with app[DB].session() as session:
            waiting = dict((await session.exec(select(OutboxMessage.platform, func.count())
                                               .where(OutboxMessage.state == OutboxState.pending)
                                               .group_by(OutboxMessage.platform))).all())
    finally:
        await runner.cleanup()
    return queued, handed, waiting


def run_outbox_send(settings, args) -> int:
    from storage.db import run_once

    queued, handed, waiting = run_once(settings.database_url, lambda db: send_due(settings))
    print(f"the reminder sweeps queued {queued} message(s); delivered {handed}")
    if waiting:
        print("still waiting (outside working hours, held, or for a platform not set up here): " +
              ", ".join(f"{platform} {n}" for platform, n in sorted(waiting.items())))
    return 0
