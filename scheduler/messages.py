"""What scheduled messages look like, and how an outbox payload becomes the reply a sender draws.

A sweep can queue thousands of reminders, and every one carries the same three buttons and
update form, differing only in the action's ref. So a reminder is stored small,
``{"reminder": {"text", "ref", "rag"}}`` in the row's language, and its buttons and form are
drawn when it is delivered. Every other chat message is stored whole, as ``{"reply": ...}``.

Reminders and escalations that come due together for one person are sent as one message (the
delivery worker bundles up to ``MAX_BUNDLE`` rows): ``{"bundle": [payload, ...], "keys": [...]}``,
each part keeping its own buttons.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cyswllt.i18n import normalise_language, t
from handlers.core import Button, Reply, Section
from handlers.forms import update_form

# Outbox kinds that may share one message with others of these kinds to the same person.
BUNDLED_KINDS = ("reminder", "escalation")
MAX_BUNDLE = 10


@cache
def _labels(language: str) -> dict[str, Any]:
    """The words every reminder in a language shares, looked up once."""
    return {
        "submit": t(language, "handlers.form_submit"),
        "rag": t(language, "handlers.field_rag"),
        "note": t(language, "handlers.field_note"),
        "choices": [(t(language, f"common.rag_{r}"), r) for r in ("red", "amber", "green", "complete")],
        "update": t(language, "reminders.button_update"),
        "tomorrow": t(language, "reminders.button_tomorrow"),
        "next_week": t(language, "reminders.button_next_week"),
    }


def reminder_reply(language: str, ref: str, rag: str | None, message: str) -> Reply:
    """A reminder about one action: the message, then "Update now", "Remind me tomorrow" and
    "next week" — the commands a member would type, in their language."""
    language = normalise_language(language)
    cy = language == "cy"
    words = _labels(language)
    verb = "diweddaru" if cy else "update"
    form = update_form(language, ref)
    snooze = "oedi" if cy else "snooze"
    buttons = [
        Button(words["update"], f"{verb} {ref}", style="primary", form=form),
        Button(words["tomorrow"], f"{snooze} {ref} {'yfory' if cy else 'tomorrow'}"),
        Button(words["next_week"], f"{snooze} {ref} {'wythnos-nesaf' if cy else 'next-week'}"),
    ]
    return Reply(language=language, text=message, ephemeral=False,
                 sections=[Section(text=message, ref=ref, rag=rag, buttons=buttons)])


def reminder_payload(message: str, ref: str, rag: str | None) -> dict[str, Any]:
    """The stored form of ``reminder_reply``: the row's language completes it."""
    return {"reminder": {"text": message, "ref": ref, "rag": rag}}


def plain_reply(language: str, message: str, ref: str) -> Reply:
    return Reply(language=language, text=message, ephemeral=False, sections=[Section(text=message, ref=ref)])


def payload_reply(payload: dict[str, Any], language: str) -> Reply:
    """The reply an outbox payload stands for. Raises KeyError or TypeError when it is not a
    chat message (senders dead-letter those)."""
    if "reminder" in payload:
        reminder = payload["reminder"]
        return reminder_reply(language, reminder["ref"], reminder.get("rag"), reminder["text"])
    if "bundle" in payload:
        return _bundle_reply(payload["bundle"], language)
    return Reply.from_dict(payload["reply"])


def _bundle_reply(parts: list[dict[str, Any]], language: str) -> Reply:
    """Several reminders as one message. Two about one action (overdue, and the meeting chaser)
    become one entry with both sentences and one set of buttons."""
    by_ref: dict[str, list[dict[str, Any]]] = {}
    others: list[Section] = []
    for part in parts:
        if "reminder" in part:
            by_ref.setdefault(part["reminder"]["ref"], []).append(part["reminder"])
        else:
            others.extend(payload_reply(part, language).sections)
    sections = [reminder_reply(language, ref, said[0].get("rag"), "\n".join(r["text"] for r in said)).sections[0]
                for ref, said in by_ref.items()]
    intro = t(language, "reminders.bundle", count=len(sections) + len(others))
    return Reply(language=normalise_language(language), text=intro, ephemeral=False,
                 sections=[Section(text=intro), *sections, *others])
