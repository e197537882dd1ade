"""English and Welsh message catalogues.

Catalogues are TOML files under ``cyswllt/locales/{en,cy}/{area}.toml``; a key is
``area.name`` (``handlers.help_title`` lives in ``handlers.toml``). An entry is either a
string or a table of CLDR plural categories (zero, one, two, few, many, other) chosen by
the ``count`` argument with Babel's plural rules — Welsh uses all six.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from string import Formatter
from typing import Any

from babel import Locale

LANGUAGES = ("en", "cy")
DEFAULT_LANGUAGE = "en"
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


class MissingMessage(KeyError):
    pass


def normalise_language(lang: str | None) -> str:
    if lang in LANGUAGES:  # the usual case: a stored, already normal language
        return lang
    lang = (lang or "").strip().lower()[:2]
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def babel_locale(lang: str | None) -> str:
    """The locale for dates and numbers: British English, or Welsh."""
    return "cy_GB" if normalise_language(lang) == "cy" else "en_GB"


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def plural_category(lang: str, count: int | float) -> str:
    return _locale(normalise_language(lang)).plural_form(abs(count))


@cache
def catalogue(lang: str, area: str) -> dict[str, Any]:
    path = resources.files("cyswllt") / "locales" / lang / f"{area}.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def areas(lang: str) -> list[str]:
    folder = resources.files("cyswllt") / "locales" / lang
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def raw(lang: str, key: str) -> Any:
    return _raw(normalise_language(lang), key)


@cache
def _raw(lang: str, key: str) -> Any:
    area, _, name = key.partition(".")
    node: Any = catalogue(lang, area)
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            raise MissingMessage(f"{lang}:{key}")
        node = node[part]
    return node


def t(lang: str | None, key: str, /, count: int | float | None = None, **kwargs: Any) -> str:
    """The message ``key`` in ``lang``, formatted with ``kwargs`` (and ``count``)."""
    lang = normalise_language(lang)
    entry = raw(lang, key)
    if isinstance(entry, dict):
        if count is None:
            raise MissingMessage(f"{lang}:{key} needs a count")
        # An explicit "zero" phrase ("no actions") is used for nought in any language.
        category = "zero" if count == 0 and "zero" in entry else plural_category(lang, count)
        entry = entry.get(category, entry.get("other"))
        if entry is None:
            raise MissingMessage(f"{lang}:{key}[{category}]")
    if count is not None:
        kwargs.setdefault("count", count)
    if ":soft}" in entry or ":with}" in entry:
        kwargs = {k: Name(v) if isinstance(v, str) else v for k, v in kwargs.items()}
    return entry.format(**kwargs) if kwargs else entry


# Welsh nouns that begin the names of boards and partnerships, and their soft mutation.
SOFT_HEADS = {"bwrdd": "fwrdd", "partneriaeth": "bartneriaeth", "pwyllgor": "bwyllgor", "cyngor": "gyngor",
              "cyd-bwyllgor": "gyd-bwyllgor", "tîm": "dîm"}


def soft_mutation(name: str) -> str:
    """A board's name after a word that softens it ("ar", "gan"): Bwrdd Gwasanaethau Cyhoeddus
    Gwynedd → Fwrdd Gwasanaethau Cyhoeddus Gwynedd. Only the Welsh common nouns that begin such
    names change; a proper name, or an English name, is left as it is written."""
    head, space, rest = name.partition(" ")
    mutated = SOFT_HEADS.get(head.lower())
    if mutated is None:
        return name
    if head[:1].isupper():
        mutated = mutated[:1].upper() + mutated[1:]
    return mutated + space + rest


class Name(str):
    """A value in a message: ``{board:soft}`` in a Welsh template gives its soft mutation."""

    def __format__(self, spec: str) -> str:
        if spec == "soft":
            return soft_mutation(str(self))
        if spec == "with":
            return with_name(str(self))
        return format(str(self), spec)


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(template) if field}


def overdue_phrase(lang: str | None, due, today) -> str:
    """How late something is, in words people use: "3 days overdue", "5 weeks overdue", and past two
    months "overdue since November 2007" (a count of thousands of days tells nobody anything)."""
    from babel.dates import format_date

    lang = normalise_language(lang)
    days = (today - due).days
    if days <= 13:
        return t(lang, "common.overdue_days", count=days)
    if days <= 62:
        return t(lang, "common.overdue_weeks", count=days // 7)
    return t(lang, "common.overdue_since", month=format_date(due, format="LLLL y", locale=babel_locale(lang)))


def with_name(name: str) -> str:
    """Welsh "â" (with) before a name: "ag" before a vowel (ag Ynys Môn), "â" otherwise (â Gwynedd)."""
    first = name[:1].lower()
    return f"ag {name}" if first and first in "aeiouyâêîôûŷáéíóú" else f"â {name}"
