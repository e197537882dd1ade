"""A neutral ``Reply`` as Slack Block Kit; forms as modals; submitted modals back to command words."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.slack.escape import mrkdwn, plain
from cyswllt.i18n import t
from handlers.core import Form, Reply

RAG_EMOJI = {"red": "🔴", "amber": "🟠", "green": "🟢", "complete": "✅"}
MAX_BLOCKS = 50
FORM_CALLBACK = "lsb_form"


def _text(value: str, limit: int = 3000) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": plain(mrkdwn(value), limit), "verbatim": True}


def button_value(command: str, form: Form | None) -> tuple[str, str]:
    """(action_id prefix, value) for a button: forms travel as JSON in the value."""
    if form is not None:
        from dataclasses import asdict

        encoded = json.dumps(asdict(form), ensure_ascii=False, separators=(",", ":"))
        if len(encoded) <= 2000:
            return "lsbform", encoded
    return "lsb", command[:2000]


def rag_mark(rag: str | None, language: str) -> tuple[str, str]:
    """(emoji, word) for a RAG status: the colour is never the only signal."""
    if rag not in RAG_EMOJI:
        return "", ""
    return RAG_EMOJI[rag], t(language, f"common.rag_{rag}")


def render(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for n, section in enumerate(reply.sections):
        emoji, word = rag_mark(section.rag, reply.language)
        # The status fact (when there is one) carries the emoji beside its word; otherwise the text does.
        status = next((f for f in section.facts if word and f.value.lower().startswith(word.lower())), None)
        said = status is not None or (word and re.search(rf"\b{re.escape(word)}\b",
                                                         f"{section.heading or ''} {section.text}", re.IGNORECASE))
        mark = emoji if said or not word else f"{emoji} {word} ·"
        lines = []
        if section.heading:
            lines.append(f"{mark} *{mrkdwn(section.heading)}*".strip())
        if section.text:
            lines.append(mrkdwn(section.text) if section.heading else f"{mark} {mrkdwn(section.text)}".strip())
        block: dict[str, Any] = {"type": "section"}
        if lines:
            block["text"] = {"type": "mrkdwn", "text": plain("\n".join(lines), 3000), "verbatim": True}
        if section.facts:
            block["fields"] = [{"type": "mrkdwn", "verbatim": True,
                                "text": plain(f"*{mrkdwn(f.label)}*\n{emoji + ' ' if f is status else ''}{mrkdwn(f.value)}", 2000)}
                               for f in section.facts[:10]]
        if "text" in block or "fields" in block:
            blocks.append(block)
        if section.buttons:
            elements = []
            for i, b in enumerate(section.buttons[:5]):
                prefix, value = button_value(b.command, b.form)
                element = {"type": "button", "action_id": f"{prefix}:{n}:{i}",
                           "text": {"type": "plain_text", "text": plain(b.label, 75), "emoji": True}, "value": value}
                if b.style:
                    element["style"] = b.style
                elements.append(element)
            blocks.append({"type": "actions", "elements": elements})
    if not blocks:
        blocks.append({"type": "section", "text": _text(reply.text or " ")})
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - 1] + [{"type": "context", "elements": [_text("…")]}]
    return blocks


def fallback_text(reply: Reply) -> str:
    return plain(mrkdwn(reply.text or " "), 3000)


def modal(form: Form, language: str, metadata: dict[str, Any]) -> dict[str, Any]:
    blocks = []
    for field in form.fields:
        if field.kind == "choice":
            options = [{"text": {"type": "plain_text", "text": plain(c.label, 75)}, "value": c.value}
                       for c in field.choices]
            element = {"type": "radio_buttons", "action_id": field.name, "options": options}
            initial = next((o for o in options if o["value"] == field.initial), None)
            if initial is not None:
                element["initial_option"] = initial
        elif field.kind == "date":
            element = {"type": "datepicker", "action_id": field.name}
        else:
            element = {"type": "plain_text_input", "action_id": field.name, "multiline": field.multiline,
                       "max_length": 2000}
        blocks.append({"type": "input", "block_id": field.name, "optional": field.optional,
                       "label": {"type": "plain_text", "text": plain(field.label, 2000)}, "element": element})
    return {
        "type": "modal", "callback_id": FORM_CALLBACK,
        "title": {"type": "plain_text", "text": plain(form.title, 24)},
        "submit": {"type": "plain_text", "text": plain(form.submit_label, 24)},
        "close": {"type": "plain_text", "text": t(language, "slack.cancel")},
        "private_metadata": json.dumps({**metadata, "command": form.command}, ensure_ascii=False)[:3000],
        "blocks": blocks,
    }


def submitted_command(view: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The command words a submitted modal stands for, and its metadata."""
    metadata = json.loads(view.get("private_metadata") or "{}")
    values: dict[str, str] = {}
    for actions in (view.get("state") or {}).get("values", {}).values():
        for name, state in actions.items():
            value = (state.get("selected_option") or {}).get("value") or state.get("selected_date") \
                or state.get("value") or ""
            # Only free text keeps its line breaks; a choice or a date is one word.
            values[name] = str(value) if name in ("note", "text", "public") else " ".join(str(value).split())
    # One pass, so a placeholder typed inside a note is left as the member wrote it.
    command = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), ""), metadata.get("command", ""))
    return command, metadata


def result_view(reply: Reply, submitted: dict[str, Any]) -> dict[str, Any]:
    """The modal after a submission: what happened, in place of the form."""
    title = (submitted.get("title") or {}).get("text") or "Cyswllt"
    return {"type": "modal", "callback_id": FORM_CALLBACK + "_done",
            "title": {"type": "plain_text", "text": plain(title, 24)},
            "close": {"type": "plain_text", "text": t(reply.language, "slack.close")},
            "blocks": render(reply)[:100]}
