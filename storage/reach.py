"""Where a person is reached: one answer for the handlers' notices and the scheduler's sweeps.

Each person has an address on some platforms (a Slack user id; a Teams personal chat, known once
they have talked to the bot or installed it; their email address, when mail is set up). The platforms this service can send on now come in
the order ``CYSWLLT_PLATFORM_ORDER`` gives (``Settings.usable_platforms``); a person's first
platform in that order where they have an address wins. Nobody is dropped: with no usable address
a person's messages go to the local console (``cyswllt chat --as EMAIL`` shows them, and
``cyswllt outbox list --unreachable`` lists who they are).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Board, ConversationReference, Member, Person

CONSOLE = "console"


async def addresses(session: AsyncSession, person_ids: Iterable[int] | None = None) -> dict[int, dict[str, str]]:
    """Each person's address on each platform they have one on (the console's is their email)."""
    query = select(Person.id, Person.email, Person.slack_user_id, Person.teams_user_id)
    wanted = None if person_ids is None else set(person_ids)
    if wanted is not None:
        query = query.where(Person.id.in_(wanted))
    found: dict[int, dict[str, str]] = {}
    by_teams_id: dict[str, int] = {}
    for person_id, email, slack, teams in (await session.exec(query)).all():
        found[person_id] = {CONSOLE: email, "email": email}
        if slack:
            found[person_id]["slack"] = slack
        if teams:
            by_teams_id[teams] = person_id
    # A Teams member is reached in their personal chat with the bot, the newest one known.
    chats = select(ConversationReference.person_id, ConversationReference.teams_user_id,
                   ConversationReference.conversation_id).where(ConversationReference.scope == "personal") \
        .order_by(ConversationReference.updated_at)
    for person_id, teams_user, conversation in (await session.exec(chats)).all():
        owner = person_id if person_id in found else by_teams_id.get(teams_user or "")
        if owner is not None:
            found[owner]["teams"] = conversation
    return found


async def reach(session: AsyncSession, usable: Collection[str],
                person_ids: Iterable[int] | None = None) -> dict[int, tuple[str, str]]:
    """(platform, address) for each person: their first usable platform, else the console."""
    choices = await addresses(session, person_ids)
    chosen = {}
    for person_id, known in choices.items():
        platform = next((p for p in usable if p in known), CONSOLE)
        chosen[person_id] = (platform, known[platform])
    return chosen


async def unreachable(session: AsyncSession, usable: Collection[str],
                      board_id: int | None = None) -> list[tuple[Person, list[str]]]:
    """Board members no usable platform reaches (their messages wait on the console), with their
    boards' names: the secretariat's list of who to contact another way. With ``board_id``, that
    board's members only (the meeting pack's list)."""
    memberships = select(Member.person_id, Board.name).join(Board, Board.id == Member.board_id).order_by(Board.name)
    if board_id is not None:
        memberships = memberships.where(Member.board_id == board_id)
    boards: dict[int, list[str]] = {}
    for person_id, name in (await session.exec(memberships)).all():
        boards.setdefault(person_id, []).append(name)
    if not boards:
        return []
    people = {p.id: p for p in (await session.exec(select(Person).where(Person.id.in_(boards))
                                                   .order_by(Person.name))).all()}
    chosen = await reach(session, usable, people)
    return [(person, boards[pid]) for pid, person in people.items() if chosen[pid][0] == CONSOLE]
