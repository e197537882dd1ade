"""Time CSV imports of a large action plan and member list: the first import, the same file again
(idempotent: nothing changes), and the file with every rating changed. Baseline: the floor cost of
writing the same rows with bulk Core inserts (no checks, no matching), in the same run.

    .venv/bin/python bench/imports.py [--actions 5000] [--members 2000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from storage.db import Database
from storage.duedates import parse_due
from storage.imports import import_actions, import_members
from storage.migrate import upgrade
from storage.models import Action, ActionLead, ActionUpdate, Board, Organisation, utcnow

RAGS = ["red", "amber", "green", ""]


def actions_csv(n: int, shift: int = 0) -> str:
    rows = ["ref,priority,title,lead,owner_email,due,rag"]
    for i in range(1, n + 1):
        rows.append(f"A-{i},Blaenoriaeth {i % 7},Cam gweithredu rhif {i},WAG;Sefydliad {i % 40};NHS,"
                    f"p{i % 300}@bench.cymru,Gwanwyn 20{10 + i % 20},{RAGS[(i + shift) % 4]}")
    return "\n".join(rows) + "\n"


def members_csv(n: int) -> str:
    rows = ["name,email,organisation,sector,role,language,slack_user_id,teams_user_id"]
    for i in range(n):
        rows.append(f"Aelod {i} Ŵyn,p{i}@bench.cymru,Sefydliad {i % 40},sector,core,{['en', 'cy'][i % 2]},U0B{i},t-{i}")
    return "\n".join(rows) + "\n"


async def timed(db: Database, work) -> tuple[float, object]:
    started = time.perf_counter()
    async with db.session() as s:
        outcome = await work(s)
        await s.commit()
    return time.perf_counter() - started, outcome


async def baseline(db: Database, n: int) -> float:
    """Write what the first import writes, with bulk inserts and nothing else."""
    started = time.perf_counter()
    async with db.session() as s:
        board = Board(name="Baseline")
        s.add(board)
        await s.flush()
        orgs = {}
        for name in ["WAG", "NHS", *(f"Baseline org {k}" for k in range(40))]:
            org = Organisation(name=name + " (baseline)")
            s.add(org)
            orgs[name] = org
        await s.flush()
        conn, now = await s.connection(), utcnow()
        await conn.execute(insert(Action.__table__), [
            {"created_at": now, "updated_at": now, "board_id": board.id, "ref": f"A-{i}", "title": f"Cam gweithredu rhif {i}", "due_text": "Gwanwyn 2010",
             "due": parse_due(f"Gwanwyn 20{10 + i % 20}"), "owner_email": f"p{i % 300}@bench.cymru",
             "rag": RAGS[i % 4] or None} for i in range(1, n + 1)])
        ids = dict((await conn.execute(select(Action.ref, Action.id).where(Action.board_id == board.id))).all())
        await conn.execute(insert(ActionLead.__table__), [
            {"action_id": ids[f"A-{i}"], "organisation_id": orgs[name].id, "position": p}
            for i in range(1, n + 1) for p, name in enumerate(["WAG", f"Baseline org {i % 40}", "NHS"])])
        await conn.execute(insert(ActionUpdate.__table__), [
            {"action_id": ids[f"A-{i}"], "rag": RAGS[i % 4], "note": "", "source": "import", "created_at": now} for i in range(1, n + 1) if RAGS[i % 4]])
        await s.commit()
    return time.perf_counter() - started


async def main(url: str, actions: int, members: int) -> None:
    upgrade(url)
    db = Database.from_url(url)
    try:
        floor = await baseline(db, actions)
        first, r1 = await timed(db, lambda s: import_actions(s, "Bench", actions_csv(actions)))
        again, r2 = await timed(db, lambda s: import_actions(s, "Bench", actions_csv(actions)))
        rerated, r3 = await timed(db, lambda s: import_actions(s, "Bench", actions_csv(actions, shift=1)))
        m1, mr1 = await timed(db, lambda s: import_members(s, "Bench", members_csv(members)))
        m2, mr2 = await timed(db, lambda s: import_members(s, "Bench", members_csv(members)))
    finally:
        await db.dispose()
    print(f"database: {url.split('://')[0]}")
    print(f"baseline: bulk insert of {actions} actions, leads and ratings   {floor:7.2f} s")
    print(f"import {actions} actions, first time ({r1.created} new)          {first:7.2f} s  ({first / floor:.1f}x baseline)")
    print(f"same file again ({r2.unchanged} unchanged)                      {again:7.2f} s  ({again / floor:.2f}x baseline)")
    print(f"every rating changed ({r3.updated} updated)                     {rerated:7.2f} s  ({rerated / floor:.1f}x baseline)")
    print(f"import {members} members, first time ({mr1.created} new)        {m1:7.2f} s")
    print(f"same members again ({mr2.unchanged} unchanged)                  {m2:7.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=5000)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to use instead of a fresh SQLite file")
    parser.add_argument("--smoke", action="store_true", help="a short run that only checks the script still works")
    args = parser.parse_args()
    if args.smoke:
        args.actions, args.members = 200, 100
    asyncio.run(main(args.postgres or f"sqlite:///{tempfile.mkdtemp()}/bench.db", args.actions, args.members))
