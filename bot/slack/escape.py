"""Untrusted text in Slack mrkdwn: nothing a user wrote may ping people or make links."""

from __future__ import annotations


def mrkdwn(text: str) -> str:
    """Escape the three characters Slack's control sequences are made of.

    ``<!channel>``, ``<!here>``, ``<!everyone>``, ``<@U…>``, ``<!subteam^…>`` and
    ``<http://…|label>`` all need a raw ``<``; with it escaped they show as plain text.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int) -> str:
    """Plain text cut to a Block Kit field's limit."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
