"""A scrutiny request through Slack: raised by command, DM'd with buttons, acknowledged, scheduled in
a modal with a date picker, answered in a modal; the Welsh requester is told each step in Welsh."""

import asyncio
import json
from datetime import date, timedelta

from babel.dates import format_date
from sqlmodel import select

from storage.models import ScrutinyRequest
from tests.slack.conftest import trigger


def buttons(blocks) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def delivered_to(fake, channel: str, count: int) -> list[dict]:
    for _ in range(100):
        found = [c.args for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == channel]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{count} messages to {channel} never arrived: {fake.calls_to('chat.postMessage')}")


def click(button: dict, message_ts: str) -> dict:
    return {"type": "block_actions", "user": {"id": "USCRUT"}, "team": {"id": "T0001"}, "trigger_id": trigger(),
            "channel": {"id": "DSCRUT"}, "container": {"type": "message", "message_ts": message_ts},
            "message": {"ts": message_ts}, "response_url": "", "actions": [button]}


async def submit_form(slack, button: dict, message_ts: str, values: dict) -> None:
    await slack.interact(click(button, message_ts))
    opened = (await slack.fake.wait_for("views.open", count=len(slack.fake.calls_to("views.open")) or 1))[-1].args
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    status, _ = await slack.interact({"type": "view_submission", "user": {"id": "USCRUT"}, "team": {"id": "T0001"},
                                      "view": {**view, "state": {"values": values}}})
    assert status == 200
    return view


async def test_scrutiny_request_round_trip(slack_delivering, db):
    slack = slack_delivering
    await slack.command("craffu A-1 Pam yr oedi gyda'r cyllid?", user="USIAN")
    dm = (await delivered_to(slack.fake, "USCRUT", 1))[0]
    ack, schedule, respond, decline = buttons(dm["blocks"])
    assert [b["text"]["text"] for b in (ack, schedule, respond, decline)] == ["Acknowledge", "Schedule", "Respond",
                                                                            "Decline"]
    ts = slack.fake.messages["DSCRUT"][0]["ts"]

    assert (await slack.interact(click(ack, ts)))[0] == 200
    told = await delivered_to(slack.fake, "USIAN", 1)
    assert "Huw Ellis" in told[0]["text"]

    # A committee date within the response period (four weeks from today).
    day = date.today() + timedelta(days=14)
    view = await submit_form(slack, schedule, ts, {"date": {"date": {"type": "datepicker",
                                                                     "selected_date": day.isoformat()}}})
    assert view["blocks"][0]["element"]["type"] == "datepicker"
    told = await delivered_to(slack.fake, "USIAN", 2)
    welsh_date = format_date(day, format="long", locale="cy_GB")
    assert welsh_date in told[1]["text"]  # a Welsh date for a Welsh requester

    await submit_form(slack, respond, ts, {"text": {"text": {"type": "plain_text_input",
                                                             "value": "We will review the funding in January."}}})
    told = await delivered_to(slack.fake, "USIAN", 3)
    assert "We will review the funding in January." in told[2]["text"]
    async with db.session() as s:
        request = (await s.exec(select(ScrutinyRequest))).one()
    assert (request.status, request.committee_date, request.response) == \
        ("responded", day, "We will review the funding in January.")
