import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.slack.sender import SlackSender
from cyswllt.settings import Settings
from scheduler.outbox import enqueue
from scheduler.worker import OutboxWorker, backoff, bundle
from storage.models import OutboxHold, OutboxMessage
from tests.fakes.slack_api import FakeSlackAPI

REPLY = {"reply": {"language": "en", "text": "Reminder", "sections": []}}


def settings(**kw):
    return Settings(database_url="sqlite://", CYSWLLT_WORKING_HOURS=kw.pop("hours", "always"), **kw)


async def queue(db, key="k1", channel="C1", working_hours=False, not_before=None):
    async with db.session() as s:
        await enqueue(s, key=key, platform="slack", channel=channel, payload=REPLY, working_hours=working_hours,
                      not_before=not_before)
        await s.commit()


async def holds(db) -> dict:
    async with db.session() as s:
        return {(h.platform, h.channel): h for h in (await s.exec(select(OutboxHold))).all()}


async def row(db, key="k1") -> OutboxMessage:
    async with db.session() as s:
        return (await s.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))).one()


async def test_rate_limited_message_is_retried_after_retry_after(db):
    async with FakeSlackAPI() as fake:
        worker = OutboxWorker(db, {"slack": SlackSender(AsyncWebClient(token="x", base_url=fake.base_url))}, settings())
        await queue(db)
        fake.fail_next("chat.postMessage", status=429, retry_after=2)
        task = asyncio.create_task(worker.run())
        try:
            calls = await fake.wait_for("chat.postMessage", count=2, timeout=10)
            for _ in range(50):
                sent = await row(db)
                if sent.state == "sent":
                    break
                await asyncio.sleep(0.1)
        finally:
            task.cancel()
        gap = calls[1].at - calls[0].at
        assert 1.8 <= gap < 4, gap
        assert sent.state == "sent" and sent.attempts == 1 and sent.external_id.startswith("C1:")


async def test_permanent_failure_dead_letters_and_errors_back_off(db):
    async with FakeSlackAPI() as fake:
        worker = OutboxWorker(db, {"slack": SlackSender(AsyncWebClient(token="x", base_url=fake.base_url))}, settings())
        await queue(db, "dead")
        fake.fail_next("chat.postMessage", error="channel_not_found")
        await worker.deliver_due()
        assert (await row(db, "dead")).state == "dead"
        await queue(db, "flaky", channel="C2")
        fake.fail_next("chat.postMessage", error="internal_error")
        await worker.deliver_due()
        flaky = await row(db, "flaky")
        assert flaky.state == "pending" and flaky.attempts == 1 and "internal_error" in flaky.last_error
        # The row keeps its place; its channel is held for the backoff, shared with every replica.
        hold = await holds(db)
        assert list(hold) == [("slack", "C2")] and hold[("slack", "C2")].failures == 1
        assert hold[("slack", "C2")].until > datetime.now(UTC) + timedelta(seconds=2)
        assert await OutboxWorker(db, worker.senders, settings()).claim(10) == []
    assert 2.5 <= backoff(1) <= 7.5 and 20 <= backoff(4) <= 60 and backoff(30) <= 900


async def test_missing_sender_keeps_the_row(db):
    worker = OutboxWorker(db, {}, settings())
    await queue(db)
    await worker.deliver_due()
    kept = await row(db)
    assert kept.state == "pending" and kept.attempts == 0 and "no sender" in kept.last_error


async def test_outside_working_hours_the_row_waits_for_the_next_slot(db):
    saturday_night = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    sent = []

    class Recorder:
        async def send(self, message):
            sent.append(message.idempotency_key)

        async def find_sent(self, message):
            return None

    worker = OutboxWorker(db, {"slack": Recorder()}, settings(hours="09:00-17:30"), now=lambda: saturday_night)
    await queue(db, working_hours=True, not_before=saturday_night - timedelta(minutes=1))
    await queue(db, "urgent", channel="C2", not_before=saturday_night - timedelta(minutes=1))
    await worker.deliver_due()
    assert sent == ["urgent"]
    waiting = await row(db)
    assert waiting.state == "pending" and waiting.next_attempt_at.astimezone(UTC) == \
        datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    monday = datetime(2026, 11, 30, 9, 0, 1, tzinfo=UTC)
    worker.now = lambda: monday
    await worker.deliver_due()
    assert sent == ["urgent", "k1"]


async def test_a_row_left_sending_is_not_sent_twice(db):
    async with FakeSlackAPI() as fake:
        sender = SlackSender(AsyncWebClient(token="x", base_url=fake.base_url))
        await queue(db)
        claimed = await OutboxWorker(db, {"slack": sender}, settings()).claim(10)
        await sender.send(claimed[0])  # delivered, then the process died before marking it sent
        assert (await row(db)).state == "sending"
        restarted = OutboxWorker(db, {"slack": sender}, settings())
        assert await restarted.recover(stale_only=False) == 1
        await restarted.deliver_due()
        assert (await row(db)).state == "sent"
        assert len(fake.calls_to("chat.postMessage")) == 1


class Recorder:
    def __init__(self):
        self.sent = []

    async def send(self, message):
        self.sent.append(message.idempotency_key)
        return f"x:{len(self.sent)}"

    async def find_sent(self, message):
        return None


@pytest.mark.parametrize("due, slot", [
    (datetime(2026, 11, 24, 22, 0, tzinfo=UTC), datetime(2026, 11, 25, 9, 0, tzinfo=UTC)),  # 22:00
    (datetime(2026, 12, 25, 10, 0, tzinfo=UTC), datetime(2026, 12, 29, 9, 0, tzinfo=UTC)),  # Christmas
    (datetime(2026, 12, 28, 10, 0, tzinfo=UTC), datetime(2026, 12, 29, 9, 0, tzinfo=UTC)),  # substitute day
    (datetime(2026, 4, 6, 10, 0, tzinfo=UTC), datetime(2026, 4, 7, 8, 0, tzinfo=UTC)),  # Easter Monday
    (datetime(2026, 3, 29, 10, 0, tzinfo=UTC), datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),  # into BST
    (datetime(2026, 10, 25, 10, 0, tzinfo=UTC), datetime(2026, 10, 26, 9, 0, tzinfo=UTC)),  # back to GMT
])
async def test_nothing_is_delivered_out_of_hours_and_it_arrives_at_the_next_slot(db, due, slot):
    recorder = Recorder()
    clock = {"now": due}
    worker = OutboxWorker(db, {"slack": recorder}, settings(hours="09:00-17:30"), now=lambda: clock["now"])
    await queue(db, working_hours=True, not_before=due)
    await worker.deliver_due()
    assert recorder.sent == []
    assert (await row(db)).next_attempt_at == slot
    clock["now"] = slot - timedelta(seconds=1)
    await worker.deliver_due()
    assert recorder.sent == []
    clock["now"] = slot
    await worker.deliver_due()
    assert recorder.sent == ["k1"] and (await row(db)).state == "sent"


async def test_a_row_failing_for_a_day_is_given_up_not_after_a_count_of_tries(db):
    from scheduler.outbox import RetryAfter

    class Limited(Recorder):
        async def send(self, message):
            raise RetryAfter(1)

    start = datetime.now(UTC)
    clock = {"now": start}
    worker = OutboxWorker(db, {"slack": Limited()}, settings(), now=lambda: clock["now"])
    await queue(db)
    for _ in range(50):  # fifty tries in a few minutes: a rate limit costs no attempt, nothing is given up
        clock["now"] += timedelta(seconds=2)
        await worker.deliver_due()
    limited = await row(db)
    assert limited.state == "pending" and limited.attempts == 0 and limited.failing_since is not None
    clock["now"] = start + timedelta(hours=23)
    await worker.deliver_due()
    assert (await row(db)).state == "pending"
    clock["now"] = start + timedelta(hours=24, minutes=1)
    await worker.deliver_due()
    dead = await row(db)
    assert dead.state == "dead" and "retry after" in dead.last_error


async def test_stopping_finishes_the_message_in_hand_and_puts_the_rest_back(db):
    class Slow(Recorder):
        async def send(self, message):
            worker.stop()  # the service is told to stop while this message is being sent
            await asyncio.sleep(0.2)
            return await super().send(message)

    sender = Slow()
    # One at a time, so only the first is in hand when the stop comes.
    worker = OutboxWorker(db, {"slack": sender}, settings(CYSWLLT_OUTBOX_CONCURRENCY=1))
    for n in range(3):
        await queue(db, f"k{n}", channel=f"C{n}")
    await asyncio.wait_for(worker.run(), timeout=10)
    assert sender.sent == ["k0"]
    states = {(await row(db, f"k{n}")).state for n in (1, 2)}
    assert (await row(db, "k0")).state == "sent" and states == {"pending"}
    assert (await row(db, "k1")).attempts == 0


async def test_stopping_lets_the_answer_in_hand_be_sent(db):
    """A member's answer being sent when the service stops is sent: the answer lane is not cut off half
    way (which left the row "sending" and, cancelled in a query, a traceback in the log)."""
    class Slow(Recorder):
        async def send(self, message):
            worker.stop()  # the service is told to stop while the answer is being sent
            await asyncio.sleep(0.3)
            return await super().send(message)

    sender = Slow()
    worker = OutboxWorker(db, {"slack": sender}, settings(CYSWLLT_OUTBOX_POLL_SECONDS=60))
    running = asyncio.create_task(worker.run())
    await asyncio.sleep(0.3)  # the main lane has looked, found nothing, and waits to be woken
    async with db.session() as s:
        await enqueue(s, key="answer:1", platform="slack", channel="answer:1", payload=REPLY, kind="answer")
        await s.commit()
    worker.urgent.set()  # as a command's answer wakes it
    await asyncio.wait_for(running, timeout=10)
    assert sender.sent == ["answer:1"]
    assert (await row(db, "answer:1")).state == "sent"


async def test_one_message_a_second_per_channel_and_no_channel_holds_up_the_others(db):
    async with FakeSlackAPI() as fake:
        worker = OutboxWorker(db, {"slack": SlackSender(AsyncWebClient(token="x", base_url=fake.base_url))},
                              settings(CYSWLLT_OUTBOX_POLL_SECONDS=5))
        for n in range(3):
            await queue(db, f"busy{n}", channel="CBUSY")
        for n in range(4):
            await queue(db, f"quiet{n}", channel=f"C{n}")
        task = asyncio.create_task(worker.run())
        try:
            calls = await fake.wait_for("chat.postMessage", count=7, timeout=15)
        finally:
            worker.stop()
            await task
    busy = [c.at for c in calls if c.args["channel"] == "CBUSY"]
    quiet = [c.at for c in calls if c.args["channel"] != "CBUSY"]
    assert len(busy) == 3 and all(later - earlier >= 0.95 for earlier, later in zip(busy, busy[1:])), busy
    assert max(quiet) < busy[1]  # the other channels went while the busy one waited its turn
    # In the order they were queued, though the busy channel waited between them (and not for the
    # five-second poll: the worker wakes when the channel may have its next message).
    assert [c.args["text"] for c in calls if c.args["channel"] == "CBUSY"] == ["Reminder"] * 3
    assert busy[-1] - busy[0] < 4
    async with db.session() as s:
        rows = (await s.exec(select(OutboxMessage).where(OutboxMessage.channel == "CBUSY")
                             .order_by(OutboxMessage.sent_at))).all()
    assert [r.idempotency_key for r in rows] == ["busy0", "busy1", "busy2"] and {r.state for r in rows} == {"sent"}


async def test_messages_to_different_channels_are_sent_side_by_side(db):
    async with FakeSlackAPI(delay=0.3) as fake:
        worker = OutboxWorker(db, {"slack": SlackSender(AsyncWebClient(token="x", base_url=fake.base_url))},
                              settings(CYSWLLT_OUTBOX_CONCURRENCY=4))
        for n in range(10):
            await queue(db, f"k{n}", channel=f"C{n}")
        assert await worker.deliver_due() == 10
    assert fake.most_in_flight == 4 and len(fake.calls_to("chat.postMessage")) == 10
    async with db.session() as s:
        assert set((await s.exec(select(OutboxMessage.state))).all()) == {"sent"}


async def queue_reminder(db, key, channel, ref, language="en", kind="reminder"):
    from scheduler.messages import reminder_payload

    async with db.session() as s:
        await enqueue(s, key=key, platform="slack", channel=channel, language=language, kind=kind,
                      payload=reminder_payload(f"{ref} is due in 7 days", ref, "amber"))
        await s.commit()


def posted_buttons(call) -> list[str]:
    return [e["text"]["text"] for b in call.args["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_a_persons_reminders_due_together_arrive_as_one_message(db):
    async with FakeSlackAPI() as fake:
        worker = OutboxWorker(db, {"slack": SlackSender(AsyncWebClient(token="x", base_url=fake.base_url))},
                              settings())
        for n in (1, 2):
            await queue_reminder(db, f"r{n}", "UOWNER", f"A-{n}")
        await queue_reminder(db, "e3", "UOWNER", "A-3", kind="escalation")
        await queue(db, "notice", channel="UOWNER")  # not a reminder: the bundle stops before it
        await queue_reminder(db, "r4", "UOWNER", "A-4")
        await queue_reminder(db, "other", "UOTHER", "B-1", language="cy")
        assert await worker.deliver_due() == 4  # three bundled for UOWNER, one for UOTHER
        posts = fake.calls_to("chat.postMessage")
        mine = next(p for p in posts if p.args["channel"] == "UOWNER")
        assert mine.args["text"].startswith("These actions need your attention (3):")
        assert posted_buttons(mine) == ["Update now", "Remind me tomorrow", "Remind me next week"] * 3
        assert all(ref in json.dumps(mine.args["blocks"]) for ref in ("A-1", "A-2", "A-3"))
        assert mine.args["metadata"]["event_payload"] == {"key": "r1", "also": ["r2", "e3"]}
        theirs = next(p for p in posts if p.args["channel"] == "UOTHER")
        assert theirs.args["text"].startswith("B-1") and len(posted_buttons(theirs)) == 3
        rows = {k: await row(db, k) for k in ("r1", "r2", "e3", "notice", "r4")}
        assert {k: r.state for k, r in rows.items()} == {"r1": "sent", "r2": "sent", "e3": "sent",
                                                         "notice": "pending", "r4": "pending"}
        assert rows["r1"].external_id == rows["r2"].external_id == rows["e3"].external_id
        # A second later the channel has its next message, then the last reminder on its own.
        task = asyncio.create_task(worker.run())
        try:
            await fake.wait_for("chat.postMessage", count=4, timeout=10)
        finally:
            worker.stop()
            await task
        texts = [p.args["text"] for p in fake.calls_to("chat.postMessage") if p.args["channel"] == "UOWNER"]
        assert len(texts) == 3 and texts[1] == "Reminder" and texts[2].startswith("A-4")


async def test_a_bundle_sent_before_a_crash_is_found_for_every_row(db):
    async with FakeSlackAPI() as fake:
        sender = SlackSender(AsyncWebClient(token="x", base_url=fake.base_url))
        for n in (1, 2, 3):
            await queue_reminder(db, f"r{n}", "UOWNER", f"A-{n}")
        worker = OutboxWorker(db, {"slack": sender}, settings())
        claimed = await worker.claim(8)
        assert [r.idempotency_key for r in claimed] == ["r1", "r2", "r3"]
        await sender.send(bundle(claimed))  # delivered, then the process died before marking them sent
        restarted = OutboxWorker(db, {"slack": sender}, settings())
        assert await restarted.recover(stale_only=False) == 3
        assert await restarted.deliver_due() == 0
        assert {(await row(db, f"r{n}")).state for n in (1, 2, 3)} == {"sent"}
        assert len(fake.calls_to("chat.postMessage")) == 1


async def test_a_channel_with_a_message_on_its_way_waits_for_it(db):
    recorder = Recorder()
    other_replica = OutboxWorker(db, {"slack": recorder}, settings())
    await queue(db, "first", channel="C1")
    await queue(db, "second", channel="C1")
    await queue(db, "elsewhere", channel="C2")
    assert [r.idempotency_key for r in await other_replica.claim(1)] == ["first"]  # and is sending it
    worker = OutboxWorker(db, {"slack": recorder}, settings())
    assert await worker.deliver_due() == 1 and recorder.sent == ["elsewhere"]
    assert (await row(db, "second")).state == "pending"
