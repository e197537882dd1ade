"""Bolt listeners by kind (commands, actions, views, events), each a small ``register``.

Every request is written to the inbound ledger before it is acknowledged (``bot.slack.ledger``).
Work after the acknowledgement answers through the outbox: the answer is queued in the same
transaction as the change the words made and the ledger's "done", so a crash after the ack loses
nothing — either nothing happened and the ledger runs the work again, or the answer is queued
and the outbox delivers it. The outbox is woken for answers at once, in a lane of their own.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.slack.backstage import Backstage
from handlers.core import Command, Context, Reply
from scheduler.outbox import enqueue
from storage import inbound

log = logging.getLogger("cyswllt.slack")

HISTORY = re.compile(r"^(history|hanes)\b", re.IGNORECASE)
SOURCES = {"command": "command", "click": "button", "form": "form"}


def work_of(body: dict[str, Any]) -> dict[str, Any] | None:
    """What a request asks to be done after its ack, in a few fields (a click carries the whole
    message, up to a megabyte, of which only this is needed); None when nothing is run after it."""
    from bot.slack.blocks import FORM_CALLBACK, submitted_command

    if body.get("command") == "/lsb":
        return {"kind": "command", "user": str(body.get("user_id") or ""), "text": str(body.get("text") or ""),
                "channel": body.get("channel_id"), "response_url": str(body.get("response_url") or "")}
    user = str((body.get("user") or {}).get("id") or "") if isinstance(body.get("user"), dict) else ""
    if body.get("type") == "block_actions":
        actions = body.get("actions") or []
        action = actions[0] if actions and isinstance(actions[0], dict) else {}
        if not str(action.get("action_id", "")).startswith("lsb:"):
            return None
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        return {"kind": "click", "user": user, "text": str(action.get("value") or ""),
                "channel": (body.get("channel") or {}).get("id"), "response_url": str(body.get("response_url") or ""),
                "message_ts": message.get("ts"), "thread_ts": message.get("thread_ts"),
                "ephemeral": bool((body.get("container") or {}).get("is_ephemeral"))}
    view = body.get("view")
    if body.get("type") == "view_submission" and isinstance(view, dict) and view.get("callback_id") == FORM_CALLBACK:
        try:
            command, metadata = submitted_command(view)
        except (ValueError, AttributeError):  # private_metadata that is not ours
            return None
        return {"kind": "form", "user": user, "text": command, "channel": metadata.get("channel")}
    return None


def answer_to(work: dict[str, Any]) -> dict[str, Any]:
    """Where the answer goes: the request's response_url; the thread of the message clicked (the
    update history belongs with it — not under an ephemeral message, which Slack cannot thread);
    after a modal, an ephemeral message in the channel the form came from, or the member's DM."""
    user, channel = work.get("user") or "", work.get("channel")
    if work["kind"] == "form":
        if channel and not channel.startswith("D"):
            return {"ephemeral": channel, "user": user}
        return {"dm": user, "user": user}
    if (work["kind"] == "click" and HISTORY.match(work.get("text") or "") and work.get("message_ts") and channel
            and not work.get("ephemeral")):
        return {"channel": channel, "thread_ts": work.get("thread_ts") or work["message_ts"], "user": user}
    return {"response_url": work.get("response_url") or "", "user": user}


@dataclass
class Bot:
    """What the listeners share: how to run words through the handlers and answer afterwards."""

    ctx: Context
    # Wakes the outbox worker: ``urgent`` for a member's own answer, which goes in a lane of its own.
    wake_outbox: Callable[..., None] = field(default=lambda urgent=False: None)
    backstage: Backstage = field(default_factory=Backstage)
    pending: set[asyncio.Task] = field(default_factory=set)

    async def run(self, user_id: str, text: str, channel_id: str | None, source: str = "command", *,
                  answer=None) -> Reply:
        from handlers.dispatch import handle

        # Direct messages (D…) are not channels a board can be linked to.
        channel = channel_id if channel_id and not channel_id.startswith("D") else None
        reply = await handle(self.ctx, Command("slack", user_id, text, channel, source), answer=answer)
        self.wake_outbox(urgent=answer is not None)
        return reply

    def answering(self, request_id: int | None, to: dict[str, Any]):
        """The handlers' hook: the answer joins the outbox, and the request is marked done, in the
        transaction that made the command's change."""
        async def answer(session, reply: Reply) -> None:
            key = f"answer:slack:{request_id}" if request_id is not None else f"answer:slack:{id(reply)}:{reply.text[:40]}"
            await enqueue(session, key=key, platform="slack", channel=f"answer:{request_id}",
                          payload={"reply": reply.to_dict(), "answer": to}, language=reply.language, kind="answer",
                          recipient_id=None)
            await inbound.done(session, request_id)
        return answer

    async def perform(self, request_id: int | None, work: dict[str, Any]) -> Reply:
        """Run a request's work and queue its answer (from a listener after the ack, or again by the
        ledger after a crash)."""
        return await self.run(work.get("user") or "", work.get("text") or "", work.get("channel"),
                              SOURCES[work["kind"]], answer=self.answering(request_id, answer_to(work)))

    def after_ack(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` once the ack has gone, when acks are not waiting; failures are logged."""
        task = asyncio.get_running_loop().create_task(self._in_turn(work))
        self.pending.add(task)
        task.add_done_callback(self._finished)

    async def _in_turn(self, work: Coroutine[Any, Any, Any]) -> None:
        async with self.backstage.working():
            await work

    def _finished(self, task: asyncio.Task) -> None:
        self.pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack work after the ack failed", exc_info=task.exception())

    async def drain(self, timeout: float = 5.0) -> None:
        """On shutdown: let answers already under way finish, briefly."""
        if self.pending:
            await asyncio.wait(set(self.pending), timeout=timeout)


def register_all(bolt, bot: Bot) -> None:
    from bot.slack.listeners import actions, commands, events, views

    for module in (commands, actions, views, events):
        module.register(bolt, bot)
    register_the_rest(bolt)
def register_the_rest(bolt) -> None:
    """Anything no listener above handles is acknowledged and ignored: Bolt would answer 404, which
    Slack shows the member as an error (a button of an old message, an event the app subscribes to)."""
    import re

    anything = re.compile(".*")

    async def ignore(ack):
        await ack()

    async def ignore_event(event):
        log.debug("Slack event %s ignored", (event or {}).get("type"))

    bolt.action(anything)(ignore)
    bolt.shortcut(anything)(ignore)
    bolt.view(anything)(ignore)
    bolt.view_closed(anything)(ignore)
    bolt.options(anything)(ignore)
    bolt.command(anything)(ignore)
    bolt.event(anything)(ignore_event)
