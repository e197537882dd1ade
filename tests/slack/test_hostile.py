"""Requests no Slack client sends, and requests the app does not handle: a clear 4xx, or an
acknowledgement, never a 5xx (which Slack shows a member as an error)."""

import json
import time
from urllib.parse import urlencode

from sqlmodel import select

from storage.models import ActionUpdate
from tests.slack.conftest import trigger


async def test_a_timestamp_that_is_not_a_number_is_refused(slack):
    body = urlencode({"command": "/lsb", "text": "help", "user_id": "UOWNER"})
    for timestamp in ("abc", "", "1e9", "-5", "٣٣٣"):
        headers = {**slack.headers(body), "X-Slack-Request-Timestamp": timestamp}
        status, _ = await slack.post_raw(body, "application/x-www-form-urlencoded", headers)
        assert status == 401, (timestamp, status)


async def test_signed_bodies_of_the_wrong_shape_are_a_400(slack):
    for body, kind in [("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
                       (urlencode({"payload": '"x"'}), "application/x-www-form-urlencoded"),
                       ("[]", "application/json"), ('"x"', "application/json"), ("null", "application/json"),
                       ("[1, {}]", "text/plain")]:
        status, text = await slack.post(body, kind)
        assert status == 400, (body, status, text)
    assert slack.fake.calls_to("response_url") == []


async def test_what_the_app_does_not_handle_is_acknowledged(slack, db):
    base = {"user": {"id": "UOWNER"}, "team": {"id": "T0001"}, "trigger_id": trigger()}
    payloads = [
        {**base, "type": "block_actions", "actions": [{"action_id": "someone_elses", "value": "update A-1 red"}]},
        {**base, "type": "shortcut", "callback_id": "unknown_shortcut"},
        {**base, "type": "message_action", "callback_id": "unknown_action", "message": {"ts": "1.1"},
         "channel": {"id": "CBOARD"}},
        {**base, "type": "view_submission", "view": {"id": "V9", "type": "modal", "callback_id": "not_ours", "private_metadata": ""}},
        {**base, "type": "view_closed", "view": {"id": "V9", "type": "modal", "callback_id": "not_ours"}},
        {**base, "type": "block_suggestion", "action_id": "x", "block_id": "b", "value": "q"},
    ]
    for payload in payloads:
        status, _ = await slack.interact(payload)
        assert status == 200, (payload["type"], status)
    for n, event in enumerate([{"type": "message", "text": "hello", "user": "UOWNER", "channel": "CBOARD"},
                               {"type": "reaction_added", "user": "UOWNER", "reaction": "+1"},
                               {"type": "app_mention", "text": "<@U0BOT> hi", "user": "UOWNER"}]):
        status, _ = await slack.event(event, event_id=f"EvUnhandled{n}")
        assert status == 200, (event["type"], status)
    body = urlencode({"command": "/other", "text": "x", "user_id": "UOWNER", "trigger_id": trigger()})
    assert (await slack.post(body, "application/x-www-form-urlencoded"))[0] == 200
    async with db.session() as s:
        assert (await s.exec(select(ActionUpdate))).all() == []  # nothing was run
    assert slack.fake.calls_to("response_url") == []


async def test_an_old_signed_request_is_still_refused(slack):
    status, _ = await slack.command("help", timestamp=int(time.time()) - 3600)
    assert status == 401
    status, _ = await slack.post(json.dumps({"type": "event_callback"}), "application/json", secret="wrong")
    assert status == 401
