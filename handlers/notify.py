"""Messages outside the immediate reply: to a person's DM or a board's channels, via the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core import Reply
from scheduler.outbox import enqueue
from storage.models import Board, ConversationReference, Person


async def person_channel(session: AsyncSession, person: Person) -> tuple[str, str]:
    """(platform, channel) for a direct message to this person."""
    if person.slack_user_id:
        return "slack", person.slack_user_id
    conditions = [ConversationReference.person_id == person.id]
    if person.teams_user_id:
        conditions.append(ConversationReference.teams_user_id == person.teams_user_id)
    ref = (await session.exec(
        select(ConversationReference)
        .where(ConversationReference.scope == "personal", or_(*conditions))
        .order_by(ConversationReference.updated_at.desc())
    )).first()
    if ref is not None:
        return "teams", ref.conversation_id
    return "console", person.email


async def to_person(session: AsyncSession, person: Person, reply: Reply, key: str, *,
                    working_hours: bool = False, not_before: datetime | None = None, kind: str = "message") -> bool:
    platform, channel = await person_channel(session, person)
    return await enqueue(session, key=key, platform=platform, channel=channel, payload={"reply": reply.to_dict()},
                         language=reply.language, kind=kind, recipient_id=person.id,
                         working_hours=working_hours, not_before=not_before)


async def to_board(session: AsyncSession, board: Board, reply: Reply, key: str, *, kind: str = "notice") -> int:
    """Post to each channel linked to the board; the number of rows queued."""
    queued = 0
    for platform, channel in (("slack", board.slack_channel_id), ("teams", board.teams_conversation_id)):
        if channel:
            queued += await enqueue(session, key=f"{key}:{platform}", platform=platform, channel=channel,
                                    payload={"reply": reply.to_dict()}, language=reply.language, kind=kind)
    return queued
