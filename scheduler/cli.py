"""``cyswllt jobs list|run`` and ``cyswllt outbox list|retry`` for operators."""

from __future__ import annotations

from sqlmodel import select

from scheduler.jobs import INTERVAL_MINUTES, JOBS, next_run, run_job
from scheduler.messages import payload_reply
from storage.models import OutboxMessage, OutboxState, Person, utcnow


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


def first_line(row: OutboxMessage) -> str:
    """The first line of what a message says, as its recipient would read it."""
    try:
        reply = payload_reply(row.payload or {}, row.language)
        text = reply.text or next((s.heading or s.text for s in reply.sections if s.heading or s.text), "")
    except (KeyError, TypeError):
        text = str((row.payload or {}).get("subject") or "")
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def run_outbox_list(settings, args) -> int:
    from zoneinfo import ZoneInfo

    if getattr(args, "unreachable", False):
        return run_outbox_unreachable(settings, args)

    async def work(db):
        async with db.session() as session:
            query = (select(OutboxMessage, Person.name, Person.email)
                     .outerjoin(Person, Person.id == OutboxMessage.recipient_id)
                     .order_by(OutboxMessage.id.desc()).limit(200))
            if args.failed:
                query = query.where((OutboxMessage.state == OutboxState.dead) | (OutboxMessage.last_error.is_not(None)))
            return (await session.exec(query)).all()

    zone = ZoneInfo(settings.timezone)
    rows = _with_db(settings, work)
    if not rows:
        print("the outbox is empty" if not args.failed else "no failed messages")
        return 0
    print(f"{'id':>6}  {'state':8} {'recipient':32} {'platform':8} {'kind':10} {'due':16}  first line")
    for row, _name, email in rows:
        recipient = (email or row.channel)[:32]
        due = row.next_attempt_at.astimezone(zone) if row.next_attempt_at.tzinfo else row.next_attempt_at
        error = f"  ({row.last_error[:80]})" if row.last_error else ""
        print(f"{row.id:6d}  {row.state:8} {recipient:32} {row.platform:8} {row.kind:10} {due:%Y-%m-%d %H:%M}  "
              f"{first_line(row)[:70]}{error}")
    return 0


def run_outbox_unreachable(settings, args) -> int:
    """Board members no platform set up here can reach: their messages wait on the local console."""
    from storage.reach import unreachable

    async def work(db):
        async with db.session() as session:
            return await unreachable(session, settings.usable_platforms)

    people = _with_db(settings, work)
    usable = ", ".join(settings.usable_platforms) or "none"
    if not people:
        print(f"every board member can be reached (platforms set up: {usable})")
        return 0
    print(f"{len(people)} board member(s) no platform set up here can reach (set up: {usable}); their messages "
          "wait on the console (cyswllt chat --as EMAIL shows them):")
    for person, boards in people:
        print(f"  {person.name} <{person.email}>  {'; '.join(boards)}")
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
