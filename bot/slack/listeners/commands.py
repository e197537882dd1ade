"""``/lsb``: acknowledged at once; the work runs after the ack and answers via response_url."""

from __future__ import annotations

from bot.slack.blocks import fallback_text, render
from bot.slack.listeners import Bot


def register(bolt, bot: Bot) -> None:
    async def ack_now(ack):
        await ack()

    async def run(body, respond):
        reply = await bot.run(body.get("user_id", ""), body.get("text", ""), body.get("channel_id"))
        await respond(text=fallback_text(reply), blocks=render(reply),
                      response_type="ephemeral" if reply.ephemeral else "in_channel", replace_original=False,
                      unfurl_links=False, unfurl_media=False)

    bolt.command("/lsb")(ack=ack_now, lazy=[run])
