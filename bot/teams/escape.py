"""Untrusted text made inert for Teams: no markdown, no links, no mentions.

Adaptive Card TextBlocks and FactSets render a markdown subset, and Teams turns
``<at>name</at>`` into a mention when the activity carries a matching entity. Every
string from a ``Reply`` passes through ``escape_markdown`` before it reaches a card.
"""

from __future__ import annotations

import re

# Backslash-escaping any ASCII punctuation is valid markdown and shows the character itself.
_MARKDOWN = re.compile(r"([\\*_\[\]()`#<>~&|!])")
_MENTION = re.compile(r"<(\s*/?\s*at\b)", re.IGNORECASE)
# Bare URLs are linkified by Teams; a zero-width space after the scheme or "www." stops it.
_AUTOLINK = re.compile(r"(://|\bwww)(?=\S)", re.IGNORECASE)
_ZWSP = "\u200b"


def neutralise_mentions(text: str) -> str:
    """Break ``<at>`` tags so no client can read them as a mention."""
    return _MENTION.sub(lambda m: "<" + _ZWSP + m.group(1), text)


def escape_markdown(text: str | None) -> str:
    if not text:
        return ""
    text = neutralise_mentions(text)
    text = _MARKDOWN.sub(r"\\\1", text)
    return _AUTOLINK.sub(lambda m: m.group(1) + _ZWSP, text)


def plain(text: str | None) -> str:
    """For fields Teams shows as plain text (titles, summaries): only mentions are neutralised."""
    return neutralise_mentions(text or "")
