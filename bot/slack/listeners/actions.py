"""Button clicks: a form opens a modal; anything else runs the button's command words."""

from __future__ import annotations

import json
import re

from bot.slack.blocks import fallback_text, modal, render
from bot.slack.listeners import Bot
from handlers.core import Choice, Form, FormField
from handlers.words import verb_of

HISTORY = re.compile(r"^(history|hanes)\b", re.IGNORECASE)


def _form(value: str) -> Form:
    data = json.loads(value)
    fields = [FormField(**{**f, "choices": [Choice(**c) for c in f.get("choices", [])]}) for f in data["fields"]]
    return Form(**{**data, "fields": fields})


def register(bolt, bot: Bot) -> None:
    async def open_form(ack, body, client):
        await ack()
        action = body["actions"][0]
        form = _form(action["value"])
        words = form.command.split()
        language = (verb_of(words[0])[1] if words else None) or "en"
        channel = (body.get("channel") or {}).get("id")
        # The trigger_id expires in 3 seconds, so the modal opens now, not after other work.
        await client.views_open(trigger_id=body["trigger_id"], view=modal(form, language, {"channel": channel}))

    async def run_click(body: dict, client) -> None:
        action = body["actions"][0]
        words = action.get("value", "")
        channel = (body.get("channel") or {}).get("id")
        reply = await bot.run(body["user"]["id"], words, channel, source="button")
        message = body.get("message") or {}
        in_thread = HISTORY.match(words) and message.get("ts") and channel \
            and not (body.get("container") or {}).get("is_ephemeral")
        if in_thread:
            # The update history belongs with the message it is about.
            await client.chat_postMessage(channel=channel, thread_ts=message.get("thread_ts") or message["ts"],
                                          text=fallback_text(reply), blocks=render(reply),
                                          unfurl_links=False, unfurl_media=False, parse="none",
                                          link_names=False, mrkdwn=False)
        else:
            await bot.respond(body.get("response_url", ""), reply)

    async def click(ack, body, client):
        await ack()
        bot.after_ack(run_click(body, client))

    bolt.action(re.compile(r"^lsbform:"))(open_form)
    bolt.action(re.compile(r"^lsb:"))(click)
