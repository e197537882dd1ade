"""A reminder from the sweep to the owner's Slack DM, and its buttons pressed there: "Remind me
tomorrow" stores a snooze, "Update now" opens the update modal."""

import json
from datetime import timedelta

from sqlmodel import select

from cyswllt.settings import Settings
from scheduler.jobs import run_job
from storage.models import Action, Person, Snooze, utcnow
from tests.slack.conftest import SECRET, trigger


def buttons(blocks) -> dict[str, dict]:
    return {e["text"]["text"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def press(slack, button: dict, user: str, channel: str) -> dict:
    return {"type": "block_actions", "user": {"id": user}, "trigger_id": trigger(), "team": {"id": "T0001"},
            "channel": {"id": channel}, "container": {"type": "message", "is_ephemeral": False},
            "response_url": slack.fake.response_url(), "actions": [button]}


async def test_a_reminder_dm_and_its_buttons(slack_delivering, db, database_url):
    slack = slack_delivering
    async with db.session() as s:
        action = (await s.exec(select(Action).where(Action.ref == "A-1"))).one()
        action.due = (utcnow() + timedelta(days=7)).date()
        s.add(action)
        await s.commit()
        owner = (await s.exec(select(Person).where(Person.email == "owner@x.cymru"))).one()
    settings = Settings(database_url=database_url, slack_signing_secret=SECRET, slack_bot_token="xoxb-test")
    assert await run_job("action-reminders", db, settings) == 1

    (posted,) = [c.args for c in await slack.fake.wait_for("chat.postMessage", timeout=10)]
    assert posted["channel"] == "UOWNER"
    assert posted["text"].startswith("A-1 “Free up local authorities” is due in 7 days")
    shown = buttons(posted["blocks"])
    assert list(shown) == ["Update now", "Remind me tomorrow", "Remind me next week"]

    status, _ = await slack.interact(press(slack, shown["Remind me tomorrow"], "UOWNER", "DOWNER"))
    assert status == 200
    answer = (await slack.replies(1))[0]
    assert "A-1" in answer["text"]
    async with db.session() as s:
        (snoozed,) = (await s.exec(select(Snooze))).all()
    assert snoozed.person_id == owner.id and snoozed.action_id == action.id and snoozed.until > utcnow()
    # Snoozed: the action falls due tomorrow, and still the sweep leaves its owner alone...
    async with db.session() as s:
        action.due = (utcnow() + timedelta(days=1)).date()
        s.add(action)
        await s.commit()
    assert await run_job("action-reminders", db, settings) == 0
    # ...until the snooze is gone.
    async with db.session() as s:
        await s.delete(await s.get(Snooze, snoozed.id))
        await s.commit()
    assert await run_job("action-reminders", db, settings) == 1

    status, _ = await slack.interact(press(slack, shown["Update now"], "UOWNER", "DOWNER"))
    assert status == 200
    opened = (await slack.fake.wait_for("views.open", timeout=10))[0].args
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["type"] == "modal" and "A-1" in view["title"]["text"]
