"""``inbox`` / ``mewnflwch``: what was delivered to a person on the local console — the reminders,
escalations and notices that no chat platform set up here could take to them."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import select

from handlers.core import Reply, Section
from handlers.turn import Turn
from scheduler.messages import payload_reply
from storage.models import OutboxMessage, OutboxState
from storage.reach import CONSOLE

LIMIT = 10


def _for(turn: Turn):
    person = turn.person
    return (OutboxMessage.platform == CONSOLE,
            or_(OutboxMessage.recipient_id == person.id, OutboxMessage.channel == person.email))


async def delivered(session, person, *, after_id: int = 0, limit: int = LIMIT) -> list[OutboxMessage]:
    """A person's console deliveries, newest first (or those after ``after_id``)."""
    rows = await session.exec(select(OutboxMessage).where(
        OutboxMessage.platform == CONSOLE, OutboxMessage.state == OutboxState.sent, OutboxMessage.id > after_id,
        or_(OutboxMessage.recipient_id == person.id, OutboxMessage.channel == person.email))
        .order_by(OutboxMessage.id.desc()).limit(limit))
    return list(rows.all())


def message_sections(turn: Turn, row: OutboxMessage) -> list[Section]:
    """One delivered message: when it came, then what it said (with its buttons' words)."""
    try:
        reply = payload_reply(row.payload or {}, row.language)
    except (KeyError, TypeError):
        reply = Reply(row.language, str((row.payload or {}).get("subject") or ""))
    when = turn.when(row.sent_at or row.created_at)
    return [Section(heading=when), *(reply.sections or [Section(text=reply.text)])]


async def inbox(turn: Turn) -> Reply:
    rows = await delivered(turn.session, turn.person)
    waiting = (await turn.session.exec(select(func.count()).select_from(OutboxMessage).where(
        *_for(turn), OutboxMessage.state == OutboxState.pending))).one()
    later = turn.t("inbox.waiting", count=waiting) if waiting else ""
    if not rows:
        return turn.reply("\n".join(filter(None, [turn.t("inbox.none"), later])))
    heading = turn.t("inbox.heading", count=len(rows))
    sections = [Section(heading=heading)]
    lines = [heading]
    for row in rows:
        shown = message_sections(turn, row)
        sections += shown
        lines += [f"\n{shown[0].heading}", *(s.text for s in shown[1:] if s.text)]
    if later:
        sections.append(Section(text=later))
        lines.append(f"\n{later}")
    return turn.reply("\n".join(lines), sections)
