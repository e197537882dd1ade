"""A Slack outage of ten minutes, on a clock the test controls: Slack answers 429 with Retry-After
for two minutes, then 500 until ten minutes have passed. Nothing is dead-lettered, nothing is
sent twice, every channel's messages arrive in the order they were queued, and a person's
reminders queued together still arrive as one message."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.slack.sender import SlackSender
from cyswllt.settings import Settings
from scheduler.messages import reminder_payload
from scheduler.outbox import enqueue
from scheduler.worker import OutboxWorker
from storage.models import OutboxMessage
from tests.fakes.slack_api import Failure, FakeSlackAPI

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
RATE_LIMITED_UNTIL = START + timedelta(minutes=2)
DOWN_UNTIL = START + timedelta(minutes=10)
RETRY_AFTER = 7


def reply(text: str) -> dict:
    return {"reply": {"language": "en", "text": text, "sections": [{"text": text}]}}


# (channel, key, kind, payload) in the order they are queued.
QUEUE = (
    [("CBOARD", f"notice-{n}", "notice", reply(f"Notice {n}")) for n in range(1, 5)]
    # Gwen's first five reminders are one message; a notice comes between them and the next three.
    + [("UGWEN", f"remind-{n}", "reminder", reminder_payload(f"A-{n} is due", f"A-{n}", "amber")) for n in range(1, 6)]
    + [("UGWEN", "scrutiny-1", "scrutiny", reply("S-1 was answered"))]
    + [("UGWEN", f"remind-{n}", "reminder", reminder_payload(f"A-{n} is due", f"A-{n}", "red")) for n in range(6, 9)]
    + [("CYOUTH", f"digest-{n}", "digest", reply(f"Digest {n}")) for n in range(1, 4)]
    + [(f"U{n:04d}", f"dm-{n}", "reminder", reminder_payload("A-9 is due", "A-9", None)) for n in range(6)]
)


async def test_a_ten_minute_outage_loses_nothing_repeats_nothing_and_keeps_order(db):
    clock = {"now": START}
    async with FakeSlackAPI() as slack:
        slack.clock = lambda: clock["now"]

        def outage(method, args):
            if method != "chat.postMessage":
                return None
            if clock["now"] < RATE_LIMITED_UNTIL:
                return Failure(status=429, error="ratelimited", retry_after=RETRY_AFTER)
            if clock["now"] < DOWN_UNTIL:
                return Failure(status=500, error="internal_error")
            return None

        slack.outage = outage
        async with db.session() as s:
            for channel, key, kind, payload in QUEUE:
                await enqueue(s, key=key, platform="slack", channel=channel, payload=payload, kind=kind,
                              not_before=START - timedelta(minutes=1))
            await s.commit()
        settings = Settings(database_url="sqlite://", CYSWLLT_WORKING_HOURS="always")
        worker = OutboxWorker(db, {"slack": SlackSender(AsyncWebClient(token="x", base_url=slack.base_url))},
                              settings, now=lambda: clock["now"])
        while clock["now"] < START + timedelta(hours=1):
            await worker.deliver_due()
            async with db.session() as s:
                rows = (await s.exec(select(OutboxMessage))).all()
            if all(r.state == "sent" for r in rows):
                break
            clock["now"] += timedelta(seconds=2)

    assert {r.state for r in rows} == {"sent"}, [(r.idempotency_key, r.state, r.last_error) for r in rows]
    assert clock["now"] < DOWN_UNTIL + timedelta(minutes=15), clock["now"]  # back within the backoff's cap
    delivered = [c for c in slack.calls_to("chat.postMessage") if c not in slack.refused]
    # Each message once; each row once, its key in the metadata of the one message that carried it.
    keys = [k for c in delivered for k in (c.args["metadata"]["event_payload"]["key"],
                                           *c.args["metadata"]["event_payload"].get("also", []))]
    assert sorted(keys) == sorted(key for _, key, _, _ in QUEUE)
    # Order within each channel is the order of the queue.
    by_channel = defaultdict(list)
    for call in delivered:
        payload = call.args["metadata"]["event_payload"]
        by_channel[call.args["channel"]].extend([payload["key"], *payload.get("also", [])])
    for channel in {c for c, _, _, _ in QUEUE}:
        assert by_channel[channel] == [key for c, key, _, _ in QUEUE if c == channel], channel
    # Bundles held together through the failures: Gwen got three messages, not nine.
    gwen = [c.args["metadata"]["event_payload"] for c in delivered if c.args["channel"] == "UGWEN"]
    assert [[p["key"], *p.get("also", [])] for p in gwen] == [
        [f"remind-{n}" for n in range(1, 6)], ["scrutiny-1"], [f"remind-{n}" for n in range(6, 9)]]
    # Retry-After was honoured per channel: while rate-limited, no channel was tried again sooner.
    tried: dict[str, list[datetime]] = defaultdict(list)
    for call in slack.refused:
        if call.when < RATE_LIMITED_UNTIL:
            tried[call.args["channel"]].append(call.when)
    for channel, times in tried.items():
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
        assert all(gap >= RETRY_AFTER for gap in gaps), (channel, gaps)
    # And the outage cost Slack a handful of calls per channel, not one a second.
    per_channel = defaultdict(int)
    for call in slack.refused:
        per_channel[call.args["channel"]] += 1
    assert max(per_channel.values()) <= 30, dict(per_channel)
