"""Buttons and modals beyond the happy path: Welsh forms, refusals in the modal, retries, Slack off."""

import asyncio
import json
from urllib.parse import urlencode

from sqlmodel import select

from cyswllt.i18n import t
from storage.models import ActionUpdate, OutboxMessage
from tests.fakes.slack_api import visible_text
from tests.slack.conftest import running, seed, trigger


def all_text(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def buttons(blocks) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def click(slack, button: dict, user: str = "UOWNER") -> dict:
    return {"type": "block_actions", "user": {"id": user}, "trigger_id": trigger(), "team": {"id": "T0001"},
            "channel": {"id": "CBOARD"}, "container": {"type": "message", "is_ephemeral": True},
            "response_url": slack.fake.response_url(), "actions": [button]}


def submit(view: dict, rag: str, note: str, user: str) -> dict:
    return {"type": "view_submission", "user": {"id": user}, "team": {"id": "T0001"},
            "view": {**view, "state": {"values": {
                "rag": {"rag": {"type": "radio_buttons", "selected_option": {"value": rag}}},
                "note": {"note": {"type": "plain_text_input", "value": note}}}}}}


async def open_update_modal(slack, words: str, user: str) -> dict:
    await slack.command(words, user=user)
    blocks = (await slack.replies(1))[0]["blocks"]
    status, _ = await slack.interact(click(slack, buttons(blocks)[0], user))
    assert status == 200
    opened = (await slack.fake.wait_for("views.open"))[0].args
    return opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])


async def test_welsh_buttons_open_a_welsh_modal_and_store_the_update(slack, db):
    view = await open_update_modal(slack, "camau popeth", "USIAN")
    assert view["close"]["text"] == "Canslo" and view["title"]["text"].startswith("Diweddaru")
    labels = [o["text"]["text"] for o in view["blocks"][0]["element"]["options"]]
    assert labels[0].lower().startswith("coch")
    status, body = await slack.interact(submit(view, "complete", "Wedi'i gwblhau ŵ ŷ", "USIAN"))
    assert status == 200 and json.loads(body)["view"]["close"]["text"] == "Cau"
    async with db.session() as s:
        update = (await s.exec(select(ActionUpdate))).one()
        assert (update.rag, update.note) == ("complete", "Wedi'i gwblhau ŵ ŷ")


async def test_a_refusal_shows_in_the_modal_and_nothing_is_stored(slack, db):
    # The scrutiny member may read the actions but not update them.
    view = await open_update_modal(slack, "actions all", "USCRUT")
    status, body = await slack.interact(submit(view, "red", "not mine to say", "USCRUT"))
    assert status == 200
    if body:
        shown = all_text(json.loads(body)["view"]["blocks"])
    else:  # on a machine too busy to answer within the modal's budget, the answer is posted instead
        shown = all_text((await slack.fake.wait_for("chat.postEphemeral"))[0].args["blocks"])
    assert "Tom Jones" in shown and "A-1" in shown  # says who can update it
    posted = (await slack.fake.wait_for("chat.postEphemeral"))[0].args
    assert posted["user"] == "USCRUT" and "Tom Jones" in posted["text"]
    async with db.session() as s:
        assert (await s.exec(select(ActionUpdate))).all() == []


async def test_a_retried_slash_command_is_not_run_twice(slack, db):
    await slack.command("update A-1 amber first attempt", trigger_id="77.1")
    await slack.replies(1)
    status, _ = await slack.command("update A-1 amber first attempt", trigger_id="77.1",
                                    **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
    assert status == 200
    # A timeout retry is dropped even if this replica never saw the first delivery.
    status, _ = await slack.command("update A-1 red something new", **{"X-Slack-Retry-Num": "1",
                                                                       "X-Slack-Retry-Reason": "http_timeout"})
    assert status == 200
    await asyncio.sleep(0.5)
    async with db.session() as s:
        assert [u.note for u in (await s.exec(select(ActionUpdate))).all()] == ["first attempt"]
    assert len(slack.fake.calls_to("response_url")) == 1


async def test_a_retry_of_an_event_that_never_arrived_is_handled_once(slack):
    event = {"type": "app_home_opened", "user": "UOWNER", "channel": "D1", "tab": "home"}
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert (await slack.event(event, event_id="EvLost", **retry))[0] == 200
    await slack.fake.wait_for("views.publish")
    assert (await slack.event(event, event_id="EvLost", **{**retry, "X-Slack-Retry-Num": "2"}))[0] == 200
    await asyncio.sleep(0.5)
    assert len(slack.fake.calls_to("views.publish")) == 1


async def test_an_unsigned_retry_is_still_refused(slack):
    status, _ = await slack.command("help", secret="wrong", **{"X-Slack-Retry-Num": "1"})
    assert status == 401


async def test_red_notice_reaches_the_board_channel_through_the_outbox(slack_delivering, db):
    slack = slack_delivering
    await slack.command("update A-1 red <!here> funding withdrawn")
    posted = (await slack.fake.wait_for("chat.postMessage", timeout=10))[0].args
    assert posted["channel"] == "CBOARD" and "A-1" in posted["text"] and "<!here>" not in posted["text"]
    assert "<!here> funding withdrawn" in visible_text(posted["blocks"]) and "mrkdwn" not in all_text(posted["blocks"])
    assert posted["metadata"]["event_type"] == "cyswllt_outbox"
    for _ in range(50):
        async with db.session() as s:
            row = (await s.exec(select(OutboxMessage).where(OutboxMessage.kind != "answer"))).one()
        if row.state == "sent":
            break
        await asyncio.sleep(0.1)
    assert row.state == "sent" and row.external_id.startswith("CBOARD:")


async def test_slack_is_off_without_a_signing_secret(db, database_url):
    await seed(db)
    async with running(db, database_url, slack_signing_secret=None) as slack:
        status, body = await slack.command("help")
    assert status == 503 and body == t("en", "slack.not_configured")


async def test_every_command_word_in_both_languages(slack):
    pairs = [("help", "cymorth"), ("actions", "camau"), ("actions overdue", "camau hwyr"), ("status", "statws"),
             ("scrutiny list", "craffu rhestr"), ("history A-1", "hanes A-1"), ("digest Youth", "crynodeb Ieuenctid"),
             ("scrutiny A-1 Why the delay?", "craffu A-1 Pam yr oedi?")]
    failures = {t(lang, "handlers.something_went_wrong") for lang in ("en", "cy")}
    n = 0
    for english, welsh in pairs:
        answers = {}
        for lang, words in (("en", english), ("cy", welsh)):
            n += 1
            assert (await slack.command(words))[0] == 200
            answers[lang] = (await slack.replies(n))[-1]["text"]
            assert answers[lang] not in failures, words
            assert not answers[lang].startswith(t(lang, "handlers.unknown_command", word="")[:12]), words
        assert answers["en"] != answers["cy"], (english, welsh)
    # A Welsh board name is Welsh text, so both words get a Welsh answer naming the board.
    for words in ("board Bwrdd Ynys Môn", "bwrdd Bwrdd Ynys Môn"):
        n += 1
        await slack.command(words)
        assert "Bwrdd Ynys Môn" in (await slack.replies(n))[-1]["text"]
    for words, lang in (("iaith cy", "cy"), ("lang en", "en")):
        n += 1
        await slack.command(words)
        assert (await slack.replies(n))[-1]["text"] == t(lang, "handlers.lang_set")


async def test_a_click_on_a_long_message_is_not_refused_for_its_size(slack):
    # Slack sends the whole message back with a click: 20 actions with buttons is well over 64 KB.
    filler = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}} for _ in range(40)]
    payload = {"type": "block_actions", "user": {"id": "UOWNER"}, "team": {"id": "T0001"},
               "channel": {"id": "CBOARD"}, "container": {"type": "message", "message_ts": "5.6"},
               "message": {"ts": "5.6", "blocks": filler}, "response_url": slack.fake.response_url(),
               "actions": [{"action_id": "lsb:0:1", "type": "button", "value": "history A-1"}]}
    status, _ = await slack.interact(payload)
    assert status == 200
    assert (await slack.fake.wait_for("chat.postMessage"))[0].args["thread_ts"] == "5.6"
    huge = {**payload, "message": {"ts": "5.6", "blocks": filler * 10}}
    status, _ = await slack.interact(huge)
    assert status == 413


async def test_signed_garbage_gets_a_4xx_not_a_fault(slack):
    for body, kind in [("payload=notjson", "application/x-www-form-urlencoded"), ("{not json", "application/json"),
                       (urlencode({"payload": json.dumps({
                           "type": "view_submission", "user": {"id": "UOWNER"}, "team": {"id": "T0001"},
                           "view": {"type": "modal", "id": "V1", "callback_id": "lsb_form",
                                    "private_metadata": "not json"}})}), "application/x-www-form-urlencoded")]:
        status, _ = await slack.post(body, kind)
        assert 200 <= status < 500, (body, status)
    assert (await slack.post("{not json", "application/json"))[0] == 400
