"""The local console: ``cyswllt chat --as EMAIL`` drives the same handlers as Slack and Teams,
and a console sender that logs what the outbox would deliver when no chat platform is set up."""

from __future__ import annotations

import asyncio
import logging
import sys

from aiohttp import web

from cyswllt.appkeys import SENDERS
from cyswllt.platforms import Platform, register
from handlers.core import Command, Context, Reply
from scheduler.messages import payload_reply
from storage.models import OutboxMessage

log = logging.getLogger("cyswllt.console")

RAG_MARKS = {"red": "🔴", "amber": "🟠", "green": "🟢", "complete": "✅"}


def render(reply: Reply) -> str:
    """A Reply as terminal text: headings, facts, RAG marks and the commands buttons would run."""
    if not reply.sections:
        return reply.text
    lines: list[str] = []
    for section in reply.sections:
        mark = RAG_MARKS.get(section.rag or "", "")
        if section.heading:
            lines.append("")
            lines.append(f"{mark} {section.heading}".strip())
        if section.text:
            lines.append(section.text if section.heading else f"{mark} {section.text}".strip())
        for fact in section.facts:
            lines.append(f"  {fact.label}: {fact.value}")
        if section.buttons:
            lines.append("  " + "  ".join(f"[{b.label}: {b.command}]" for b in section.buttons))
    return "\n".join(lines).strip("\n")


class ConsoleSender:
    """Delivers outbox rows to the local console: the row, marked sent, is the person's copy —
    ``cyswllt chat --as EMAIL`` shows it as it arrives and ``inbox`` lists it — and the service log
    says so. The platform for anyone no chat platform set up here can reach."""

    async def send(self, message: OutboxMessage) -> str | None:
        try:
            reply = payload_reply(message.payload or {}, message.language)
        except (KeyError, TypeError):
            reply = Reply(message.language, str(message.payload))
        log.info("message for %s (%s):\n%s", message.channel, message.kind, render(reply))
        return f"console:{message.id}"

    async def find_sent(self, message: OutboxMessage) -> str | None:
        return None


def setup(app: web.Application) -> None:
    app[SENDERS]["console"] = ConsoleSender()


# Not in CYSWLLT_PLATFORM_ORDER: it holds the messages of anyone no platform set up here reaches.
PLATFORM = register(Platform("console", setup, ready=None, chart="link", people_by_email=True, position=0))


async def _chat(settings, email: str, board: str | None, stream_in, stream_out) -> int:
    from storage.db import Database

    db = Database.from_url(settings.database_url)
    ctx = Context(db, settings)
    interactive = stream_in.isatty()
    try:
        from handlers.dispatch import find_person

        async with db.session() as session:
            known = await find_person(session, Command(platform="console", user_id=email, text=""))
        if known is None:
            print((await handle_line(ctx, email, "help")).text, file=sys.stderr)
            return 2
        if board:
            print(render(await handle_line(ctx, email, f"board {board}")), file=stream_out)
        # What was delivered here before the chat began: the member's reminders and notices.
        shown = await _newest_delivery(db, known)
        if shown:
            print(render(await handle_line(ctx, email, "inbox")), file=stream_out)
            print("", file=stream_out)
        if interactive:
            print("Cyswllt — type help (or cymorth); Ctrl-D to leave.", file=stream_out)
        watcher = asyncio.create_task(_watch(db, known, shown, stream_out)) if interactive else None
        try:
            while True:
                if interactive:
                    print("lsb> ", end="", file=stream_out, flush=True)
                line = await asyncio.to_thread(stream_in.readline)
                if not line:
                    return 0
                line = line.strip()
                if not line:
                    continue
                if line in ("quit", "exit", "gadael"):
                    return 0
                print(render(await handle_line(ctx, email, line)), file=stream_out, flush=True)
                print("", file=stream_out)
        finally:
            if watcher is not None:
                watcher.cancel()
    finally:
        await db.dispose()


async def _newest_delivery(db, person) -> int:
    from handlers.inbox import delivered

    async with db.session() as session:
        rows = await delivered(session, person, limit=1)
    return rows[0].id if rows else 0


async def _watch(db, person, seen: int, stream_out, every: float = 2.0) -> None:
    """Messages delivered to this person while they chat (a running service's outbox, or
    ``cyswllt outbox send``) are printed as they arrive."""
    from cyswllt.i18n import t
    from handlers.inbox import delivered
    from scheduler.messages import payload_reply

    while True:
        await asyncio.sleep(every)
        async with db.session() as session:
            rows = await delivered(session, person, after_id=seen, limit=20)
        if not rows:
            continue
        seen = max(row.id for row in rows)
        print(f"\n📬 {t(person.language, 'inbox.new')}", file=stream_out)
        for row in reversed(rows):
            try:
                print(render(payload_reply(row.payload or {}, row.language)), file=stream_out)
            except (KeyError, TypeError):
                continue
            print("", file=stream_out)
        print("lsb> ", end="", file=stream_out, flush=True)


async def handle_line(ctx: Context, email: str, line: str) -> Reply:
    from handlers.dispatch import handle

    return await handle(ctx, Command(platform="console", user_id=email, text=line))


def run_chat(settings, args) -> int:
    from storage.migrate import upgrade

    if settings.database_url.startswith("sqlite"):
        upgrade(settings.database_url)
    return asyncio.run(_chat(settings, args.as_email, args.board, sys.stdin, sys.stdout))
