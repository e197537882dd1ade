"""A neutral ``Reply`` as Slack Block Kit; forms as modals; submitted modals back to command words."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.slack.escape import literal, plain
from cyswllt.i18n import t
from handlers.core import Form, Reply

RAG_EMOJI = {"red": "🔴", "amber": "🟠", "green": "🟢", "complete": "✅"}
MAX_BLOCKS = 50
FORM_CALLBACK = "lsb_form"


def _literal(text: str, *, bold: bool = False) -> dict[str, Any]:
    """A rich-text run shown exactly as written: Slack reads no markup in it (no *bold*, no
    links, no mentions), so a citizen's ``*bold* _it_ ~strike~`` or backticks stay as typed."""
    element: dict[str, Any] = {"type": "text", "text": text}
    if bold:
        element["style"] = {"bold": True}
    return element


def _rich(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}


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
    """Block Kit for a reply. Every string of the reply is plain text (what a member or a citizen
    wrote among it), so it goes in rich-text runs, which Slack shows literally; our formatting is
    only structure — a bold run for a heading or a label, the RAG emoji, buttons."""
    blocks: list[dict[str, Any]] = []
    for n, section in enumerate(reply.sections):
        emoji, word = rag_mark(section.rag, reply.language)
        # The status fact (when there is one) carries the emoji beside its word; otherwise the text does.
        status = next((f for f in section.facts if word and f.value.lower().startswith(word.lower())), None)
        said = status is not None or (word and re.search(rf"\b{re.escape(word)}\b",
                                                         f"{section.heading or ''} {section.text}", re.IGNORECASE))
        mark = emoji if said or not word else f"{emoji} {word} ·"
        runs: list[dict[str, Any]] = []
        if section.heading or section.text:
            if mark:
                runs.append(_literal(mark + " "))
            if section.heading:
                runs.append(_literal(plain(section.heading, 3000), bold=True))
            if section.text:
                runs.append(_literal(("\n" if section.heading else "") + plain(section.text, 3000)))
        for fact in section.facts[:10]:
            if runs:
                runs.append(_literal("\n"))
            runs.append(_literal(plain(fact.label, 200) + ": ", bold=True))
            runs.append(_literal((emoji + " " if fact is status else "") + plain(fact.value, 2000)))
        if runs:
            blocks.append(_rich(runs))
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
        blocks.append(_rich([_literal(plain(reply.text or " ", 3000))]))
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - 1] + [_rich([_literal("…")])]
    return blocks


def fallback_text(reply: Reply) -> str:
    """The notification text: sent with ``mrkdwn=false``, and escaped as if it were read anyway."""
    return literal(plain(reply.text or " ", 3000))


def response_payload(reply: Reply) -> dict[str, Any]:
    """An answer through a request's response_url: ephemeral unless the reply is for everyone."""
    return {"text": fallback_text(reply), "blocks": render(reply),
            "response_type": "ephemeral" if reply.ephemeral else "in_channel",
            "replace_original": False, "unfurl_links": False, "unfurl_media": False}


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
