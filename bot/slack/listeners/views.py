"""A submitted modal becomes the command words its form stands for."""

from __future__ import annotations

from bot.slack.blocks import FORM_CALLBACK, fallback_text, render, submitted_command
from bot.slack.listeners import Bot


def register(bolt, bot: Bot) -> None:
    async def ack_now(ack):
        await ack()

    async def run(body, client):
        command, metadata = submitted_command(body["view"])
        user = body["user"]["id"]
        channel = metadata.get("channel")
        reply = await bot.run(user, command, channel, source="form")
        if channel and not channel.startswith("D"):
            await client.chat_postEphemeral(channel=channel, user=user, text=fallback_text(reply), blocks=render(reply))
        else:
            await client.chat_postMessage(channel=user, text=fallback_text(reply), blocks=render(reply),
                                          unfurl_links=False, parse="none", link_names=False)

    bolt.view(FORM_CALLBACK)(ack=ack_now, lazy=[run])
