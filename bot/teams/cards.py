"""A neutral ``Reply`` as an Adaptive Card (1.5), and card submissions back into command words.

Buttons are ``Action.Submit`` carrying ``{"cyswllt": "<command words>"}``; a button with a
form becomes an ``Action.ShowCard`` whose inputs submit ``{"cyswllt_form": template,
"cyswllt_fields": {field: input id}}`` plus the input values, which ``command_from_submit``
turns back into the words the form's template describes.
"""

from __future__ import annotations

import re
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, Attachment
from microsoft_agents.hosting.msteams import TeamsActivity

from bot.teams.escape import escape_markdown, plain
from cyswllt.i18n import t
from handlers.core import Button, Form, FormField, Reply, Section

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
SUBMIT_KEY = "cyswllt"
FORM_KEY = "cyswllt_form"
FIELDS_KEY = "cyswllt_fields"
MAX_NOTE = 2000
_PLACEHOLDER = re.compile(r"\{(\w{1,40})\}")

# RAG shown as a colour, an emoji and a word, so it never relies on colour alone.
RAG_COLOUR = {"red": "Attention", "amber": "Warning", "green": "Good", "complete": "Accent"}
RAG_EMOJI = {"red": "🔴", "amber": "🟠", "green": "🟢", "complete": "✅"}
BUTTON_STYLE = {"primary": "positive", "danger": "destructive"}


def rag_block(language: str, rag: str | None) -> dict[str, Any]:
    if rag in RAG_COLOUR:
        word = t(language, f"common.rag_{rag}")
        return {"type": "TextBlock", "text": f"{RAG_EMOJI[rag]} {escape_markdown(word)}", "color": RAG_COLOUR[rag],
                "weight": "Bolder", "wrap": True, "spacing": "Small"}
    return {"type": "TextBlock", "text": "⚪ " + escape_markdown(t(language, "common.rag_none")), "isSubtle": True,
            "wrap": True, "spacing": "Small"}


def _input(language: str, f: FormField, input_id: str) -> dict[str, Any]:
    common: dict[str, Any] = {"id": input_id, "label": plain(f.label), "isRequired": not f.optional}
    if not f.optional:
        common["errorMessage"] = t(language, "teams.required")
    if f.kind == "choice":
        element = {"type": "Input.ChoiceSet", "style": "expanded",
                   "choices": [{"title": plain(c.label), "value": c.value} for c in f.choices], **common}
    elif f.kind == "date":
        element = {"type": "Input.Date", **common}
    else:
        element = {"type": "Input.Text", "isMultiline": f.multiline, "maxLength": MAX_NOTE, **common}
    if f.initial:
        element["value"] = f.initial
    return element


def _form_card(language: str, form: Form, prefix: str) -> dict[str, Any]:
    ids = {f.name: f"{prefix}_{f.name}" for f in form.fields}
    return {
        "type": "AdaptiveCard",
        "body": [{"type": "TextBlock", "text": escape_markdown(form.title), "weight": "Bolder", "wrap": True}]
        + [_input(language, f, ids[f.name]) for f in form.fields],
        "actions": [{"type": "Action.Submit", "title": plain(form.submit_label), "style": "positive",
                     "data": {FORM_KEY: form.command, FIELDS_KEY: ids}}],
    }


def _action(language: str, button: Button, prefix: str) -> dict[str, Any]:
    if button.form is not None:
        action = {"type": "Action.ShowCard", "title": plain(button.label), "card": _form_card(language, button.form, prefix)}
    else:
        action = {"type": "Action.Submit", "title": plain(button.label), "data": {SUBMIT_KEY: button.command}}
    if button.style in BUTTON_STYLE:
        action["style"] = BUTTON_STYLE[button.style]
    return action


def _section(language: str, section: Section, index: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if section.heading:
        items.append({"type": "TextBlock", "text": escape_markdown(section.heading), "weight": "Bolder",
                      "size": "Medium", "wrap": True, "style": "heading"})
    if section.rag is not None:
        items.append(rag_block(language, section.rag))
    if section.text:
        items.append({"type": "TextBlock", "text": escape_markdown(section.text), "wrap": True})
    if section.facts:
        items.append({"type": "FactSet", "facts": [{"title": escape_markdown(f.label), "value": escape_markdown(f.value)}
                                                  for f in section.facts]})
    if section.buttons:
        items.append({"type": "ActionSet", "actions": [_action(language, b, f"s{index}b{n}")
                                                       for n, b in enumerate(section.buttons)]})
    return [{"type": "Container", "items": items, "separator": index > 0, "spacing": "Medium" if index else "None"}] if items else []


def render(reply: Reply) -> dict[str, Any]:
    """The reply as an Adaptive Card; every string from the reply is escaped."""
    body: list[dict[str, Any]] = []
    for index, section in enumerate(reply.sections):
        body.extend(_section(reply.language, section, index))
    if not reply.sections and reply.text:
        body.append({"type": "TextBlock", "text": escape_markdown(reply.text), "wrap": True})
    if reply.image_url and reply.image_url.startswith(("https://", "http://")):
        body.append({"type": "Image", "url": reply.image_url, "altText": plain(reply.image_alt or t(reply.language, "teams.image_alt"))})
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "lang": reply.language,
        "fallbackText": escape_markdown(reply.text),
        "msteams": {"width": "Full"},
        "body": body,
    }


def summary(reply: Reply) -> str:
    """A one-line preview for notifications (plain text, mentions neutralised)."""
    first = next((line.strip() for line in reply.text.splitlines() if line.strip()), "")
    return plain(first[:200])


def card_activity(reply: Reply, *, alert: bool = False) -> Activity:
    """The reply as a message activity; ``alert`` also puts it in the member's Teams activity feed
    (a reminder sent to a personal chat, which they may not have open)."""
    activity = TeamsActivity(
        type=ActivityTypes.message,
        summary=summary(reply),
        locale="cy-GB" if reply.language == "cy" else "en-GB",
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=render(reply))],
    )
    if alert:
        activity.notify_user()
    return activity


def command_from_submit(value: Any) -> tuple[str, str] | None:
    """Command words and their source ("button" / "form") from a card submission, or None."""
    if not isinstance(value, dict):
        return None
    words = value.get(SUBMIT_KEY)
    if isinstance(words, str) and words.strip():
        return words.strip(), "button"
    template = value.get(FORM_KEY)
    fields = value.get(FIELDS_KEY)
    if not isinstance(template, str) or not isinstance(fields, dict) or len(template) > MAX_NOTE:
        return None

    def fill(match: re.Match) -> str:
        input_id = fields.get(match.group(1))
        raw = value.get(input_id, "") if isinstance(input_id, str) else ""
        return re.sub(r"[ \t]+", " ", str(raw)).strip()[:MAX_NOTE]

    # The template came back from the client, so it is data, not a format string: only plain
    # ``{name}`` placeholders are filled, in one pass (a ``{x:>500000000}`` stays as typed, and
    # braces inside a note are never read again).
    words = _PLACEHOLDER.sub(fill, template)
    return re.sub(r"\s+$", "", words), "form"
