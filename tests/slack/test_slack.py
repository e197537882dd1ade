import asyncio
import json
import time
from datetime import timedelta

from sqlmodel import select

from bot.slack.sender import SlackSender
from scheduler.outbox import RetryAfter, enqueue
from storage.models import ActionUpdate, OutboxMessage, utcnow
from tests.fakes.slack_api import visible_text
from tests.slack.conftest import trigger


def all_text(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def test_bad_signature_and_old_timestamp_are_refused(slack):
    status, _ = await slack.command("help", secret="not-the-secret")
    assert status == 401
    status, _ = await slack.command("help", timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    assert slack.fake.calls_to("response_url") == []


async def test_help_in_english_and_welsh(slack):
    assert (await slack.command("help"))[0] == 200
    english = (await slack.replies(1))[0]
    assert english["text"].startswith("What I can do") and english["response_type"] == "ephemeral"
    await slack.command("cymorth")
    welsh = (await slack.replies(2))[1]
    assert welsh["text"].startswith("Beth alla i ei wneud")


async def test_actions_render_as_block_kit(slack):
    await slack.command("actions")
    reply = (await slack.replies(1))[0]
    blocks = reply["blocks"]
    text = all_text(blocks)
    assert "**A-1 · Free up local authorities**" in visible_text(blocks) and "October 07" in text
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Update", "History"]
    assert buttons[0]["action_id"].startswith("lsbform:") and buttons[1]["value"] == "history A-1"
    await slack.command("camau popeth", user="USIAN")
    welsh = all_text((await slack.replies(2))[1]["blocks"])
    assert "Perchennog" in welsh and "Diweddaru" in welsh


async def test_update_by_command_stores_and_queues_the_notice(slack, db):
    await slack.command("update A-1 red Funding delayed")
    reply = (await slack.replies(1))[0]
    assert reply["text"].startswith("Thank you — A-1 is now red.")
    async with db.session() as s:
        update = (await s.exec(select(ActionUpdate))).one()
        assert (update.rag, update.note, update.source) == ("red", "Funding delayed", "slack")
        notice = (await s.exec(select(OutboxMessage).where(OutboxMessage.kind != "answer"))).one()
        assert (notice.platform, notice.channel, notice.kind) == ("slack", "CBOARD", "notice")


async def test_button_opens_modal_and_submission_stores_update(slack, db):
    await slack.command("actions")
    blocks = (await slack.replies(1))[0]["blocks"]
    update_button = next(e for b in blocks if b["type"] == "actions" for e in b["elements"])
    status, _ = await slack.interact({
        "type": "block_actions", "user": {"id": "UOWNER"}, "trigger_id": trigger(), "team": {"id": "T0001"},
        "channel": {"id": "CBOARD"}, "container": {"type": "message", "is_ephemeral": True},
        "response_url": slack.fake.response_url(), "actions": [update_button]})
    assert status == 200
    opened = (await slack.fake.wait_for("views.open"))[0].args
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    radio = view["blocks"][0]["element"]
    assert radio["type"] == "radio_buttons" and [o["value"] for o in radio["options"]] == ["red", "amber", "green", "complete"]
    submission = {
        "type": "view_submission", "user": {"id": "UOWNER"}, "team": {"id": "T0001"},
        "view": {**view, "state": {"values": {
            "rag": {"rag": {"type": "radio_buttons", "selected_option": {"value": "green"}}},
            "note": {"note": {"type": "plain_text_input", "value": "Back on track {after} the review"}}}}}}
    status, body = await slack.interact(submission)
    assert status == 200
    # The outcome replaces the form in the modal.
    shown = json.loads(body)
    assert shown["response_action"] == "update" and "A-1 is now green" in all_text(shown["view"]["blocks"])
    posted = (await slack.fake.wait_for("chat.postEphemeral"))[0].args
    assert posted["user"] == "UOWNER" and "A-1 is now green" in posted["text"]
    async with db.session() as s:
        update = (await s.exec(select(ActionUpdate))).one()
        assert (update.rag, update.note) == ("green", "Back on track {after} the review")


async def test_history_button_answers_in_a_thread(slack, db):
    await slack.command("update A-1 amber slipping")
    await slack.replies(1)
    status, _ = await slack.interact({
        "type": "block_actions", "user": {"id": "UOWNER"}, "team": {"id": "T0001"}, "channel": {"id": "CBOARD"},
        "container": {"type": "message", "message_ts": "111.222"}, "message": {"ts": "111.222"},
        "response_url": slack.fake.response_url(),
        "actions": [{"action_id": "lsb:1:1", "type": "button", "value": "history A-1"}]})
    assert status == 200
    thread = (await slack.fake.wait_for("chat.postMessage"))[0].args
    assert thread["thread_ts"] == "111.222" and "Update history for A-1" in thread["text"]


async def test_app_home_is_published(slack):
    status, _ = await slack.event({"type": "app_home_opened", "user": "UOWNER", "channel": "D1", "tab": "home"})
    assert status == 200
    view = (await slack.fake.wait_for("views.publish"))[0].args
    body = view["view"] if isinstance(view["view"], dict) else json.loads(view["view"])
    assert view["user_id"] == "UOWNER" and "Free up local authorities" in all_text(body["blocks"])


async def test_retried_events_are_not_processed_twice(slack):
    event = {"type": "app_home_opened", "user": "UOWNER", "channel": "D1", "tab": "home"}
    await slack.event(event, event_id="EvSame")
    await slack.fake.wait_for("views.publish")
    status, _ = await slack.event(event, event_id="EvSame", **{"X-Slack-Retry-Num": "1",
                                                                "X-Slack-Retry-Reason": "http_timeout"})
    assert status == 200
    await asyncio.sleep(0.5)
    assert len(slack.fake.calls_to("views.publish")) == 1


async def test_url_verification(slack):
    status, body = await slack.post(json.dumps({"type": "url_verification", "challenge": "abc123"}), "application/json")
    assert status == 200 and "abc123" in body


async def test_mention_syntax_from_users_is_inert(slack, db):
    hostile = "<!channel> <!here> <!everyone> <@U123> <!subteam^S1> <https://evil.example|click>"
    await slack.command(f"update A-1 red {hostile}")
    await slack.replies(1)
    async with db.session() as s:
        notice = (await s.exec(select(OutboxMessage).where(OutboxMessage.kind != "answer"))).one()
    sender = SlackSender(__import__("slack_sdk.web.async_client", fromlist=["AsyncWebClient"]).AsyncWebClient(
        token="xoxb-test", base_url=slack.fake.base_url))
    await sender.send(notice)
    sent = slack.fake.calls_to("chat.postMessage")[0].args
    # In blocks the words are literal rich-text runs (Slack reads no mention or link in them); no
    # block carries mrkdwn; the notification text is escaped and sent with mrkdwn off.
    assert hostile in visible_text(sent["blocks"]) and "mrkdwn" not in all_text(sent["blocks"])
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<!subteam", "<https://"):
        assert raw not in sent["text"]
    assert "&lt;!channel&gt;" in sent["text"]
    assert sent["parse"] == "none" and sent["link_names"] in (False, "false", "0", 0)
    assert sent["mrkdwn"] in (False, "false", "0", 0)
    assert sent["metadata"]["event_payload"]["key"] == notice.idempotency_key
    snoozed = (await slack.command("snooze A-1 tomorrow"))[0]
    assert snoozed == 200


async def test_sender_maps_rate_limits_and_uploads_files(slack, db):
    from slack_sdk.web.async_client import AsyncWebClient

    sender = SlackSender(AsyncWebClient(token="xoxb-test", base_url=slack.fake.base_url))
    async with db.session() as s:
        await enqueue(s, key="k:1", platform="slack", channel="CBOARD",
                      payload={"reply": {"language": "en", "text": "Digest", "sections": []},
                               "files": [{"filename": "chart.png", "title": "Chart", "alt_text": "Bar chart of sentiment",
                                          "content_b64": "iVBORw0KGgo="}]},
                      not_before=utcnow() + timedelta(days=1))  # this test sends it, not the running worker
        await s.commit()
        message = (await s.exec(select(OutboxMessage).where(OutboxMessage.kind != "answer"))).one()
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=2)
    try:
        await sender.send(message)
        raise AssertionError("a 429 must not count as sent")
    except RetryAfter as exc:
        assert exc.seconds == 2
    slack.fake.fail_next("chat.postMessage", error="ratelimited")
    try:
        await sender.send(message)
        raise AssertionError("ratelimited must not count as sent")
    except RetryAfter:
        pass
    external = await sender.send(message)
    assert external.startswith("CBOARD:")
    uploads = [u for u in slack.fake.uploads.values() if u.get("bytes")]
    assert uploads and uploads[0]["alt_text"] == "Bar chart of sentiment" and uploads[0]["bytes"] == b"\x89PNG\r\n\x1a\n"
    assert await sender.find_sent(message) == external
