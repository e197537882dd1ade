"""Messages outside the immediate reply: to a person's DM or a board's channels, via the outbox."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core import Reply
from scheduler.outbox import enqueue
from storage.models import Board, Person
from storage.reach import addresses_of, reach


async def person_channel(session: AsyncSession, person: Person, usable: Collection[str]) -> tuple[str, str]:
    """(platform, address) for a direct message to this person (``storage.reach``)."""
    return (await reach(session, usable, [person.id]))[person.id]


async def to_person(session: AsyncSession, person: Person, reply: Reply, key: str, *, settings,
                    working_hours: bool = False, not_before: datetime | None = None, kind: str = "message") -> bool:
    platform, channel = await person_channel(session, person, settings.usable_platforms)
    return await enqueue(session, key=key, platform=platform, channel=channel, payload={"reply": reply.to_dict()},
                         language=reply.language, kind=kind, recipient_id=person.id,
                         working_hours=working_hours, not_before=not_before)


async def to_board(session: AsyncSession, board: Board, reply: Reply, key: str, *, kind: str = "notice") -> int:
    """Post to each channel linked to the board; the number of rows queued."""
    queued = 0
    for platform, channel in (await addresses_of(session, board)).items():
        queued += await enqueue(session, key=f"{key}:{platform}", platform=platform, channel=channel,
                                payload={"reply": reply.to_dict()}, language=reply.language, kind=kind)
    return queued
