"""Button clicks: a form opens a modal; anything else runs the button's command words."""

from __future__ import annotations

import json
import re

from bot.slack.blocks import modal
from bot.slack.listeners import Bot, work_of
from handlers.core import Choice, Form, FormField
from handlers.words import verb_of


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

    async def click(ack, body, context):
        await ack()
        bot.after_ack(bot.perform(context.get("inbound_id"), work_of(body)))

    bolt.action(re.compile(r"^lsbform:"))(open_form)
    bolt.action(re.compile(r"^lsb:"))(click)
