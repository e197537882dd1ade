"""Time the delivery of a morning's reminders: N queued reminders across many people, sent through
the real Slack sender to a fake Slack Web API on 127.0.0.1 that takes ``--latency`` seconds to
answer each message (Slack from the UK is typically 100-300 ms). A person's reminders due together
go as one message of up to ten, so the figures are reminders delivered a second, Slack messages
posted, the time until the last person has their first message, and the closest two messages to
one channel came (the per-channel limit is one a second). The baseline is the same worker one
message at a time (``CYSWLLT_OUTBOX_CONCURRENCY=1``), in the same run.

    .venv/bin/python bench/outbox_delivery.py [--messages 600] [--people 150] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func
from sqlmodel import select

from bot.slack.sender import SlackSender
from cyswllt.settings import Settings
from scheduler.messages import reminder_payload
from scheduler.outbox import enqueue_many
from scheduler.worker import OutboxWorker
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage, OutboxState
from tests.fakes.slack_api import FakeSlackAPI


async def run(messages: int, people: int, latency: float, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/delivery.db"
        upgrade(url)
        db = Database.from_url(url)
        # As a sweep queues them: each person's reminders spread through the batch, and some
        # notices between them (which are sent on their own).
        rows = [{"key": f"reminder:bench:{n}", "platform": "slack", "channel": f"U{n % people:05d}",
                 "payload": reminder_payload(f"A-{n} is due in 7 days", f"A-{n}", "amber"), "language": "en",
                 "kind": "notice" if n % 7 == 3 else "reminder"} for n in range(messages)]
        async with db.session() as session:
            await enqueue_many(session, rows)
            await session.commit()
        settings = Settings(database_url=url, CYSWLLT_WORKING_HOURS="always", CYSWLLT_OUTBOX_POLL_SECONDS=0.05,
                            CYSWLLT_OUTBOX_CONCURRENCY=concurrency)
        async with FakeSlackAPI(delay=latency) as fake:
            sender = SlackSender(AsyncWebClient(token="xoxb-bench", base_url=fake.base_url))
            worker = OutboxWorker(db, {"slack": sender}, settings)
            started = time.monotonic()
            task = asyncio.create_task(worker.run())
            while await sent(db) < messages:
                await asyncio.sleep(0.02)
            took = time.monotonic() - started
            worker.stop()
            await task
            calls = fake.calls_to("chat.postMessage")
            first: dict[str, float] = {}
            last: dict[str, float] = {}
            closest = float("inf")
            for call in calls:
                channel = call.args["channel"]
                first.setdefault(channel, call.at)
                if channel in last:
                    closest = min(closest, call.at - last[channel])
                last[channel] = call.at
        await db.dispose()
    return {"took": took, "rate": messages / took, "posts": len(calls), "everyone": max(first.values()) - started,
            "closest": closest}


async def sent(db: Database) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).where(OutboxMessage.state == OutboxState.sent))).one()


async def main(options) -> None:
    print(f"{options.messages} reminders to {options.people} people, Slack answering in {options.latency * 1000:.0f} ms")
    results = {}
    for concurrency in (1, options.concurrency):
        r = results[concurrency] = await run(options.messages, options.people, options.latency, concurrency)
        print(f"  {concurrency} at a time: {r['took']:6.1f} s, {r['rate']:5.1f} reminders/s in {r['posts']} messages, "
              f"everyone has a first message after {r['everyone']:5.1f} s, closest two in one channel "
              f"{r['closest']:.2f} s apart")
    one, many = results[1], results[options.concurrency]
    print(f"  {options.concurrency} at a time is {one['took'] / many['took']:.1f}x faster than one at a time")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--smoke", action="store_true", help="a short run that only checks the script still works")
    options = parser.parse_args()
    if options.smoke:
        options.messages, options.people = 40, 10
    asyncio.run(main(options))
