"""``cyswllt jobs list|run`` and ``cyswllt outbox list|retry`` for operators."""

from __future__ import annotations

from sqlmodel import select

from scheduler.jobs import INTERVAL_MINUTES, JOBS, next_run, run_job
from storage.models import OutboxMessage, OutboxState, utcnow


def _with_db(settings, work):
    from storage.db import run_once

    return run_once(settings.database_url, work)


def run_jobs_list(settings, args) -> int:
    for name, job in JOBS.items():
        summary = (job.__doc__ or "").strip().splitlines()[0]
        when = next_run(name, settings)
        print(f"{name:18s} every {INTERVAL_MINUTES[name]:3d} min  next {when:%Y-%m-%d %H:%M %Z}  {summary}")
    return 0


def run_jobs_run(settings, args) -> int:
    from cyswllt.cli import CommandError

    if args.name not in JOBS:
        raise CommandError(f"no job called “{args.name}”; the jobs are: {', '.join(JOBS)}")
    async def work(db):
        started = utcnow()
        queued = await run_job(args.name, db, settings)
        async with db.session() as session:
            rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.created_at >= started)
                                       .order_by(OutboxMessage.id))).all()
        return queued, rows

    queued, rows = _with_db(settings, work)
    if queued is None:
        print(f"{args.name}: another replica is running it now")
        return 0
    for row in rows:
        print(f"{row.id:6d} {row.kind:10s} {row.platform:8s} {row.channel:14s} {row.language}  {row.idempotency_key}")
    print(f"{args.name}: queued {queued} message(s); they are delivered in working hours")
    return 0


def run_outbox_list(settings, args) -> int:
    async def work(db):
        async with db.session() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)
            if args.failed:
                query = query.where((OutboxMessage.state == OutboxState.dead) | (OutboxMessage.last_error.is_not(None)))
            return (await session.exec(query)).all()

    for row in _with_db(settings, work):
        error = f"  ({row.last_error[:80]})" if row.last_error else ""
        print(f"{row.id:6d} {row.state:8s} {row.platform:8s} {row.kind:10s} attempts={row.attempts} "
              f"next={row.next_attempt_at:%Y-%m-%d %H:%M} {row.idempotency_key[:60]}{error}")
    return 0


def run_outbox_retry(settings, args) -> int:
    from cyswllt.cli import CommandError

    async def work(db):
        async with db.session() as session:
            row = await session.get(OutboxMessage, args.id)
            if row is None:
                return None
            if row.state in (OutboxState.dead, OutboxState.pending):
                row.state, row.attempts, row.next_attempt_at = OutboxState.pending, 0, utcnow()
                session.add(row)
                await session.commit()
            return row.state

    state = _with_db(settings, work)
    if state is None:
        raise CommandError(f"no outbox message {args.id}")
    if state != OutboxState.pending:
        raise CommandError(f"message {args.id} is {state}; only dead or pending messages can be retried")
    print(f"message {args.id} will be sent again shortly")
    return 0
