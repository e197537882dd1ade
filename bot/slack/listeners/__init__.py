"""Bolt listeners by kind (commands, actions, views, events), each a small ``register``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from handlers.core import Command, Context, Reply

log = logging.getLogger("cyswllt.slack")


@dataclass
class Bot:
    """What the listeners share: how to run words through the handlers."""

    ctx: Context
    # Wakes the outbox worker: a command may have queued a notice that should go out now.
    wake_outbox: Callable[[], None] = field(default=lambda: None)

    async def run(self, user_id: str, text: str, channel_id: str | None, source: str = "command") -> Reply:
        from handlers.dispatch import handle

        # Direct messages (D…) are not channels a board can be linked to.
        channel = channel_id if channel_id and not channel_id.startswith("D") else None
        reply = await handle(self.ctx, Command("slack", user_id, text, channel, source))
        self.wake_outbox()
        return reply


def register_all(bolt, bot: Bot) -> None:
    from bot.slack.listeners import actions, commands, events, views

    for module in (commands, actions, views, events):
        module.register(bolt, bot)
