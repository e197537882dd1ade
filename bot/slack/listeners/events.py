"""Events: the App Home tab shows the member's own actions and the board's RAG picture."""

from __future__ import annotations

from bot.slack.blocks import render
from bot.slack.listeners import Bot


def register(bolt, bot: Bot) -> None:
    async def ack_now(ack):
        await ack()

    async def publish_home(event, client):
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        reply = await bot.run(user, "home", None, source="event")
        await client.views_publish(user_id=user, view={"type": "home", "blocks": render(reply)[:100]})

    bolt.event("app_home_opened")(ack=ack_now, lazy=[publish_home])
