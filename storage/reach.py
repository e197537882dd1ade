"""Where a person is reached: one answer for the handlers' notices and the scheduler's sweeps.

Each person has an address on some platforms: their ``Address`` rows (a chat user id; on Teams the
personal chat, known once they have talked to the bot or installed it) and their email address
(when mail is set up). The platforms this service can send on now come in the order
``CYSWLLT_PLATFORM_ORDER`` gives (``Settings.usable_platforms``). A person's preferred platform
(members CSV ``preferred_platform``) wins when it is usable and they have an address there;
otherwise their first platform in that order where they have an address. Nobody is dropped: with no usable address
a person's messages go to the local console (``cyswllt chat --as EMAIL`` shows them, and
``cyswllt outbox list --unreachable`` lists who they are).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Address, Board, ConversationReference, Member, Person, StakeholderGroup

CONSOLE = "console"
# A person's email address is their address for mail; it lives on the person, not in ``address``.
MAIL = "email"
# An email address as the service takes one (people, boards, groups, respondents).
EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def is_address(value: str) -> bool:
    """Whether ``value`` (already trimmed) is an email address the service can send to."""
    return len(value) <= 320 and EMAIL.match(value) is not None


# What an address may belong to, and its column.
OWNERS = {"person": Address.person_id, "board": Address.board_id, "group": Address.group_id}


def _owner(owner: Person | Board | StakeholderGroup) -> tuple[str, int]:
    kind = {Person: "person", Board: "board", StakeholderGroup: "group"}[type(owner)]
    return kind, owner.id


async def addresses_of(session: AsyncSession, owner: Person | Board | StakeholderGroup) -> dict[str, str]:
    """{platform: address} for one person, board or stakeholder group (chat addresses only)."""
    kind, owner_id = _owner(owner)
    rows = await session.exec(select(Address.platform, Address.address).where(OWNERS[kind] == owner_id)
                              .order_by(Address.platform))
    return dict(rows.all())


async def groups_addresses(session: AsyncSession, group_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """{group id: {platform: channel}} for several stakeholder groups at once."""
    return await _owners_addresses(session, "group", group_ids)


async def boards_addresses(session: AsyncSession, board_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """{board id: {platform: address}} for several boards at once."""
    return await _owners_addresses(session, "board", board_ids)


async def _owners_addresses(session: AsyncSession, kind: str, ids: Iterable[int]) -> dict[int, dict[str, str]]:
    column = OWNERS[kind]
    found: dict[int, dict[str, str]] = {}
    for owner_id, platform, address in (await session.exec(select(column, Address.platform, Address.address)
                                                            .where(column.in_(list(ids))))).all():
        found.setdefault(owner_id, {})[platform] = address
    return found


async def set_address(session: AsyncSession, owner: Person | Board | StakeholderGroup, platform: str,
                      address: str | None) -> None:
    """Give ``owner`` this address on ``platform`` (replacing any other there); None or "" removes it."""
    kind, owner_id = _owner(owner)
    row = (await session.exec(select(Address).where(OWNERS[kind] == owner_id, Address.platform == platform))).first()
    if not address:
        if row is not None:
            await session.delete(row)
        return
    if row is None:
        row = Address(platform=platform, address=address, **{f"{kind}_id": owner_id})
    row.address = address
    session.add(row)


async def owner_of(session: AsyncSession, kind: str, platform: str, address: str) -> int | None:
    """The id of the person (``kind="person"``), board or group with this address on ``platform``."""
    column = OWNERS[kind]
    return (await session.exec(select(column).where(Address.platform == platform, Address.address == address,
                                                    column.is_not(None)).order_by(Address.id))).first()


async def person_addresses(session: AsyncSession, platform: str) -> dict[str, int]:
    """{address: person id} of everyone with an address on ``platform`` (imports check for clashes)."""
    rows = await session.exec(select(Address.address, Address.person_id).where(
        Address.platform == platform, Address.person_id.is_not(None)))
    return dict(rows.all())


async def addresses(session: AsyncSession, person_ids: Iterable[int] | None = None) -> dict[int, dict[str, str]]:
    """Each person's address on each platform they have one on (the console's and mail's is their email)."""
    query = select(Person.id, Person.email)
    wanted = None if person_ids is None else set(person_ids)
    if wanted is not None:
        query = query.where(Person.id.in_(wanted))
    found: dict[int, dict[str, str]] = {}
    for person_id, email in (await session.exec(query)).all():
        found[person_id] = {CONSOLE: email, MAIL: email}
    chat = select(Address.person_id, Address.platform, Address.address).where(Address.person_id.is_not(None))
    if wanted is not None:
        chat = chat.where(Address.person_id.in_(wanted))
    by_teams_id: dict[str, int] = {}
    for person_id, platform, address in (await session.exec(chat)).all():
        if platform == "teams":
            # A Teams member is reached in their personal chat with the bot, not at their user id.
            by_teams_id[address] = person_id
        else:
            found[person_id][platform] = address
    # A Teams member is reached in their personal chat with the bot, the newest one known.
    chats = select(ConversationReference.person_id, ConversationReference.teams_user_id,
                   ConversationReference.conversation_id).where(ConversationReference.scope == "personal") \
        .order_by(ConversationReference.updated_at)
    for person_id, teams_user, conversation in (await session.exec(chats)).all():
        owner = person_id if person_id in found else by_teams_id.get(teams_user or "")
        if owner is not None:
            found[owner]["teams"] = conversation
    return found


async def preferences(session: AsyncSession, person_ids: Iterable[int]) -> dict[int, str]:
    rows = await session.exec(select(Person.id, Person.preferred_platform).where(
        Person.id.in_(list(person_ids)), Person.preferred_platform.is_not(None)))
    return dict(rows.all())


async def reach(session: AsyncSession, usable: Collection[str],
                person_ids: Iterable[int] | None = None) -> dict[int, tuple[str, str]]:
    """(platform, address) for each person: the platform they prefer when it is usable and they have an
    address there, else their first usable platform in order, else the console."""
    choices = await addresses(session, person_ids)
    preferred = await preferences(session, choices)
    chosen = {}
    for person_id, known in choices.items():
        first = [preferred[person_id]] if person_id in preferred else []
        platform = next((p for p in [*first, *usable] if p in usable and p in known), CONSOLE)
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
