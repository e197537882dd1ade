"""Time a published board's public page, ``/boards/{slug}``, over a plan of 500 actions and 5,000
updates (a year of them, a tenth with public summaries), served by the real app on 127.0.0.1: p50, p90
and p99 of whole requests one after another, and of gathering the page's data alone. Target: p50
under 50 ms on this machine.

    .venv/bin/python bench/board_page.py [--actions 500] [--updates 5000] [--requests 200] [--postgres URL] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import insert
from sqlmodel import select

from cyswllt.app import create_app
from cyswllt.settings import Settings
from storage.db import Database
from storage.models import Action, ActionLead, ActionUpdate, Board, Meeting, Organisation, Priority, utcnow
from storage.public import board_page

RAGS = ["red", "amber", "green", "complete"]


async def seed(db: Database, actions: int, updates: int) -> str:
    rng = random.Random(16)
    now = utcnow()
    async with db.session() as s:
        board = Board(name="Bench Public Services Board", name_cy="Bwrdd Meincnod", published=True)
        s.add(board)
        orgs = [Organisation(name=f"Organisation {n}") for n in range(12)]
        s.add_all(orgs)
        await s.flush()
        priorities = [Priority(board_id=board.id, ref=f"P-{n}", title=f"Priority {n}", title_cy=f"Blaenoriaeth {n}",
                               scope="national" if n % 3 == 0 else "local") for n in range(1, 11)]
        s.add_all(priorities)
        await s.flush()
        conn = await s.connection()
        start = now - timedelta(days=365)
        await conn.execute(insert(Action.__table__), [
            {"board_id": board.id, "priority_id": priorities[n % 10].id, "ref": f"A-{n}",
             "title": f"Action {n}: joint work on something the board agreed", "title_cy": f"Cam {n}" if n % 2 else None,
             "due": date.today() + timedelta(days=rng.randint(-200, 400)), "due_text": "Spring",
             "rag": rng.choice(RAGS), "created_at": start, "updated_at": start} for n in range(1, actions + 1)])
        ids = [i for (i,) in (await conn.execute(select(Action.id).where(Action.board_id == board.id))).all()]
        await conn.execute(insert(ActionLead.__table__), [
            {"action_id": i, "organisation_id": orgs[i % 12].id, "position": 0} for i in ids])
        await conn.execute(insert(ActionUpdate.__table__), [
            {"action_id": rng.choice(ids), "rag": rng.choice(RAGS), "note": "internal",
             "public_summary": "A public summary of progress." if n % 10 == 0 else None, "source": "bench",
             "created_at": start + timedelta(minutes=rng.randint(0, 365 * 24 * 60))} for n in range(updates)])
        s.add_all([Meeting(board_id=board.id, held_on=date.today() + timedelta(days=d)) for d in (-90, -30, 30, 90)])
        await s.commit()
        return board.slug


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def main(args) -> int:
    url = args.postgres or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    db = Database.from_url(url)
    await db.create_all()
    slug = await seed(db, args.actions, args.updates)
    if db.is_postgres:
        async with db.engine.begin() as conn:
            from sqlalchemy import text

            await conn.execute(text("ANALYZE"))
    settings = Settings(database_url=url, scheduler_enabled=False, outbox_enabled=False, analysis_enabled=False)
    gather_times = []
    async with db.session() as s:
        board = (await s.exec(select(Board).where(Board.slug == slug))).one()
    for _ in range(max(3, args.requests // 10)):
        started = time.perf_counter()
        async with db.session() as s:
            await board_page(s, board, utcnow(), settings.timezone)
        gather_times.append((time.perf_counter() - started) * 1000)
    server = TestServer(create_app(settings, db=db), host="127.0.0.1")
    await server.start_server()
    times = []
    try:
        async with aiohttp.ClientSession() as http:
            for lang in ("en", "cy"):  # warm both languages' templates and catalogues
                async with http.get(server.make_url(f"/boards/{slug}?lang={lang}")) as response:
                    assert response.status == 200, response.status
                    size = len(await response.read())
            for n in range(args.requests):
                lang = "cy" if n % 2 else "en"
                started = time.perf_counter()
                async with http.get(server.make_url(f"/boards/{slug}?lang={lang}")) as response:
                    await response.read()
                    assert response.status == 200
                times.append((time.perf_counter() - started) * 1000)
    finally:
        await server.close()
        await db.dispose()
    p50 = statistics.median(times)
    print(f"board page, {args.actions} actions, {args.updates} updates, {'PostgreSQL' if args.postgres else 'SQLite'}, "
          f"{args.requests} requests one after another ({size // 1024} KB a page)")
    print(f"  whole request: p50 {p50:.1f} ms  p90 {percentile(times, 90):.1f} ms  p99 {percentile(times, 99):.1f} ms")
    print(f"  gathering the data alone: p50 {statistics.median(gather_times):.1f} ms")
    print(f"  target p50 < 50 ms: {'met' if p50 < 50 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=500)
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--smoke", action="store_true", help="a short run for CI: 50 actions, 500 updates, 10 requests")
    args = parser.parse_args()
    if args.smoke:
        args.actions, args.updates, args.requests = 50, 500, 10
    sys.exit(asyncio.run(main(args)))
