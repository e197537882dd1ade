"""Untrusted text in Slack mrkdwn: nothing a user wrote may ping people or make links."""

from __future__ import annotations

import re


def mrkdwn(text: str) -> str:
    """Escape the three characters Slack's control sequences are made of.

    ``<!channel>``, ``<!here>``, ``<!everyone>``, ``<@U…>``, ``<!subteam^…>`` and
    ``<http://…|label>`` all need a raw ``<``; with it escaped they show as plain text.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_FORMATTING = re.compile(r"([*_~`])")
_ZWSP = "\u200b"


def literal(text: str) -> str:
    """Text for the few places Slack always reads as mrkdwn (a notification's fallback, a file's
    comment): the control characters escaped, and a zero-width space either side of ``*``, ``_``,
    ``~`` and backticks, so they cannot pair up into formatting. Blocks use rich-text runs instead,
    which Slack shows exactly as written."""
    return _FORMATTING.sub(lambda m: _ZWSP + m.group(1) + _ZWSP, mrkdwn(text))


def plain(text: str, limit: int) -> str:
    """Plain text cut to a Block Kit field's limit."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
