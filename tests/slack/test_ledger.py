"""Slack requests are de-duplicated in the database, and answers after the ack go through the
outbox: a replayed signed request runs once, a retry to another replica or after a restart is not
run again, work a crash cut off after the ack runs again once, and a member's answer does not
wait behind other channels' messages."""

import asyncio
import json
from datetime import timedelta
from urllib.parse import urlencode

from sqlmodel import select

from bot.slack.app import run_unfinished
from scheduler.outbox import enqueue
from storage import inbound
from storage.models import ActionUpdate, InboundRequest, OutboxMessage, utcnow
from tests.slack.conftest import running, seed


async def updates(db) -> list[str]:
    async with db.session() as s:
        return [u.note for u in (await s.exec(select(ActionUpdate).order_by(ActionUpdate.id))).all()]


async def test_an_identical_signed_request_replayed_runs_once(slack, db):
    body = urlencode({"command": "/lsb", "text": "update A-1 amber replayed", "user_id": "UOWNER",
                      "channel_id": "CBOARD", "team_id": "T0001", "response_url": slack.fake.response_url(),
                      "trigger_id": "555.1"})
    headers = slack.headers(body)  # one signature, sent three times within the five minutes
    for _ in range(3):
        status, _ = await slack.post_raw(body, "application/x-www-form-urlencoded", headers)
        assert status == 200
    await slack.replies(1)
    await asyncio.sleep(0.5)  # time for any second run to show
    assert await updates(db) == ["replayed"]
    assert len(slack.fake.calls_to("response_url")) == 1
    # Even without a trigger id, the same signed body is known by its signature.
    bare = urlencode({"command": "/lsb", "text": "update A-1 green no trigger", "user_id": "UOWNER",
                      "channel_id": "CBOARD", "response_url": slack.fake.response_url()})
    headers = slack.headers(bare)
    for _ in range(2):
        assert (await slack.post_raw(bare, "application/x-www-form-urlencoded", headers))[0] == 200
    await slack.replies(2)
    await asyncio.sleep(0.3)
    assert await updates(db) == ["replayed", "no trigger"]


async def test_a_retry_to_another_replica_or_after_a_restart_is_not_run_again(db, database_url):
    await seed(db)
    event = {"type": "app_home_opened", "user": "UOWNER", "channel": "D1", "tab": "home"}
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    async with running(db, database_url) as first:
        assert (await first.event(event, event_id="EvOnce"))[0] == 200
        await first.fake.wait_for("views.publish")
        assert (await first.command("update A-1 red on the first replica", trigger_id="88.1"))[0] == 200
        await first.replies(1)
    # A second replica (or this one, restarted) shares only the database.
    async with running(db, database_url) as second:
        assert (await second.event(event, event_id="EvOnce", **retry))[0] == 200
        assert (await second.command("update A-1 red on the first replica", trigger_id="88.1", **retry))[0] == 200
        await asyncio.sleep(0.5)
        assert second.fake.calls_to("views.publish") == [] and second.fake.calls_to("response_url") == []
    assert await updates(db) == ["on the first replica"]


async def test_the_ledger_keeps_a_request_beyond_five_minutes_and_forgets_it_after_a_day(db):
    now = utcnow()
    assert await inbound.remember(db, "slack", "trigger:1", None, now=now) is not None
    assert await inbound.remember(db, "slack", "trigger:1", None, now=now + timedelta(minutes=4)) is None
    await inbound.forget_old(db, now=now + timedelta(minutes=10))
    assert await inbound.remember(db, "slack", "trigger:1", None, now=now + timedelta(minutes=10)) is None
    await inbound.forget_old(db, now=now + timedelta(days=1, minutes=1))
    async with db.session() as s:
        assert (await s.exec(select(InboundRequest))).all() == []


async def test_work_a_crash_cut_off_after_the_ack_runs_again_once(db, database_url):
    await seed(db)
    # The ledger's own look (which runs with the outbox, from start-up) is off here, so that only the test
    # looks, and the counts below are the test's: the answers to commands are still sent.
    async with running(db, database_url, outbox_lease_seconds=60, outbox_enabled=False,
                       outbox_answers=True) as slack:
        # As a crash leaves it: the request was acknowledged (it is in the ledger) and its work never
        # finished (no update, no answer), two minutes ago.
        work = {"kind": "command", "user": "UOWNER", "text": "update A-1 red cut off", "channel": "CBOARD",
                "response_url": slack.fake.response_url("lost")}
        request_id = await inbound.remember(db, "slack", "trigger:lost", work, now=utcnow() - timedelta(minutes=2))
        app = slack.app
        assert await run_unfinished(app) == 1
        answer = (await slack.fake.wait_for("response_url"))[0]
        assert answer.args["text"].startswith("Thank you — A-1 is now red.")
        assert await run_unfinished(app) == 0  # done, in the same transaction as the update
        assert await updates(db) == ["cut off"]
        async with db.session() as s:
            assert (await s.get(InboundRequest, request_id)).state == "done"
        # Work older than an answer can still be given is given up, not run.
        await inbound.remember(db, "slack", "trigger:ancient", {**work, "text": "update A-1 green too late"},
                               now=utcnow() - timedelta(hours=2))
        assert await run_unfinished(app) == 0
    assert await updates(db) == ["cut off"]


async def test_the_answer_is_queued_with_the_change_and_goes_in_its_own_lane(db, database_url):
    await seed(db)
    async with running(db, database_url, CYSWLLT_WORKING_HOURS="always", outbox_concurrency=2) as slack:
        slack.fake.delay = 0.3  # Slack answers slowly: a backlog of other channels' messages builds up
        async with db.session() as s:
            for n in range(30):
                await enqueue(s, key=f"backlog-{n}", platform="slack", channel=f"C{n:03d}", kind="notice",
                              payload={"reply": {"language": "en", "text": f"Notice {n}", "sections": []}})
            await s.commit()
        await slack.fake.wait_for("chat.postMessage", count=2, timeout=10)
        assert (await slack.command("update A-1 green answered at once"))[0] == 200
        await slack.replies(1)
        # The answer arrived while most of the backlog was still waiting for Slack.
        assert len(slack.fake.calls_to("chat.postMessage")) < 15
        async with db.session() as s:
            answer = (await s.exec(select(OutboxMessage).where(OutboxMessage.kind == "answer"))).one()
        assert answer.payload["answer"]["response_url"].endswith("/response/r")
        assert answer.channel.startswith("answer:") and answer.state in ("sending", "sent")


async def test_an_answer_whose_response_url_expired_reaches_the_members_dm(slack, db):
    # A command answered after its response_url expired (a long outage) reaches the member's DM.
    await slack.command("help", user="UOWNER", channel="CBOARD")
    await slack.replies(1)
    slack.fake.fail_response_url = True
    await slack.command("status")
    dm = (await slack.fake.wait_for("chat.postMessage", timeout=10))[0].args
    assert dm["channel"] == "UOWNER" and "Bwrdd Ynys Môn" in json.dumps(dm["blocks"], ensure_ascii=False)
