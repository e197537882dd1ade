"""Events: the App Home tab shows the member's own actions and the board's RAG picture."""

from __future__ import annotations

from bot.slack.blocks import render
from bot.slack.listeners import Bot


def register(bolt, bot: Bot) -> None:
    async def publish_home(user: str, client) -> None:
        # Not an answer: opening the tab again draws it again, so it is not kept in the outbox.
        reply = await bot.run(user, "home", None, source="event")
        await client.views_publish(user_id=user, view={"type": "home", "blocks": render(reply)[:100]})

    async def home_opened(event, client):
        # Bolt acknowledges events by itself before this runs.
        if event.get("tab", "home") == "home":
            bot.after_ack(publish_home(event["user"], client))

    bolt.event("app_home_opened")(home_opened)
