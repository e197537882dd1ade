"""Which board a command is about; switching and linking boards; the language choice."""

from __future__ import annotations

import unicodedata

from sqlalchemy import func
from sqlmodel import select

from handlers.core import Reply
from handlers.turn import Turn
from handlers.words import BOARD_LINK
from storage.models import Action, Board, Member, Role
from storage.reach import owner_of, set_address


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


async def person_boards(turn: Turn) -> list[tuple[Board, Member]]:
    rows = await turn.session.exec(
        select(Board, Member).join(Member, Member.board_id == Board.id)
        .where(Member.person_id == turn.person.id).order_by(Board.name)
    )
    return list(rows.all())


def _names(boards: list[tuple[Board, Member]]) -> str:
    return ", ".join(b.name for b, _ in boards)


async def choose_board(turn: Turn) -> Reply | None:
    """Set ``turn.board``/``turn.member``; a Reply when the person must choose or has no board."""
    seats = await person_boards(turn)
    if not seats:
        return turn.reply(turn.t("handlers.no_board"))
    by_id = {b.id: (b, m) for b, m in seats}
    chosen = None
    channel = turn.command.channel_id
    if channel:
        linked = await owner_of(turn.session, "board", turn.command.platform, channel)
        if linked in by_id:
            chosen = by_id[linked]
    if chosen is None and turn.person.current_board_id in by_id:
        chosen = by_id[turn.person.current_board_id]
    if chosen is None and len(seats) == 1:
        chosen = seats[0]
    if chosen is None:
        return turn.reply(turn.t("handlers.choose_board", boards=_names(seats)))
    turn.board, turn.member = chosen
    return None


async def choose_board_by_ref(turn: Turn, word: str, problem: Reply) -> Reply | None:
    """For members of several boards: the one board that has action ``word``, else ``problem``."""
    from handlers.actions import normalise_ref

    ref = normalise_ref(word)
    if ref is None:
        return problem
    seats = await person_boards(turn)
    ids = [b.id for b, _ in seats]
    having = set((await turn.session.exec(
        select(Action.board_id).where(Action.board_id.in_(ids), func.upper(Action.ref) == ref)
    )).all())
    found = [(b, m) for b, m in seats if b.id in having]
    if len(found) != 1:
        return problem
    turn.board, turn.member = found[0]
    return None


async def board(turn: Turn) -> Reply:
    seats = await person_boards(turn)
    if not seats:
        return turn.reply(turn.t("handlers.no_board"))
    args = list(turn.args)
    link = bool(args) and args[0].lower() in BOARD_LINK
    if link:
        args = args[1:]
    name = " ".join(args).strip()
    if not name:
        return turn.reply(turn.t("handlers.board_usage", boards=_names(seats)))
    wanted = _fold(name)
    match = next(((b, m) for b, m in seats if _fold(b.name) == wanted), None) or next(
        ((b, m) for b, m in seats if wanted in _fold(b.name)), None)
    if match is None:
        return turn.reply(turn.t("handlers.board_unknown", name=name, boards=_names(seats)))
    chosen, member = match
    if link:
        if not turn.command.channel_id:
            return turn.reply(turn.t("handlers.board_link_needs_channel"))
        if member.role not in (Role.chair, Role.secretariat):
            return turn.reply(turn.t("handlers.board_link_refused", board=chosen.name))
        await set_address(turn.session, chosen, turn.command.platform, turn.command.channel_id)
        return turn.reply(turn.t("handlers.board_linked", board=chosen.name), ephemeral=False)
    turn.person.current_board_id = chosen.id
    turn.session.add(turn.person)
    return turn.reply(turn.t("handlers.board_set", board=chosen.name))


async def set_language(turn: Turn) -> Reply:
    choice = turn.args[0].lower() if turn.args else ""
    if choice in ("cy", "cymraeg", "welsh"):
        choice = "cy"
    elif choice in ("en", "saesneg", "english"):
        choice = "en"
    else:
        return turn.reply(turn.t("handlers.lang_usage"))
    turn.person.language = choice
    turn.session.add(turn.person)
    turn.language = choice
    return turn.reply(turn.t("handlers.lang_set"))
