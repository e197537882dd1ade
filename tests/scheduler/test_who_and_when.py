"""Who is reminded (the owner; the lead organisation's members only when nobody owns the action),
when a red action escalates (at once when it is due soon, else after the grace period, both
settings), and what "next week" means for a snooze (next Monday, at the start of working hours)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from cyswllt.settings import Settings
from handlers.snooze import snooze_until
from scheduler.jobs import action_reminders, escalations
from scheduler.messages import payload_reply
from storage.models import Action, ActionLead, ActionUpdate, Board, Member, Organisation, OutboxMessage, Person
from tests.addresses import chat
from tests.scheduler.conftest import NOW, TODAY

SETTINGS = Settings(database_url="sqlite://")


async def seed(db):
    """Welsh Government co-leads both actions; A-1 has an owner, A-2 has none."""
    async with db.session() as s:
        board = Board(name="Bwrdd Môn")
        wag, council = Organisation(name="Llywodraeth Cymru"), Organisation(name="Cyngor Môn")
        s.add_all([board, wag, council])
        await s.flush()
        people = {key: Person(email=f"{key}@x.cymru", name=key.title(), language=lang)
                  for key, lang in (("owner", "en"), ("wag1", "cy"), ("wag2", "en"), ("council", "en"), ("chair", "en"))}
        s.add_all(people.values())
        await s.flush()
        for key, person in people.items():
            s.add_all(chat(person, slack=f"U{key.upper()}"))
        for key, org, role in (("owner", council, "officer"), ("wag1", wag, "core"), ("wag2", wag, "officer"),
                               ("council", council, "core"), ("chair", None, "chair")):
            s.add(Member(board_id=board.id, person_id=people[key].id, organisation_id=org.id if org else None, role=role))
        owned = Action(board_id=board.id, ref="A-1", title="Owned", owner_id=people["owner"].id,
                       due=TODAY - timedelta(days=3), created_at=NOW, updated_at=NOW)
        unowned = Action(board_id=board.id, ref="A-2", title="Nobody owns it", due=TODAY - timedelta(days=3),
                         created_at=NOW, updated_at=NOW)
        s.add_all([owned, unowned])
        await s.flush()
        for action in (owned, unowned):
            s.add(ActionLead(action_id=action.id, organisation_id=wag.id, position=0))
        s.add(ActionLead(action_id=unowned.id, organisation_id=council.id, position=1))
        await s.commit()
        return {k: p.id for k, p in people.items()}


async def outbox(db, kind):
    async with db.session() as s:
        return (await s.exec(select(OutboxMessage).where(OutboxMessage.kind == kind))).all()


async def test_reminders_go_to_the_owner_and_to_lead_members_only_when_nobody_owns_it(db):
    people = await seed(db)
    assert await action_reminders(db, SETTINGS, NOW) == 5
    rows = await outbox(db, "reminder")
    about = {}
    for row in rows:
        about.setdefault(payload_reply(row.payload, row.language).sections[0].ref, set()).add(row.recipient_id)
    assert about["A-1"] == {people["owner"]}  # not every Welsh Government member
    assert about["A-2"] == {people["wag1"], people["wag2"], people["council"], people["owner"]}
    welsh = next(r for r in rows if r.recipient_id == people["wag1"])
    assert "3 diwrnod yn hwyr" in payload_reply(welsh.payload, welsh.language).text


async def red(db, ref, due, changed):
    async with db.session() as s:
        action = (await s.exec(select(Action).where(Action.ref == ref))).one()
        action.rag, action.due = "red", due
        s.add(action)
        s.add(ActionUpdate(action_id=action.id, rag="red", note="Stuck", created_at=changed))
        await s.commit()


async def test_a_red_action_due_soon_escalates_at_once(db):
    people = await seed(db)
    await red(db, "A-1", TODAY + timedelta(days=1), NOW - timedelta(hours=1))  # red an hour ago, due tomorrow
    assert await escalations(db, SETTINGS, NOW) == 2
    rows = {r.recipient_id: payload_reply(r.payload, r.language).text for r in await outbox(db, "escalation")}
    assert rows[people["chair"]] == ("Escalation: A-1 “Owned” on Bwrdd Môn is red and due tomorrow (owner: Owner). "
                                     "It needs the board's attention.")
    assert rows[people["owner"]].startswith("A-1 “Owned” is red and due tomorrow, so it has been raised")


async def test_a_red_action_due_later_waits_for_the_grace_period_and_both_are_settings(db):
    await seed(db)
    async with db.session() as s:
        a2 = (await s.exec(select(Action).where(Action.ref == "A-2"))).one()
        a2.due = TODAY + timedelta(days=60)  # only A-1 is in question here
        s.add(a2)
        await s.commit()
    await red(db, "A-1", TODAY + timedelta(days=30), NOW - timedelta(days=3))
    assert await escalations(db, SETTINGS, NOW) == 0
    assert await escalations(db, Settings(database_url="sqlite://", CYSWLLT_ESCALATION_GRACE_DAYS=2), NOW) == 2
    within = Settings(database_url="sqlite://", CYSWLLT_ESCALATE_RED_WITHIN_DAYS=30)
    async with db.session() as s:
        for row in (await s.exec(select(OutboxMessage))).all():
            await s.delete(row)
        await s.commit()
    assert await escalations(db, within, NOW) == 2


async def test_an_unowned_action_escalates_naming_its_leads(db):
    people = await seed(db)
    async with db.session() as s:
        a2 = (await s.exec(select(Action).where(Action.ref == "A-2"))).one()
        a2.due = date(2007, 11, 30)
        s.add(a2)
        await s.commit()
    await escalations(db, SETTINGS, datetime(2026, 12, 1, 10, tzinfo=UTC))
    rows = {r.recipient_id: payload_reply(r.payload, r.language).text for r in await outbox(db, "escalation")}
    assert rows[people["chair"]] == ("Escalation: A-2 “Nobody owns it” on Bwrdd Môn is overdue since November 2007 "
                                     "(owner: no owner; lead: Llywodraeth Cymru, Cyngor Môn). It needs the board's attention.")
    assert {people["wag1"], people["wag2"], people["council"], people["owner"]} <= set(rows)
    assert "yn hwyr ers Tachwedd 2007" in rows[people["wag1"]]


@pytest.mark.parametrize("today, period, expected", [
    (date(2026, 11, 25), "next-week", datetime(2026, 11, 30, 9, 0)),  # a Wednesday: the Monday after
    (date(2026, 11, 30), "next-week", datetime(2026, 12, 7, 9, 0)),  # a Monday: the next Monday, not today
    (date(2026, 11, 27), "tomorrow", datetime(2026, 11, 30, 9, 0)),  # a Friday: Monday
    (date(2027, 3, 26), "next-week", datetime(2027, 3, 30, 9, 0)),  # Easter Monday is a bank holiday
])
def test_snooze_next_week_is_next_monday_at_the_start_of_working_hours(today, period, expected):
    until = snooze_until(SETTINGS, today, period)
    assert until.replace(tzinfo=None) == expected and str(until.tzinfo) == "Europe/London"
    later = snooze_until(Settings(database_url="sqlite://", CYSWLLT_WORKING_HOURS="08:30-16:00"), today, period)
    assert later.time().isoformat() == "08:30:00"


async def test_snooze_words_in_both_languages(db):
    from handlers.core import Command, Context
    from handlers.dispatch import handle
    from storage.models import Snooze

    await seed(db)
    ctx = Context(db, SETTINGS, now=lambda: datetime(2026, 11, 25, 15, tzinfo=UTC))
    english = await handle(ctx, Command("slack", "UOWNER", "snooze A-1 next week"))
    assert "I won't remind you about A-1 until 30 Nov 2026 09:00." == english.text
    welsh = await handle(ctx, Command("slack", "UWAG1", "oedi A-2 wythnos nesaf"))
    assert welsh.language == "cy" and "30 Tach 2026 09:00" in welsh.text
    async with db.session() as s:
        assert len((await s.exec(select(Snooze))).all()) == 2
