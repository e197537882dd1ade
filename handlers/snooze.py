"""``snooze A-12 tomorrow|next-week``: pause reminders about an action (the reminder buttons)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import holidays
from sqlmodel import select

from handlers.actions import find_action, normalise_ref
from handlers.core import Reply
from handlers.turn import Turn
from handlers.words import SNOOZE_PERIODS, WELSH_PERIODS
from storage.models import Snooze


def working_day(day: date) -> date:
    """The first day from ``day`` that is neither a weekend nor a bank holiday in Wales."""
    closed = holidays.country_holidays("GB", subdiv="WLS", years=[day.year, day.year + 1])
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    return day


async def snooze(turn: Turn) -> Reply:
    ref = normalise_ref(turn.args[0]) if turn.args else None
    period = SNOOZE_PERIODS.get(turn.args[1].lower()) if len(turn.args) > 1 else None
    if len(turn.args) > 1 and turn.args[1].lower() in WELSH_PERIODS:
        turn.language = "cy"
    if ref is None or period is None:
        return turn.reply(turn.t("handlers.snooze_usage"))
    action = await find_action(turn, ref)
    if action is None:
        return turn.reply(turn.t("handlers.update_unknown_ref", ref=ref, board=turn.board.name))
    day = working_day(turn.today + timedelta(days=1 if period == "tomorrow" else 7))
    until = datetime.combine(day, time(9, 0), tzinfo=turn.tz)
    row = (await turn.session.exec(select(Snooze).where(
        Snooze.action_id == action.id, Snooze.person_id == turn.person.id))).first()
    row = row or Snooze(action_id=action.id, person_id=turn.person.id, until=until)
    row.until = until
    turn.session.add(row)
    return turn.reply(turn.t("handlers.snooze_done", ref=action.ref, when=turn.when(until)))
