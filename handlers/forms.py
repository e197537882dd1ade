"""The forms a button opens (a modal or a card, as the platform draws them), built in one place so a reminder's
"Update now" and a list's "Update" ask the same questions. Like ``handlers.core`` these are plain
shapes: the scheduler draws them into reminders too."""

from __future__ import annotations

from functools import cache

from cyswllt.i18n import t
from handlers.core import Choice, Form, FormField

RAG_ORDER = ("red", "amber", "green", "complete")


@cache
def update_form(language: str, ref: str) -> Form:
    """RAG, what happened (a red rating needs it), and what the public may read (optional)."""
    cy = language == "cy"
    verb, marker = ("diweddaru", "cyhoeddus") if cy else ("update", "public")
    return Form(
        title=t(language, "handlers.form_update_title", ref=ref),
        submit_label=t(language, "handlers.form_submit"),
        command=f"{verb} {ref} {{rag}} {{note}} {marker}: {{public}}",
        fields=[
            FormField(name="rag", label=t(language, "handlers.field_rag"), kind="choice",
                      choices=[Choice(label=t(language, f"common.rag_{r}"), value=r) for r in RAG_ORDER]),
            FormField(name="note", label=t(language, "handlers.field_note"), kind="text", multiline=True),
            FormField(name="public", label=t(language, "handlers.field_public"), kind="text", multiline=True,
                      optional=True),
        ],
    )


@cache
def scrutiny_form(language: str, ref: str) -> Form:
    """A question for the scrutiny committee about ``ref``, and whether the asker may be named."""
    cy = language == "cy"
    verb, marker = ("craffu", "enw") if cy else ("scrutiny", "named")
    return Form(
        title=t(language, "handlers.form_scrutiny_title", ref=ref),
        submit_label=t(language, "handlers.form_scrutiny_submit"),
        command=f"{verb} {ref} {{text}} {marker}: {{named}}",
        fields=[
            FormField(name="text", label=t(language, "handlers.field_question"), kind="text", multiline=True),
            FormField(name="named", label=t(language, "handlers.field_named"), kind="choice",
                      choices=[Choice(label=t(language, "handlers.named_no"), value="no"),
                               Choice(label=t(language, "handlers.named_yes"), value="yes")],
                      initial="no"),
        ],
    )
