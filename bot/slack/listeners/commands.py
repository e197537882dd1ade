"""``/lsb``: acknowledged at once; the handlers run after the ack and answer through the outbox."""

from __future__ import annotations

from bot.slack.listeners import Bot, work_of


def register(bolt, bot: Bot) -> None:
    async def lsb(ack, body, context):
        # Slack allows 3 seconds for this empty ack; the work starts once it has gone.
        await ack()
        bot.after_ack(bot.perform(context.get("inbound_id"), work_of(body)))

    bolt.command("/lsb")(lsb)
