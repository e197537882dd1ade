"""A submitted modal becomes the command words its form stands for."""

from __future__ import annotations

import asyncio

from bot.slack.blocks import FORM_CALLBACK, fallback_text, render, result_view, submitted_command
from bot.slack.listeners import Bot

# Slack closes the connection after 3 s; a result ready within this shows in the modal itself.
IN_MODAL_BUDGET = 2.0


def register(bolt, bot: Bot) -> None:
    async def submit(ack, body, client):
        try:
            command, metadata = submitted_command(body.get("view") or {})
        except ValueError:  # private_metadata that is not ours
            await ack()
            return
        user = (body.get("user") or {}).get("id", "")
        channel = metadata.get("channel")
        work = asyncio.ensure_future(bot.run(user, command, channel, source="form"))
        done, _ = await asyncio.wait({work}, timeout=IN_MODAL_BUDGET)
        if work in done:
            # The outcome (a confirmation, or a refusal saying who may update) replaces the form.
            reply = work.result()
            await ack(response_action="update", view=result_view(reply, body.get("view") or {}))
        else:
            await ack()
            reply = await work
        # The result also stays where the member was working: ephemeral in the channel, or their DM.
        if channel and not channel.startswith("D"):
            await client.chat_postEphemeral(channel=channel, user=user, text=fallback_text(reply),
                                            blocks=render(reply), parse="none", link_names=False, mrkdwn=False)
        else:
            await client.chat_postMessage(channel=user, text=fallback_text(reply), blocks=render(reply),
                                          unfurl_links=False, unfurl_media=False, parse="none", link_names=False,
                                          mrkdwn=False)

    bolt.view(FORM_CALLBACK)(submit)
