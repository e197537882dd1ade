"""``snooze A-12 tomorrow|next-week``: pause reminders about an action (the reminder buttons)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlmodel import select

from handlers.actions import find_action, normalise_ref
from handlers.core import Reply
from handlers.turn import Turn
from handlers.words import SNOOZE_PERIODS, WELSH_PERIODS
from scheduler.clock import WorkingHours
from storage.models import Snooze


def snooze_until(settings, today: date, period: str) -> datetime:
    """"tomorrow": the next working day; "next week": next Monday (or the first working day after it,
    when it is a bank holiday) — each at the start of working hours."""
    hours = WorkingHours.from_settings(settings)
    start = time(9, 0) if hours.always else hours.start
    if period == "tomorrow":
        day = today + timedelta(days=1)
    else:
        day = today + timedelta(days=7 - today.weekday())
    # With no quiet hours ("always") a snooze still lands on a weekday that is not a bank holiday.
    days = WorkingHours(hours.timezone) if hours.always else hours
    for _ in range(30):
        if days.is_working_day(day):
            break
        day += timedelta(days=1)
    return datetime.combine(day, start, tzinfo=hours.timezone)


async def snooze(turn: Turn) -> Reply:
    ref = normalise_ref(turn.args[0]) if turn.args else None
    said = " ".join(turn.args[1:]).lower()
    period = SNOOZE_PERIODS.get(said)
    if said in WELSH_PERIODS:
        turn.language = "cy"
    if ref is None or period is None:
        return turn.reply(turn.t("handlers.snooze_usage"))
    action = await find_action(turn, ref)
    if action is None:
        from handlers.suggest import unknown_ref

        return await unknown_ref(turn, ref)
    until = snooze_until(turn.ctx.settings, turn.today, period)
    row = (await turn.session.exec(select(Snooze).where(
        Snooze.action_id == action.id, Snooze.person_id == turn.person.id))).first()
    row = row or Snooze(action_id=action.id, person_id=turn.person.id, until=until)
    row.until = until
    turn.session.add(row)
    return turn.reply(turn.t("handlers.snooze_done", ref=action.ref, when=turn.when(until)))
