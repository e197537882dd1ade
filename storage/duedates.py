"""Due dates from an action plan's "by when" words.

Rules (the brief's): a month and year is the last day of that month; a financial year
"2007-08" ends on 31 March of its second year; "end of 07" is 31 December; "early 2008" is
30 April; a season ends with its last month (spring 31 May, summer 31 August, autumn 30
November, winter the end of the following February); a bare year is 31 December; where
several periods are named the latest wins; "ongoing", "quarterly", an event ("run up to
2008 local elections") or nothing gives no date. Two-digit years are 20YY. Beyond the brief:
"mid 2008" is 30 June, a quarter ("Q3 2008", or of a financial year "Q3 2008/09") ends with
its last month, "winter 2009/10" ends in February 2010, and Welsh month and season names are
understood (with their soft mutations; "Hydref" is October, "yr hydref" the autumn).
"""

from __future__ import annotations

import calendar
import re
from datetime import date

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    # Welsh (with the soft mutations a "by" phrase causes: erbyn Mawrth, ym Mehefin…)
    "ionawr": 1, "chwefror": 2, "mawrth": 3, "ebrill": 4, "mai": 5, "mehefin": 6, "fehefin": 6,
    "gorffennaf": 7, "orffennaf": 7, "awst": 8, "medi": 9, "fedi": 9, "fai": 5, "hydref": 10,
    "tachwedd": 11, "dachwedd": 11, "rhagfyr": 12, "ragfyr": 12,
}
# season -> (month it ends in, whether that month falls in the following year)
SEASONS = {
    "spring": (5, False), "summer": (8, False), "autumn": (11, False), "fall": (11, False),
    "winter": (2, True), "gwanwyn": (5, False), "haf": (8, False), "gaeaf": (2, True),
}
# Welsh "Hydref" is October; only "yr hydref" (the autumn) is the season.
_WELSH_AUTUMN = re.compile(r"(?:\byr|'r)\s+hydref\b", re.IGNORECASE)
PARTS = {"early": 4, "mid": 6, "middle": 6, "late": 12, "end": 12, "dechrau": 4, "canol": 6, "diwedd": 12}

YEAR = r"(?P<year>(?:19|20)\d{2}|'?\d{2})(?!\d)"
_UNIT_AFTER = r"(?!\s*(?:weeks?|months?|days?|years?|hours?|%|wythnos|mis|diwrnod|blynedd))"

# Events are not dates: "run up to 2008 local elections", "ahead of the 2011 referendum".
_EVENT = re.compile(
    r"(?:run[- ]up to|ahead of|in advance of|in time for|cyn)\s+(?:the\s+|y\s+|yr\s+)?[\w' -]*?"
    r"(?:elections?|etholiad\w*|referendum|refferendwm)"
    r"|\b(?:(?:19|20)?\d{2})\s+(?:local\s+|general\s+|assembly\s+|national\s+)?(?:elections?)\b",
    re.IGNORECASE,
)

_FINANCIAL = re.compile(r"\b(?P<first>(?:19|20)\d{2}|\d{2})\s*[-/–]\s*(?P<second>\d{2}|(?:19|20)\d{2})(?!\d)")
_DAY_MONTH_YEAR = re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<month>[a-z]+)\.?,?\s+{YEAR}", re.IGNORECASE)
_ISO = re.compile(r"\b(?P<y>(?:19|20)\d{2})-(?P<m>\d{2})-(?P<d>\d{2})\b")
_MONTH_YEAR = re.compile(rf"\b(?P<month>[a-z]+)\.?,?\s+{YEAR}", re.IGNORECASE)
_SEASONS = re.compile(
    rf"\b(?P<seasons>(?:(?:{'|'.join(SEASONS)})(?:\s*(?:and|&|/|-|a|ac)\s*)?)+)\s+{YEAR}", re.IGNORECASE)
_PART = re.compile(rf"\b(?:by\s+)?(?:the\s+)?(?P<part>{'|'.join(PARTS)})(?:\s+of)?(?:\s*-\s*|\s+){YEAR}",
                   re.IGNORECASE)
_SLASHED = re.compile(r"\b(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>(?:19|20)\d{2}|\d{2})(?!\d)")
# Quarters: of a calendar year ("Q3 2008" → 30 September) or of a financial year ("Q3 2008/09").
_QUARTER = re.compile(r"\bQ(?P<q>[1-4])\s*(?:of\s+)?(?P<first>(?:19|20)\d{2}|'?\d{2})"
                      r"(?:\s*[-/–]\s*(?P<second>\d{2}|(?:19|20)\d{2}))?(?!\d)", re.IGNORECASE)
_SPLIT_WINTER = re.compile(r"\b(?:winter|gaeaf)\s+(?P<first>(?:19|20)\d{2}|\d{2})\s*[-/–]\s*(?P<second>\d{2}|(?:19|20)\d{2})(?!\d)",
                           re.IGNORECASE)
_BARE_YEAR = re.compile(rf"(?<![\w/-]){YEAR}{_UNIT_AFTER}(?![-/]\d)")


def _year(text: str) -> int:
    digits = text.lstrip("'")
    value = int(digits)
    return 2000 + value if len(digits) == 2 else value


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _second_year(first: int, second: str) -> int:
    """The second year of "2007-08" / "2099-00" / "2007/2008"."""
    if len(second) == 4:
        return int(second)
    year = (first // 100) * 100 + int(second)
    return year + 100 if year < first else year


def _valid(year: int) -> bool:
    return 1990 <= year <= 2100


def parse_due(text: str | None) -> date | None:
    """The due date the words name, or None when they name none (ongoing, an event, nothing)."""
    if not text or not text.strip():
        return None
    words = _WELSH_AUTUMN.sub(" autumn", _EVENT.sub(" ", text))
    found: list[date] = []
    spans: list[tuple[int, int]] = []

    def take(match: re.Match, value: date | None) -> None:
        if value is not None:
            found.append(value)
        spans.append(match.span())

    def free(match: re.Match) -> bool:
        start, end = match.span()
        return all(end <= s or start >= e for s, e in spans)

    for m in _ISO.finditer(words):
        try:
            take(m, date(int(m["y"]), int(m["m"]), int(m["d"])))
        except ValueError:
            take(m, None)
    for m in _SLASHED.finditer(words):
        try:
            take(m, date(_year(m["y"]), int(m["m"]), int(m["d"])))
        except ValueError:
            take(m, None)
    for m in _QUARTER.finditer(words):
        if not free(m):
            continue
        first, quarter = _year(m["first"]), int(m["q"])
        if m["second"] is None:
            take(m, _month_end(first, quarter * 3))
        elif _second_year(first, m["second"]) == first + 1:
            # Financial quarters run April–June, July–September, October–December, January–March.
            take(m, _month_end(first + 1, 3) if quarter == 4 else _month_end(first, quarter * 3 + 3))
    for m in _SPLIT_WINTER.finditer(words):
        first = _year(m["first"])
        if free(m) and _second_year(first, m["second"]) == first + 1:
            take(m, _month_end(first + 1, 2))
    for m in _DAY_MONTH_YEAR.finditer(words):
        month = MONTHS.get(m["month"].lower())
        if month and free(m):
            year = _year(m["year"])
            try:
                take(m, date(year, month, int(m["day"])) if _valid(year) else None)
            except ValueError:
                take(m, _month_end(year, month))
    for m in _FINANCIAL.finditer(words):
        if not free(m):
            continue
        first = _year(m["first"])
        second_year = _second_year(first, m["second"])
        if second_year == first + 1 and _valid(second_year):
            take(m, date(second_year, 3, 31))
    for m in _SEASONS.finditer(words):
        if not free(m):
            continue
        year = _year(m["year"])
        names = re.findall("|".join(SEASONS), m["seasons"].lower())
        ends = []
        for name in names:
            month, next_year = SEASONS[name]
            ends.append(_month_end(year + 1 if next_year else year, month))
        take(m, max(ends) if ends and _valid(year) else None)
    for m in _PART.finditer(words):
        if free(m):
            year = _year(m["year"])
            take(m, _month_end(year, PARTS[m["part"].lower()]) if _valid(year) else None)
    for m in _MONTH_YEAR.finditer(words):
        month = MONTHS.get(m["month"].lower())
        if month and free(m):
            year = _year(m["year"])
            take(m, _month_end(year, month) if _valid(year) else None)
    for m in _BARE_YEAR.finditer(words):
        if free(m):
            raw = m["year"].lstrip("'")
            # A lone two-digit number counts as a year only beside words that name a time.
            if len(raw) == 2 and not re.search(r"(?:in|by|from|until|introduction|erbyn|yn|published|start)\s*$",
                                               words[: m.start()], re.IGNORECASE):
                continue
            year = _year(m["year"])
            if _valid(year):
                take(m, date(year, 12, 31))
    return max(found) if found else None
