"""Time a full reminder sweep: 10,000 actions across 22 boards (one per Welsh local authority
area), with owners, due dates spread around today, meetings and updates. Prints the time to
decide and enqueue for each job, the total, and the peak memory.

    .venv/bin/python bench/reminder_sweep.py [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import resource
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from cyswllt.settings import Settings  # noqa: E402
from scheduler.jobs import JOBS  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Action, ActionUpdate, Board, Meeting, Member, Person, utcnow  # noqa: E402

BOARDS, ACTIONS, PEOPLE_PER_BOARD = 22, 10_000, 25


async def seed(db: Database) -> None:
    rng = random.Random(7)
    now = utcnow()
    today = now.date()
    async with db.engine.begin() as conn:
        await conn.execute(insert(Board), [{"name": f"Board {b}", "created_at": now} for b in range(BOARDS)])
        await conn.execute(insert(Person), [
            {"email": f"p{b}-{i}@example.cymru", "name": f"Person {b}-{i}", "language": rng.choice(["en", "cy"]),
             "slack_user_id": f"U{b:02d}{i:04d}", "created_at": now}
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
                            "due": today + timedelta(days=rng.randint(-60, 120)),
                            "rag": rng.choice([None, "red", "amber", "green", "complete"]),
                            "created_at": now - timedelta(days=rng.randint(0, 200)), "updated_at": now})
        await conn.execute(insert(Action), actions)
        await conn.execute(insert(ActionUpdate), [
            {"action_id": rng.randrange(ACTIONS) + 1, "rag": "amber", "note": "", "source": "bench",
             "created_at": now - timedelta(days=rng.randint(0, 90))} for _ in range(ACTIONS // 2)])
        await conn.execute(insert(Meeting), [{"board_id": b + 1, "held_on": today + timedelta(days=d), "kind": "board"}
                                             for b in range(BOARDS) for d in (-40, 3)])


async def main(url: str) -> None:
    upgrade(url)
    db = Database.from_url(url)
    await seed(db)
    settings = Settings(database_url=url)
    now = utcnow()
    total = 0.0
    print(f"{ACTIONS} actions, {BOARDS} boards, {BOARDS * PEOPLE_PER_BOARD} people ({db.engine.dialect.name})")
    for name, job in JOBS.items():
        started = time.perf_counter()
        queued = await job(db, settings, now)
        took = time.perf_counter() - started
        total += took
        print(f"  {name:18s} {took * 1000:8.1f} ms  queued {queued}")
    started = time.perf_counter()
    again = sum([await job(db, settings, now) for job in JOBS.values()])
    rerun = time.perf_counter() - started
    # Peak resident memory of the whole process (seeding included), read without slowing the sweep.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  full sweep: {total:.2f} s to decide and enqueue (target < 1 s); process peak RSS {peak:.0f} MiB")
    print(f"  second sweep (nothing new, idempotency keys): {rerun:.2f} s, queued {again}")
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="a PostgreSQL URL to use instead of a temporary SQLite file")
    options = parser.parse_args()
    if options.postgres:
        asyncio.run(main(options.postgres))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(main(f"sqlite:///{tmp}/bench.db"))
