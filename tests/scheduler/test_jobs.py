from sqlmodel import select

from cyswllt.settings import Settings
from scheduler.jobs import action_reminders, escalations, run_job, scrutiny_overdue, stale_updates
from scheduler.messages import payload_reply
from storage.models import OutboxMessage
from tests.scheduler.conftest import NOW

SETTINGS = Settings(database_url="sqlite://", slack_signing_secret="s", slack_bot_token="xoxb-test")  # Slack is set up


async def rows(db, kind=None):
    async with db.session() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.idempotency_key)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return (await s.exec(query)).all()


def reply(message):
    """What the member is sent: the stored payload as the senders draw it."""
    return payload_reply(message.payload, message.language)


def texts(found):
    return {m.idempotency_key.split(":")[1] + ":" + reply(m).sections[0].ref: reply(m).text for m in found}


async def test_action_reminders_once_each_in_the_owners_language(db, plan):
    assert await action_reminders(db, SETTINGS, NOW) == 3
    assert await action_reminders(db, SETTINGS, NOW) == 0  # a second run queues nothing new
    found = await rows(db, "reminder")
    by = texts(found)
    assert by["due7:A-1"].startswith("A-1 “Due in a week” is due in 7 days (30 November 2026)")
    # No Welsh title: the English one, marked.
    assert by["due1:A-2"].startswith("Mae A-2 “Due tomorrow (yn Saesneg)” i fod i'w gwblhau yfory (24 Tachwedd 2026)")
    assert "was due on 3 November 2026 and is now 2 weeks overdue." in by["overdue:A-3"]
    assert all(m.respect_working_hours and m.platform == "slack" for m in found)
    assert {m.channel for m in found} == {"UEN", "UCY"}
    (welsh,) = [m for m in found if "A-2" in m.idempotency_key]
    buttons = reply(welsh).sections[0].buttons
    assert [b.command for b in buttons] == ["diweddaru A-2", "oedi A-2 yfory", "oedi A-2 wythnos-nesaf"]
    assert buttons[0].form.command == "diweddaru A-2 {rag} {note} cyhoeddus: {public}"
    assert buttons[0].form.title.endswith("A-2")


async def test_snoozed_reminders_are_skipped(db, plan):
    from datetime import timedelta

    from storage.models import Action, Snooze

    async with db.session() as s:
        a1 = (await s.exec(select(Action).where(Action.ref == "A-1"))).one()
        s.add(Snooze(action_id=a1.id, person_id=plan["en"], until=NOW + timedelta(days=1)))
        await s.commit()
    await action_reminders(db, SETTINGS, NOW)
    assert not any("A-1" in m.idempotency_key for m in await rows(db))


async def test_one_nudge_an_action_the_meeting_chaser_else_the_30_day_reminder(db, plan):
    from datetime import timedelta

    from storage.models import Action, Board

    idle_since = NOW - timedelta(days=45)
    async with db.session() as s:
        mon = (await s.exec(select(Board).where(Board.name == "Bwrdd Môn"))).one()  # meets in 3 days
        other = Board(name="Bwrdd Arall")  # no meeting soon
        s.add(other)
        await s.flush()
        idle = {"created_at": idle_since, "updated_at": idle_since}
        s.add_all([
            Action(board_id=mon.id, ref="A-6", title="Idle before the meeting", owner_id=plan["en"],
                   due=NOW.date() + timedelta(days=60), **idle),
            Action(board_id=other.id, ref="B-1", title="Idle", owner_id=plan["cy"], due=NOW.date() + timedelta(days=60),
                   **idle),
            Action(board_id=other.id, ref="B-2", title="Idle and overdue", owner_id=plan["en"],
                   due=NOW.date() - timedelta(days=2), **idle),
            Action(board_id=other.id, ref="B-3", title="Idle, no date", owner_id=plan["en"], **idle),
        ])
        await s.commit()
    assert await stale_updates(db, SETTINGS, NOW) == 4
    by = texts(await rows(db))
    # The board that meets soon chases what has had no update since its last meeting, once; the
    # 30-day reminder is for the rest, and not for an overdue action (its own reminder asks weekly).
    assert set(by) == {"chaser:A-3", "chaser:A-6", "stale:B-1", "stale:B-3"}
    assert by["chaser:A-6"].startswith("The board meets on 26 November 2026. A-6 “Idle before the meeting” has had")
    assert by["stale:B-1"].startswith("Does dim diweddariad wedi bod ar B-1 “Idle (yn Saesneg)” ers 45 diwrnod")
    assert await stale_updates(db, SETTINGS, NOW) == 0
    assert await stale_updates(db, SETTINGS, NOW + timedelta(days=2)) == 0  # still chasing, nothing more
    # The meeting has been, and A-6 still has no update: now its 30-day reminder.
    assert await stale_updates(db, SETTINGS, NOW + timedelta(days=4)) == 1
    assert "stale:A-6" in texts(await rows(db))
    assert await stale_updates(db, SETTINGS, NOW + timedelta(days=5)) == 0


async def test_escalation_to_chair_once_per_period_and_the_owner_told(db, plan):
    assert await escalations(db, SETTINGS, NOW) == 2
    assert await escalations(db, SETTINGS, NOW) == 0
    chair, owner = sorted(await rows(db, "escalation"), key=lambda m: m.recipient_id != plan["chair"])
    assert chair.recipient_id == plan["chair"] and chair.language == "cy" and "Uwchgyfeirio" in reply(chair).text
    assert "mae A-3 “Overdue (yn Saesneg)” ar Fwrdd Môn 2 wythnos yn hwyr (perchennog: Tom Jones)" in reply(chair).text
    assert owner.recipient_id == plan["en"] and reply(owner).text.startswith(
        "A-3 “Overdue” is 2 weeks overdue, so it has been raised with the board's chair and secretariat.")


async def test_scrutiny_overdue_tells_members_and_requester(db, plan):
    assert await scrutiny_overdue(db, SETTINGS, NOW) == 2
    recipients = {m.recipient_id: m for m in await rows(db, "scrutiny")}
    assert set(recipients) == {plan["scrutiny"], plan["cy"]}
    assert recipients[plan["scrutiny"]].platform == "console"
    assert "wedi pasio" in reply(recipients[plan["cy"]]).text


async def test_run_job_takes_the_lock(db, plan):
    assert await run_job("action-reminders", db, SETTINGS, NOW) == 3


def test_a_stored_reminder_is_small_and_drawn_whole_in_the_rows_language():
    import json

    from scheduler.messages import reminder_payload, reminder_reply

    payload = reminder_payload("Neges <!channel>", "A-12", "amber")
    assert len(json.dumps(payload)) < 100
    for lang in ("en", "cy"):
        drawn = payload_reply(payload, lang)
        assert drawn == reminder_reply(lang, "A-12", "amber", "Neges <!channel>")
        assert drawn.language == lang and drawn.sections[0].rag == "amber"
        assert drawn.sections[0].buttons[0].form.command.startswith("diweddaru A-12" if lang == "cy" else "update A-12")


async def test_red_actions_escalate_only_when_left_red_beyond_the_grace_period(db, plan):
    from datetime import timedelta

    from storage.models import Action, ActionUpdate

    async with db.session() as s:
        far = (await s.exec(select(Action).where(Action.ref == "A-4"))).one()  # due in 90 days
        far.rag = "red"
        s.add(far)
        s.add(ActionUpdate(action_id=far.id, rag="red", note="Stuck", created_at=NOW - timedelta(days=20)))
        await s.commit()
    assert await escalations(db, SETTINGS, NOW) == 4  # A-3 overdue, A-4 red for 20 days: chair and owner each
    async with db.session() as s:
        s.add(ActionUpdate(action_id=far.id, rag="red", note="Still stuck", created_at=NOW - timedelta(days=2)))
        await s.commit()
    async with db.session() as s:
        for row in (await s.exec(select(OutboxMessage))).all():
            await s.delete(row)
        await s.commit()
    assert await escalations(db, SETTINGS, NOW) == 2  # a fresh red update restarts the grace period


async def test_a_job_another_replica_is_running_is_skipped(db, plan):
    from sqlalchemy import text

    from scheduler.jobs import job_lock_key

    if not db.is_postgres:
        assert await run_job("action-reminders", db, SETTINGS, NOW) == 3  # SQLite: one instance, no lock
        return
    async with db.engine.connect() as other, other.begin():  # another replica mid-sweep
        await other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": job_lock_key("action-reminders")})
        assert await run_job("action-reminders", db, SETTINGS, NOW) is None
        assert await run_job("escalations", db, SETTINGS, NOW) == 2  # each job has its own lock
    assert await run_job("action-reminders", db, SETTINGS, NOW) == 3


def test_two_reminders_about_one_action_in_a_bundle_are_one_entry():
    from scheduler.messages import reminder_payload

    bundle = {"bundle": [reminder_payload("A-3 was due on 3 November.", "A-3", "red"),
                         reminder_payload("A-4 is due tomorrow.", "A-4", None),
                         reminder_payload("The board meets on 26 November. A-3 has had no update.", "A-3", "red")]}
    drawn = payload_reply(bundle, "en")
    assert drawn.text == "These actions need your attention (2):"
    first, second = drawn.sections[1:]
    assert first.ref == "A-3" and first.text == "A-3 was due on 3 November.\nThe board meets on 26 November. A-3 has had no update."
    assert second.ref == "A-4" and [len(s.buttons) for s in drawn.sections] == [0, 3, 3]
    assert payload_reply(bundle, "cy").text == "Mae angen eich sylw ar y camau hyn (2):"
