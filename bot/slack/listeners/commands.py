"""``/lsb``: acknowledged at once; the handlers run after the ack and answer via response_url."""

from __future__ import annotations

from bot.slack.listeners import Bot


def register(bolt, bot: Bot) -> None:
    async def answer(body: dict) -> None:
        reply = await bot.run(body.get("user_id", ""), body.get("text", ""), body.get("channel_id"))
        await bot.respond(body.get("response_url", ""), reply)

    async def lsb(ack, body):
        # Slack allows 3 seconds for this empty ack; the work starts once it has gone.
        await ack()
        bot.after_ack(answer(body))

    bolt.command("/lsb")(lsb)
