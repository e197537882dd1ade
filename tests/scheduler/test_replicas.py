"""Two real service processes on one PostgreSQL: each reminder reaches Slack once, and a crash
mid-delivery neither loses nor repeats a message."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from storage.db import Database
from storage.migrate import upgrade
from storage.models import Action, Board, Member, OutboxMessage, Person, utcnow
from tests.addresses import chat
from tests.fakes.slack_api import FakeSlackAPI
from tests.processes import free_port, wait_ready

OWNERS = 8


@pytest.fixture
async def pg_url(postgres_server):
    name = "r_" + uuid.uuid4().hex[:10]
    url = postgres_server.create_database(name)
    await asyncio.to_thread(upgrade, url)
    db = Database.from_url(url)
    async with db.session() as s:
        board = Board(name="Bwrdd")
        s.add(board)
        await s.flush()
        for n in range(OWNERS):
            person = Person(email=f"p{n}@x.cymru", name=f"Person {n}", language="cy" if n % 2 else "en")
            s.add(person)
            await s.flush()
            s.add_all(chat(person, slack=f"U{n:04d}"))
            s.add(Member(board_id=board.id, person_id=person.id, role="officer"))
            s.add(Action(board_id=board.id, ref=f"A-{n + 1}", title=f"Action {n + 1}", owner_id=person.id,
                         due=(utcnow() + timedelta(days=1)).date()))
        await s.commit()
    yield url, db
    await db.dispose()
    postgres_server.drop_database(name)


def start(url: str, fake: FakeSlackAPI, **env) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environment = {**os.environ, "CYSWLLT_DATABASE_URL": url, "CYSWLLT_PORT": str(port),
                   "SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.base_url,
                   "CYSWLLT_WORKING_HOURS": "always", "CYSWLLT_OUTBOX_POLL_SECONDS": "0.2",
                   "CYSWLLT_ANALYSIS": "0", **env}
    process = subprocess.Popen([sys.executable, "-m", "cyswllt.cli", "serve"], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}"


def delivered_keys(fake: FakeSlackAPI) -> Counter:
    return Counter(m["metadata"]["event_payload"]["key"] for msgs in fake.messages.values() for m in msgs)


async def sent_rows(db) -> list[OutboxMessage]:
    async with db.session() as s:
        return (await s.exec(select(OutboxMessage))).all()


async def test_two_processes_send_each_reminder_once(pg_url):
    url, db = pg_url
    async with FakeSlackAPI() as fake:
        processes = [start(url, fake), start(url, fake)]
        try:
            await asyncio.gather(*(wait_ready(base, process) for process, base in processes))
            await fake.wait_for("chat.postMessage", count=OWNERS, timeout=30)
            await asyncio.sleep(2)  # time for any duplicate to show up
        finally:
            for process, _ in processes:
                process.terminate()
                process.wait(10)
        keys = delivered_keys(fake)
        assert len(keys) == OWNERS and set(keys.values()) == {1}, keys
        rows = await sent_rows(db)
        assert len(rows) == OWNERS and {r.state for r in rows} == {"sent"}
        # Each owner's DM carries the reminder's buttons in their language (the row stores only
        # the words and the ref; the buttons are drawn at delivery).
        english, welsh = fake.messages["D0000"][0], fake.messages["D0001"][0]  # their DMs
        assert english["text"].startswith("A-1") and welsh["text"].startswith("Mae A-2")
        assert button_labels(english) == ["Update now", "Remind me tomorrow", "Remind me next week"]
        assert button_labels(welsh) == ["Diweddaru nawr", "Atgoffa fi yfory", "Atgoffa fi'r wythnos nesaf"]


def button_labels(message: dict) -> list[str]:
    return [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_killed_mid_delivery_restart_loses_and_repeats_nothing(pg_url):
    url, db = pg_url
    async with FakeSlackAPI(delay=3.0) as fake:
        process, base = start(url, fake)
        try:
            await wait_ready(base, process)
            await fake.wait_for("chat.postMessage", count=1, timeout=30)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        assert any(r.state == "sending" for r in await sent_rows(db))
        fake.delay = 0
        process, base = start(url, fake, CYSWLLT_OUTBOX_LEASE_SECONDS="1")
        try:
            await wait_ready(base, process)
            for _ in range(100):
                rows = await sent_rows(db)
                if rows and all(r.state == "sent" for r in rows):
                    break
                await asyncio.sleep(0.2)
        finally:
            process.terminate()
            process.wait(10)
        keys = delivered_keys(fake)
        assert len(keys) == OWNERS and set(keys.values()) == {1}, keys
        assert {r.state for r in await sent_rows(db)} == {"sent"}
