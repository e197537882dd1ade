"""More of issue 16 through signed Slack requests against the fake Slack Web API: mine and org, a
scrutiny request that will not go backwards, the committee date rules, and "next week" from the
reminder's button."""

import asyncio
from datetime import date, timedelta

from sqlmodel import select

from storage.models import Action, ActionLead, Board, Organisation, ScrutinyRequest, Snooze
from tests.slack.test_interactions import all_text, click


async def answer(slack, words, user="UOWNER", n=None):
    before = len(slack.fake.calls_to("response_url"))
    await slack.command(words, user=user)
    return (await slack.replies(before + 1))[-1]


async def test_mine_and_org(slack, db):
    async with db.session() as s:
        board = (await s.exec(select(Board))).one()
        wag = (await s.exec(select(Organisation))).one()
        other = Action(board_id=board.id, ref="A-2", title="Led by WAG, owned by nobody")
        s.add(other)
        await s.flush()
        s.add(ActionLead(action_id=other.id, organisation_id=wag.id))
        await s.commit()
    mine = await answer(slack, "actions")
    assert "A-1 · Free up local authorities" in all_text(mine["blocks"]) and "A-2 ·" not in all_text(mine["blocks"])
    org = await answer(slack, "actions org")
    assert "Actions WAG leads on Bwrdd Ynys Môn (2 actions)" in org["text"]
    welsh = await answer(slack, "camau sefydliad", user="USIAN")  # the chair has no organisation
    assert "Does dim sefydliad wrth eich sedd" in welsh["text"]


async def test_scrutiny_never_goes_backwards_and_dates_need_reasons(slack, db):
    await answer(slack, "scrutiny A-1 Why the delay?", user="USIAN")
    past = await answer(slack, f"scrutiny schedule S-1 {date.today() - timedelta(days=3)}", user="USCRUT")
    assert "is not in the future" in past["text"]
    late = await answer(slack, f"scrutiny schedule S-1 {date.today() + timedelta(days=60)}", user="USCRUT")
    assert "is after the response is due" in late["text"]
    day = date.today() + timedelta(days=10)
    done = await answer(slack, f"scrutiny schedule S-1 {day}", user="USCRUT")
    assert "now scheduled" in done["text"] and "scrutiny meeting" in done["text"]
    back = await answer(slack, "scrutiny ack S-1", user="USCRUT")
    assert "is already scheduled" in back["text"] and "only moves forward" in back["text"]
    async with db.session() as s:
        request = (await s.exec(select(ScrutinyRequest))).one()
    assert (request.status, request.committee_date) == ("scheduled", day) and request.meeting_id is not None


async def test_next_week_from_a_button_is_next_monday_morning(slack, db):
    await slack.command("snooze A-1")
    usage = (await slack.replies(1))[0]
    assert "snooze A-12 tomorrow or snooze A-12 next-week" in usage["text"]
    button = {"type": "button", "action_id": "lsb:0:2", "value": "snooze A-1 next-week",
              "text": {"type": "plain_text", "text": "Remind me next week"}}
    assert (await slack.interact(click(slack, button)))[0] == 200
    for _ in range(50):
        async with db.session() as s:
            snooze = (await s.exec(select(Snooze))).first()
        if snooze:
            break
        await asyncio.sleep(0.1)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from cyswllt.settings import Settings
    from handlers.snooze import snooze_until

    zone = ZoneInfo("Europe/London")
    expected = snooze_until(Settings(), datetime.now(zone).date(), "next-week")  # next Monday, 09:00
    assert snooze.until == expected and expected.astimezone(zone).hour == 9
