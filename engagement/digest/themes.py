"""Themes across responses: the stored phrases of each response merged by ``theme_key``, so plurals,
Welsh mutations and English/Welsh pairs ('bus services', 'wasanaeth bws') count as one theme."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from engagement.analysis import redact, theme_key, welsh

SIDES = ("positive", "neutral", "negative")
# A theme named by fewer responses than this is not shown: a phrase only one person used is as
# likely to be their street or their name as a theme, and would single them out.
MIN_RESPONSES = 2
# Letters and digits in one word (postcode districts like 'cf10', flat numbers like '12b'), long
# numbers, or an address sign; road numbers ('a470', 'm4') are themes, not addresses.
_MIXED = re.compile(r"(?=\w*\d)(?=\w*[^\W\d])\w+")
_ROAD = re.compile(r"[abm]\d{1,4}")
_IDENTIFYING = re.compile(r"@|\b\d{3,}\b")


@lru_cache(maxsize=65536)
def key_of(phrase: str, language: str) -> str:
    return theme_key(phrase, language)


@lru_cache(maxsize=65536)
def looks_personal(phrase: str) -> bool:
    """A phrase that is (part of) contact details rather than a theme."""
    if _IDENTIFYING.search(phrase) or redact(phrase) != phrase:
        return True
    return any(not _ROAD.fullmatch(word) for word in _MIXED.findall(phrase.lower()))


@dataclass
class Theme:
    key: str
    count: int = 0
    period_count: int = 0
    sentiment: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    forms: Counter = field(default_factory=Counter)  # (language, phrase) -> responses

    def label(self, language: str) -> str:
        """The wording most used in ``language``; the other language's when nobody used this one."""
        for wanted in (language, "cy" if language == "en" else "en"):
            mine = {phrase: n for (lang, phrase), n in self.forms.items() if lang == wanted}
            if mine:
                return max(mine, key=lambda p: (mine[p], wanted != "cy" or _radical(p, mine), -len(p), p))
        return self.key

    @property
    def phrases(self) -> list[str]:
        return sorted({phrase for _, phrase in self.forms})

    @property
    def languages(self) -> list[str]:
        return sorted({lang for lang, _ in self.forms})


def _radical(phrase: str, others) -> bool:
    """False when another wording is this one with its first word unmutated ('wasanaeth bws' beside
    'gwasanaeth bws'), so the radical form is shown."""
    first, _, rest = phrase.partition(" ")
    return not any(f"{form} {rest}".strip() in others for form in welsh.demutate(first) - {first})


def merge(rows) -> dict[str, Theme]:
    """Themes by key from aggregate rows, one per stored phrase:
    ``(phrase, welsh, responses, positive, negative, pending, in_period)`` where ``welsh`` is how many
    of the responses were in Welsh (the phrase is keyed in its majority language) and neutral is the
    rest of the analysed ones. Responses not analysed yet count towards a theme but not its split."""
    themes: dict[str, Theme] = {}
    for phrase, welsh_count, count, positive, negative, pending, in_period in rows:
        if not phrase or not isinstance(phrase, str):
            continue
        language = "cy" if (welsh_count or 0) * 2 > count else "en"
        key = key_of(phrase, language)
        if not key or looks_personal(phrase):
            continue
        theme = themes.get(key)
        if theme is None:
            theme = themes[key] = Theme(key)
        positive, negative, pending = positive or 0, negative or 0, pending or 0
        theme.count += count
        theme.period_count += in_period or 0
        theme.sentiment["positive"] += positive
        theme.sentiment["negative"] += negative
        theme.sentiment["neutral"] += count - positive - negative - pending
        theme.forms[(language, phrase)] += count
    return themes


def main_themes(themes: dict[str, Theme], top: int = 8) -> list[Theme]:
    """The most mentioned themes, most first (ties: more negative first, so bad news is not cut)."""
    shown = [t for t in themes.values() if t.count >= MIN_RESPONSES]
    shown.sort(key=lambda t: (-t.count, -t.sentiment["negative"], t.key))
    return shown[:top]
