"""A submitted modal becomes the command words its form stands for."""

from __future__ import annotations

import asyncio

from bot.slack.blocks import FORM_CALLBACK, result_view
from bot.slack.listeners import Bot, work_of

# Slack closes the connection after 3 s; a result ready within this shows in the modal itself.
IN_MODAL_BUDGET = 2.0


def register(bolt, bot: Bot) -> None:
    async def submit(ack, body, context):
        work = work_of(body)
        if work is None:  # private_metadata that is not ours
            await ack()
            return
        # The outcome also stays where the member was working (ephemeral in the channel, or their
        # DM), queued through the outbox with the change it reports.
        running = asyncio.ensure_future(bot.perform(context.get("inbound_id"), work))
        done, _ = await asyncio.wait({running}, timeout=IN_MODAL_BUDGET)
        if running in done:
            # The outcome (a confirmation, or a refusal saying who may update) replaces the form.
            await ack(response_action="update", view=result_view(running.result(), body.get("view") or {}))
        else:
            await ack()
            await running

    bolt.view(FORM_CALLBACK)(submit)
