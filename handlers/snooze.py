"""``snooze A-12 tomorrow|next-week``: pause reminders about an action (the reminder buttons)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlmodel import select

from handlers.actions import find_action, normalise_ref
from handlers.core import Reply
from handlers.turn import Turn
from handlers.words import SNOOZE_PERIODS
from storage.models import Snooze


async def snooze(turn: Turn) -> Reply:
    ref = normalise_ref(turn.args[0]) if turn.args else None
    period = SNOOZE_PERIODS.get(turn.args[1].lower()) if len(turn.args) > 1 else None
    if ref is None or period is None:
        return turn.reply(turn.t("handlers.snooze_usage"))
    action = await find_action(turn, ref)
    if action is None:
        return turn.reply(turn.t("handlers.update_unknown_ref", ref=ref, board=turn.board.name))
    day = turn.today + timedelta(days=1 if period == "tomorrow" else 7)
    while day.weekday() >= 5:  # reminders wait for a weekday
        day += timedelta(days=1)
    until = datetime.combine(day, time(9, 0), tzinfo=turn.tz)
    row = (await turn.session.exec(select(Snooze).where(
        Snooze.action_id == action.id, Snooze.person_id == turn.person.id))).first()
    row = row or Snooze(action_id=action.id, person_id=turn.person.id, until=until)
    row.until = until
    turn.session.add(row)
    return turn.reply(turn.t("handlers.snooze_done", ref=action.ref, when=turn.when(until)))
