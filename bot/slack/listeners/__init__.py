"""Bolt listeners by kind (commands, actions, views, events), each a small ``register``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.slack.backstage import Backstage
from bot.slack.blocks import fallback_text, render
from handlers.core import Command, Context, Reply

log = logging.getLogger("cyswllt.slack")


@dataclass
class Bot:
    """What the listeners share: how to run words through the handlers and answer afterwards."""

    ctx: Context
    # Wakes the outbox worker: a command may have queued a notice that should go out now.
    wake_outbox: Callable[[], None] = field(default=lambda: None)
    backstage: Backstage = field(default_factory=Backstage)
    http: aiohttp.ClientSession | None = None  # pooled, for response_url posts; set while the app runs
    pending: set[asyncio.Task] = field(default_factory=set)

    async def run(self, user_id: str, text: str, channel_id: str | None, source: str = "command") -> Reply:
        from handlers.dispatch import handle

        # Direct messages (D…) are not channels a board can be linked to.
        channel = channel_id if channel_id and not channel_id.startswith("D") else None
        reply = await handle(self.ctx, Command("slack", user_id, text, channel, source))
        self.wake_outbox()
        return reply

    def after_ack(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` once the ack has gone, when acks are not waiting; failures are logged."""
        task = asyncio.get_running_loop().create_task(self._in_turn(work))
        self.pending.add(task)
        task.add_done_callback(self._finished)

    async def _in_turn(self, work: Coroutine[Any, Any, None]) -> None:
        async with self.backstage.working():
            await work

    def _finished(self, task: asyncio.Task) -> None:
        self.pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack work after the ack failed", exc_info=task.exception())

    async def respond(self, response_url: str, reply: Reply, *, thread_ts: str | None = None) -> None:
        """Answer through the request's response_url (valid for 30 minutes, up to 5 answers)."""
        payload: dict[str, Any] = {"text": fallback_text(reply), "blocks": render(reply),
                                   "response_type": "ephemeral" if reply.ephemeral else "in_channel",
                                   "replace_original": False, "unfurl_links": False, "unfurl_media": False}
        if thread_ts:
            payload["thread_ts"] = thread_ts
        if not response_url:
            return
        if self.http is None or self.http.closed:
            async with aiohttp.ClientSession() as http:
                await self._post(http, response_url, payload)
        else:
            await self._post(self.http, response_url, payload)

    async def _post(self, http: aiohttp.ClientSession, url: str, payload: dict[str, Any]) -> None:
        async with http.post(url, json=payload, timeout=aiohttp.ClientTimeout(total=10)) as response:
            if response.status >= 300:
                log.warning("response_url answered %s: %s", response.status, (await response.text())[:200])

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
