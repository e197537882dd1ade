from datetime import timedelta

from sqlmodel import select

from cyswllt.settings import Settings
from scheduler.followups import snoozed_reminders
from scheduler.messages import payload_reply
from storage.models import Action, ActionUpdate, OutboxMessage, Snooze
from tests.scheduler.conftest import NOW

SETTINGS = Settings(database_url="sqlite://", slack_signing_secret="s", slack_bot_token="xoxb-test")  # Slack is set up


async def snooze(db, person_id, ref, until):
    async with db.session() as s:
        action = (await s.exec(select(Action).where(Action.ref == ref))).one()
        s.add(Snooze(action_id=action.id, person_id=person_id, until=until))
        await s.commit()
        return action


async def queued(db):
    async with db.session() as s:
        return (await s.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("reminder:snoozed:%")))).all()


async def test_a_snooze_that_ends_brings_one_more_reminder_in_the_members_language(db, plan):
    until = NOW + timedelta(days=1)
    await snooze(db, plan["cy"], "A-2", until)
    assert await snoozed_reminders(db, SETTINGS, NOW) == 0  # still snoozed
    assert await snoozed_reminders(db, SETTINGS, until + timedelta(minutes=5)) == 1
    assert await snoozed_reminders(db, SETTINGS, until + timedelta(hours=2)) == 0  # once per snooze
    (row,) = await queued(db)
    assert row.recipient_id == plan["cy"] and row.channel == "UCY" and row.respect_working_hours
    reply = payload_reply(row.payload, row.language)
    assert reply.text.startswith("Gofynnoch chi am gael eich atgoffa am A-2")
    assert [b.command for b in reply.sections[0].buttons] == [
        "diweddaru A-2", "oedi A-2 yfory", "oedi A-2 wythnos-nesaf"]


async def test_no_reminder_when_updated_after_the_snoozed_reminder_or_complete(db, plan):
    until = NOW + timedelta(days=1)
    action = await snooze(db, plan["en"], "A-1", until)
    done = await snooze(db, plan["en"], "A-4", until)
    async with db.session() as s:
        s.add(OutboxMessage(idempotency_key=f"reminder:due7:p{plan['en']}:{action.board_id}:A-1:x", platform="slack",
                            channel="UEN", payload={}, kind="reminder", recipient_id=plan["en"], state="sent",
                            next_attempt_at=NOW - timedelta(hours=1), sent_at=NOW - timedelta(hours=1)))
        s.add(ActionUpdate(action_id=action.id, rag="green", note="On track", source="bench", created_at=NOW))
        row = await s.get(Action, done.id)
        row.rag = "complete"
        s.add(row)
        await s.commit()
    assert await snoozed_reminders(db, SETTINGS, until + timedelta(minutes=1)) == 0
