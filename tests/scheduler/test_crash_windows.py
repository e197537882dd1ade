"""kill -9 in the middle of a send, for Slack and for Teams, both before the platform took the
message and after it took it but before the outbox recorded it (decision 0017).

Slack can be asked (the row's key rides in the message's metadata): a restart finds what arrived
and sends the rest — no duplicates either way. Teams cannot be asked: a restart sends what was in
flight again — nothing is lost, and a message arrives at most twice, only when the crash fell in
the window after Teams took it."""

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest
from microsoft_agents.activity import Activity
from sqlmodel import select

from bot.teams.references import reference_json
from scheduler.outbox import enqueue
from storage.db import Database
from storage.migrate import upgrade
from storage.models import ConversationReference, OutboxMessage
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.processes import free_port, wait_ready
from tests.teams.conftest import activity

ROWS = 6


def reply(n: int) -> dict:
    return {"reply": {"language": "en", "text": f"Notice {n}", "sections": [{"text": f"Notice {n}"}]}}


def start(url: str, **env) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environment = {**os.environ, "CYSWLLT_DATABASE_URL": url, "CYSWLLT_PORT": str(port),
                   "CYSWLLT_WORKING_HOURS": "always", "CYSWLLT_OUTBOX_POLL_SECONDS": "0.2",
                   "CYSWLLT_SCHEDULER": "0", "CYSWLLT_ANALYSIS": "0", **env}
    process = subprocess.Popen([sys.executable, "-m", "cyswllt.cli", "serve"], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}"


async def rows(db) -> list[OutboxMessage]:
    async with db.session() as s:
        return list((await s.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def until(condition, seconds: float = 30.0) -> None:
    for _ in range(int(seconds * 20)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def crash_and_restart(url: str, db, env: dict, kill_when, settle) -> list[OutboxMessage]:
    """Start the service, kill -9 it once ``kill_when()`` holds, then restart it until every row is sent."""
    process, base = start(url, **env)
    try:
        await wait_ready(base, process)
        await until(kill_when)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    in_flight = [r for r in await rows(db) if r.state == "sending"]
    assert in_flight, "the crash was meant to fall in the middle of a send"
    settle()
    process, base = start(url, CYSWLLT_OUTBOX_LEASE_SECONDS="1", **env)
    try:
        await wait_ready(base, process)

        async def all_sent():
            return all(r.state == "sent" for r in await rows(db))

        await until(all_sent)
    finally:
        process.terminate()
        process.wait(10)
    return in_flight


@pytest.fixture
async def migrated(database_url):
    await asyncio.to_thread(upgrade, database_url)
    db = Database.from_url(database_url)
    yield database_url, db
    await db.dispose()


@pytest.mark.parametrize("moment", ["before Slack took it", "after Slack took it"])
async def test_slack_killed_mid_send_sends_each_message_exactly_once(migrated, moment):
    url, db = migrated
    async with db.session() as s:
        for n in range(ROWS):
            await enqueue(s, key=f"notice-{n}", platform="slack", channel=f"C{n:03d}", payload=reply(n), kind="notice")
        await s.commit()
    async with FakeSlackAPI() as fake:
        if moment == "before Slack took it":
            fake.hold_before = 5.0
        else:
            fake.delay = 5.0

        async def posting():
            return len(fake.calls_to("chat.postMessage")) >= 1

        def settle():
            fake.hold_before = fake.delay = 0

        env = {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.base_url}
        await crash_and_restart(url, db, env, posting, settle)
        delivered = Counter(m["metadata"]["event_payload"]["key"] for msgs in fake.messages.values() for m in msgs)
    assert delivered == Counter({f"notice-{n}": 1 for n in range(ROWS)})


@pytest.mark.parametrize("moment", ["before Teams took it", "after Teams took it"])
async def test_teams_killed_mid_send_loses_nothing_and_repeats_only_inside_the_window(migrated, moment):
    url, db = migrated
    connector = await FakeTeamsConnector().start()
    try:
        async with db.session() as s:
            for n in range(ROWS):
                conversation = f"a:1crash-{n}"
                sdk = Activity.model_validate(activity(connector.url, conversation=conversation, user=f"aad-{n}"))
                s.add(ConversationReference(conversation_id=conversation, scope="personal", teams_user_id=f"aad-{n}",
                                            reference=reference_json(sdk)))
                await enqueue(s, key=f"notice-{n}", platform="teams", channel=conversation, payload=reply(n),
                              kind="notice")
            await s.commit()
        if moment == "before Teams took it":
            connector.hold_before = 5.0
        else:
            connector.delay_after = 5.0

        async def posting():
            return connector.arrived >= 1 if connector.hold_before else connector.delivered >= 1

        def settle():
            connector.hold_before = connector.delay_after = 0

        in_flight = await crash_and_restart(url, db, {"CYSWLLT_TEAMS_ANONYMOUS": "1"}, posting, settle)
        arrived = Counter(call.conversation_id for call in connector.posts())
    finally:
        await connector.stop()
    everyone = {f"a:1crash-{n}" for n in range(ROWS)}
    assert set(arrived) == everyone  # nothing lost
    again = {r.channel for r in in_flight}
    if moment == "before Teams took it":
        assert set(arrived.values()) == {1}  # Teams never had them: sent once, after the restart
    else:
        # Teams took them and the crash came before the outbox heard back: those, and only those,
        # arrive a second time — once.
        assert {c for c, n in arrived.items() if n > 1} <= again and max(arrived.values()) <= 2
        assert any(arrived[c] == 2 for c in again)
    for row in await rows(db):
        if row.channel in again:
            assert "may arrive twice" in (row.last_error or "")
