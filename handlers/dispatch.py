"""The one entry point for every platform: a ``Command`` in, a ``Reply`` out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cyswllt.i18n import normalise_language, t
from cyswllt.platforms import platform
from handlers import actions, boards, calendar, digest, inbox, scrutiny, snooze, status
from handlers.core import Button, Command, Context, Reply, Section
from handlers.language import looks_welsh
from handlers.suggest import close_phrase, did_you_mean, synonym
from handlers.turn import Turn
from handlers.words import verb_of
from storage.models import Board, Member, Person, Role
from storage.reach import owner_of

log = logging.getLogger(__name__)

REF_VERBS = {"update", "history", "snooze"}

ROUTES = {
    "help": None,
    "actions": actions.list_actions,
    "update": actions.update,
    "history": actions.history,
    "home": actions.home,
    "status": status.status,
    "scrutiny": scrutiny.scrutiny,
    "digest": digest.digest,
    "lang": boards.set_language,
    "board": boards.board,
    "snooze": snooze.snooze,
    "inbox": inbox.inbox,
    "calendar": calendar.calendar,
}


async def find_person(session, command: Command) -> Person | None:
    """Who is asking: the person with the command's user id as their address on its platform; on a
    platform that knows people by their email address (the console, mail links), that person."""
    user_id = command.user_id.strip()
    if not user_id:
        return None
    person_id = await owner_of(session, "person", command.platform, user_id)
    if person_id is not None:
        return await session.get(Person, person_id)
    # On a platform that knows people by their email address, the user id is that address.
    known = platform(command.platform)
    if known is None or not known.people_by_email:
        return None
    return (await session.exec(select(Person).where(Person.email == user_id.lower()))).first()


def reply_language(person: Person | None, word_language: str | None, rest: str) -> str:
    if word_language == "cy" or looks_welsh(rest):
        return "cy"
    if person is not None:
        return normalise_language(person.language)
    return "en"


# Queues a reply to be delivered later, in the transaction of the change the command made.
Answer = Callable[[AsyncSession, Reply], Awaitable[None]]


async def handle(ctx: Context, command: Command, *, answer: Answer | None = None) -> Reply:
    """Run a command; its reply. With ``answer`` the reply is also handed to it before the command's
    transaction commits, so a change and the answer that reports it are stored together (a crash
    loses neither, and no answer goes out for a change that was rolled back). A reply that changed
    nothing (help, a refusal) is handed over in a transaction of its own."""
    answered: list[Reply] = []

    async def hooked(session: AsyncSession, reply: Reply) -> None:
        answered.append(reply)
        await answer(session, reply)

    try:
        reply = await _handle(ctx, command, hooked if answer is not None else None)
    except Exception:
        # A fault must never reach the member as a stack trace: log it, apologise in their words.
        log.exception("command failed: platform=%s words=%r", command.platform, command.text[:80])
        words = command.text.split()
        _, word_language = verb_of(words[0]) if words else (None, None)
        language = word_language or "en"
        reply = Reply(language=language, text=t(language, "handlers.something_went_wrong"))
        answered.clear()
    if answer is not None and not answered:
        try:
            async with ctx.db.session() as session:
                await answer(session, reply)
                await session.commit()
        except Exception:
            log.exception("could not queue the answer to a command")
    return reply


async def _handle(ctx: Context, command: Command, answer: Answer | None = None) -> Reply:
    words = command.text.split()
    verb, word_language = verb_of(words[0]) if words else ("help", None)
    if verb is None:
        # A question in the person's own words ("What's overdue?") is answered as its command.
        said = synonym(command.text)
        if said is not None:
            command = replace(command, text=said)
            words = said.split()
            verb, word_language = verb_of(words[0])
    rest = " ".join(words[1:])
    async with ctx.db.session() as session:
        person = await find_person(session, command)
        language = reply_language(person, word_language, rest if verb else command.text)
        if person is None:
            return await _stranger(session, language)
        turn = Turn(ctx, session, command, person, language, args=words[1:])
        if verb is None:
            near = close_phrase(command.text)
            if near is not None:
                text = turn.t("handlers.did_you_mean", word=command.text.strip()[:80], suggestions=f"“{near}”")
                return turn.reply(text, [Section(text=text, buttons=[Button(near, near, style="primary")])])
            return await did_you_mean(turn, words)
        if verb == "help":
            return help_reply(language)
        if verb not in ("lang", "board", "inbox"):
            problem = await boards.choose_board(turn)
            if problem is not None and verb in REF_VERBS and turn.args:
                # A button from a DM names its action: that is enough when only one board has it.
                problem = await boards.choose_board_by_ref(turn, turn.args[0], problem)
            if problem is not None and verb == "digest" and await digest.coordinates_a_group(turn):
                problem = None  # a stakeholder group's coordinator needs no seat on a board
            if problem is not None:
                return problem
        reply = await ROUTES[verb](turn)
        if answer is not None:
            await answer(session, reply)
        await session.commit()
        return reply


def help_reply(language: str) -> Reply:
    title = t(language, "handlers.help_title")
    body = t(language, "handlers.help_body").strip()
    return Reply(language=language, text=f"{title}\n{body}", sections=[Section(heading=title, text=body)])


async def _stranger(session, language: str) -> Reply:
    # Name a secretariat (or chair) people can ask, when there is one.
    row = (await session.exec(
        select(Person.name, Board.name)
        .join(Member, Member.person_id == Person.id)
        .join(Board, Board.id == Member.board_id)
        .where(Member.role.in_([Role.secretariat, Role.chair]))
        .order_by(Member.role.desc())
    )).first()
    who = f"{row[0]} ({row[1]})" if row else t(language, "handlers.unknown_user_who")
    text = t(language, "handlers.unknown_user", who=who)
    return Reply(language=language, text=text)
