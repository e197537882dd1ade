"""The platform-neutral shape of a command and its reply.

Each chat platform under ``bot/`` (and the local console) turns its input into a ``Command`` and renders
the ``Reply`` their own way (Block Kit, Adaptive Card, terminal text). Every string in a
``Reply`` is plain text — user-supplied text included — so each adapter escapes *all* of
it for its own markup and adds formatting itself; nothing in a reply can ping or inject.
Buttons and forms carry command words, so a click is just another ``Command``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


def _plain(value: Any) -> Any:
    """A dataclass tree as plain dicts and lists (like ``asdict``, without its deep copies)."""
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        return {name: _plain(getattr(value, name)) for name in fields}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Command:
    platform: str  # a registered platform's name (cyswllt.platforms), e.g. "console"
    user_id: str  # the person's id on that platform (for the console, their email)
    text: str  # the words after /lsb, e.g. "update A-12 red Funding agreed"
    channel_id: str | None = None  # the platform's channel or conversation, when not a DM
    source: str = "command"  # "command" | "button" | "form" — how the words arrived
    # How many list items fit one message where the words came from (None: the usual page).
    page_size: int | None = None


@dataclass
class Button:
    label: str
    command: str  # the command words a click runs, e.g. "history A-12"
    style: Literal["primary", "danger"] | None = None
    # When set, a click opens this form (the platform's modal or card inputs) instead of running.
    form: Form | None = None


@dataclass
class Choice:
    label: str
    value: str


@dataclass
class FormField:
    name: str  # "rag", "note", "date", "text"
    label: str
    kind: Literal["choice", "text", "date"] = "text"
    choices: list[Choice] = field(default_factory=list)
    optional: bool = False
    multiline: bool = False
    initial: str | None = None


@dataclass
class Form:
    title: str
    submit_label: str
    # Command words with {field} placeholders filled from the submitted values,
    # e.g. "update A-12 {rag} {note}".
    command: str
    fields: list[FormField] = field(default_factory=list)


@dataclass
class Fact:
    label: str
    value: str


@dataclass
class Section:
    """One block of a reply: a heading and/or text, facts, and buttons."""

    text: str = ""
    heading: str | None = None
    facts: list[Fact] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    rag: str | None = None  # red | amber | green | complete — adapters show colour/emoji
    ref: str | None = None  # the action / request this section is about


@dataclass
class Reply:
    language: str
    text: str  # the whole reply as plain text (console, notifications, fallbacks)
    sections: list[Section] = field(default_factory=list)
    ephemeral: bool = True  # seen only by the person who asked, where the platform allows
    image_url: str | None = None
    image_alt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        def form(d):
            if d is None:
                return None
            fields = [FormField(**{**f, "choices": [Choice(**c) for c in f.get("choices", [])]})
                      for f in d.get("fields", [])]
            return Form(**{**d, "fields": fields})

        sections = [
            Section(
                **{
                    **s,
                    "facts": [Fact(**f) for f in s.get("facts", [])],
                    "buttons": [Button(**{**b, "form": form(b.get("form"))}) for b in s.get("buttons", [])],
                }
            )
            for s in data.get("sections", [])
        ]
        return cls(**{**data, "sections": sections})


@dataclass
class Context:
    """What a handler may use: the store, the settings and the clock (tests control it)."""

    db: Any  # storage.db.Database
    settings: Any  # cyswllt.settings.Settings
    now: Any = None  # () -> aware datetime; defaults to the real UTC clock

    def __post_init__(self) -> None:
        if self.now is None:
            from storage.models import utcnow

            self.now = utcnow
