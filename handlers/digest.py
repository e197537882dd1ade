"""``digest GROUP``: the consultation digest for a stakeholder group."""

from __future__ import annotations

from handlers.core import Reply
from handlers.turn import Turn


async def digest(turn: Turn) -> Reply:
    group = " ".join(turn.args).strip()
    if not group:
        return turn.reply(turn.t("handlers.digest_usage"))
    return turn.reply(turn.t("handlers.digest_unavailable", group=group))
