"""Time a full reminder sweep: 10,000 actions across 22 boards (one per Welsh local authority
area), with owners, due dates spread around today, meetings and updates. Prints the time to
decide and enqueue for each job, the total, the peak memory of a sweep (tracemalloc, measured in
a separate pass because tracing slows Python down), and a baseline: the due-soon and overdue
reminders queued one action at a time (a person lookup and an insert per action), against the
set-based job doing the same. Each reminder is an outbox row; a person's reminders due together
are delivered as one message (see bench/outbox_delivery.py).

    .venv/bin/python bench/reminder_sweep.py [--plan typical|neglected|both] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, insert
from sqlmodel import select

from cyswllt.settings import Settings
from scheduler.jobs import JOBS
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Action, ActionUpdate, Address, Board, Meeting, Member, OutboxMessage, Person, utcnow

BOARDS, ACTIONS, PEOPLE_PER_BOARD = 22, 10_000, 25


# Two plans. "typical": some actions due soon, overdue or stale, most updated in the last month,
# due dates over an 18-month plan. "neglected": the worst case — due dates crowded around today,
# half the actions never updated, so most owners are reminded and many actions escalated.
PLANS = {
    "typical": {"due": (-30, 540), "rags": [None, "red", "amber", "amber", "green", "green", "green", "complete"],
                "updates": (ACTIONS * 9 // 10, 34), "created": 200},
    "neglected": {"due": (-60, 120), "rags": [None, "red", "amber", "green", "complete"],
                  "updates": (ACTIONS // 2, 90), "created": 200},
}


async def seed(db: Database, plan: dict) -> None:
    rng = random.Random(7)
    now = utcnow()
    today = now.date()
    async with db.engine.begin() as conn:
        await conn.execute(insert(Board), [{"name": f"Board {b}", "created_at": now} for b in range(BOARDS)])
        await conn.execute(insert(Person), [
            {"email": f"p{b}-{i}@example.cymru", "name": f"Person {b}-{i}", "language": rng.choice(["en", "cy"]),
             "created_at": now}
            for b in range(BOARDS) for i in range(PEOPLE_PER_BOARD)])
        await conn.execute(insert(Address), [
            {"person_id": b * PEOPLE_PER_BOARD + i + 1, "platform": "slack", "address": f"U{b:02d}{i:04d}",
             "created_at": now}
            for b in range(BOARDS) for i in range(PEOPLE_PER_BOARD)])
        await conn.execute(insert(Member), [
            {"board_id": b + 1, "person_id": b * PEOPLE_PER_BOARD + i + 1,
             "role": "chair" if i == 0 else "secretariat" if i == 1 else "officer"}
            for b in range(BOARDS) for i in range(PEOPLE_PER_BOARD)])
        actions = []
        for n in range(ACTIONS):
            b = n % BOARDS
            actions.append({"board_id": b + 1, "ref": f"A-{n // BOARDS + 1}", "title": f"Action {n}",
                            "owner_id": b * PEOPLE_PER_BOARD + rng.randrange(PEOPLE_PER_BOARD) + 1,
                            "due": today + timedelta(days=rng.randint(*plan["due"])),
                            "rag": rng.choice(plan["rags"]),
                            "created_at": now - timedelta(days=rng.randint(0, plan["created"])), "updated_at": now})
        await conn.execute(insert(Action), actions)
        updated, age = plan["updates"]
        await conn.execute(insert(ActionUpdate), [
            {"action_id": action_id, "rag": "amber", "note": "", "source": "bench",
             "created_at": now - timedelta(days=rng.randint(0, age))}
            for action_id in rng.sample(range(1, ACTIONS + 1), updated)])
        await conn.execute(insert(Meeting), [{"board_id": b + 1, "held_on": today + timedelta(days=d), "kind": "board"}
                                             for b in range(BOARDS) for d in (-40, 3)])


async def clear_outbox(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(delete(OutboxMessage))


async def one_at_a_time(db: Database, settings: Settings, now) -> int:
    """The baseline: what action-reminders decides, queued with a round trip per action."""
    from cyswllt.i18n import normalise_language
    from handlers.notify import person_channel
    from scheduler.jobs import DUE_SOON_DAYS, counted
    from scheduler.messages import reminder_payload
    from scheduler.outbox import enqueue

    today = now.date()
    queued = 0
    async with db.session() as session:
        ids = (await session.exec(select(Action.id).where(
            Action.owner_id.is_not(None), Action.due.is_not(None),
            Action.due <= today + timedelta(days=max(DUE_SOON_DAYS)),
            (Action.rag.is_(None)) | (Action.rag != "complete")))).all()
        for action_id in ids:
            action = await session.get(Action, action_id)
            person = await session.get(Person, action.owner_id)
            lang = normalise_language(person.language)
            left = (action.due - today).days
            text = (f"{action.ref} {counted(lang, 'reminders.in_days', left)}" if left >= 0
                    else f"{action.ref} {counted(lang, 'common.days', -left)}")
            platform, channel = await person_channel(session, person)
            queued += await enqueue(session, key=f"reminder:one:{person.id}:{action.board_id}:{action.ref}:{action.due}",
                                    platform=platform, channel=channel, language=lang, kind="reminder",
                                    payload=reminder_payload(text, action.ref, action.rag), recipient_id=person.id,
                                    working_hours=True)
        await session.commit()
    return queued


async def sweep(db: Database, settings: Settings, now, report: bool) -> tuple[float, int]:
    total, queued = 0.0, 0
    for name, job in JOBS.items():
        started = time.perf_counter()
        count = await job(db, settings, now)
        took = time.perf_counter() - started
        total, queued = total + took, queued + count
        if report:
            print(f"  {name:18s} {took * 1000:8.1f} ms  queued {count}")
    return total, queued


def warm_up() -> None:
    """What a running service has done before its sweeps: imported the modules the jobs load
    lazily, read the date formats of both languages, and frozen what start-up loaded out of the
    collector's way (``cyswllt serve`` does ``gc.freeze()`` once started)."""
    import engagement.digest.schedule  # noqa: F401
    import scheduler.followups  # noqa: F401
    from scheduler.jobs import _date

    for language in ("en", "cy"):
        _date(utcnow().date(), language)
    gc.freeze()


async def main(url: str, plan_name: str, baseline: bool) -> None:
    warm_up()
    upgrade(url)
    db = Database.from_url(url)
    await seed(db, PLANS[plan_name])
    settings = Settings(database_url=url)
    now = utcnow()
    print(f"{plan_name} plan: {ACTIONS} actions, {BOARDS} boards, {BOARDS * PEOPLE_PER_BOARD} people "
          f"({db.engine.dialect.name})")
    total, queued = await sweep(db, settings, now, report=True)
    print(f"  full sweep: {total:.2f} s to decide and enqueue {queued} reminders "
          f"({total / max(queued, 1) * 1e6:.0f} µs each; target < 1 s)")
    rerun, again = await sweep(db, settings, now, report=False)
    print(f"  second sweep (everything already queued): {rerun:.2f} s, queued {again}")

    await clear_outbox(db)
    tracemalloc.start()
    await sweep(db, settings, now, report=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  peak memory of a full sweep (tracemalloc): {peak / 2**20:.1f} MiB")

    if baseline:
        await clear_outbox(db)
        started = time.perf_counter()
        set_based = await JOBS["action-reminders"](db, settings, now)
        fast = time.perf_counter() - started
        await clear_outbox(db)
        started = time.perf_counter()
        slow_count = await one_at_a_time(db, settings, now)
        slow = time.perf_counter() - started
        print(f"  baseline, due-soon and overdue reminders: one action at a time {slow:.2f} s ({slow_count}), "
              f"set-based {fast:.2f} s ({set_based}): {slow / fast:.1f}x faster")
    await db.dispose()


async def reset(url: str) -> None:
    """Empty a PostgreSQL database for the next plan."""
    db = Database.from_url(url)
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        await conn.exec_driver_sql("CREATE SCHEMA public")
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="a PostgreSQL URL (its database is emptied) instead of a temporary SQLite file")
    parser.add_argument("--plan", choices=[*PLANS, "both"], default="both")
    parser.add_argument("--smoke", action="store_true", help="a short run that only checks the script still works")
    options = parser.parse_args()
    if options.smoke:
        options.plan = "typical"
    for name in PLANS if options.plan == "both" else [options.plan]:
        if options.postgres:
            asyncio.run(reset(options.postgres))
            asyncio.run(main(options.postgres, name, baseline=name == "typical" and not options.smoke))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                asyncio.run(main(f"sqlite:///{tmp}/bench.db", name, baseline=name == "typical" and not options.smoke))
