"""Personal data out of anything shown to others: emails, phone numbers, full postcodes, names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# UK numbers: +44 or 0, then 9–10 more digits with optional spaces, dots, dashes or brackets.
PHONE = re.compile(r"(?<![\w+])(?:\+44\s?\(?0?\)?|\(?0)\d{2,4}\)?(?:[\s.-]?\d){6,8}(?!\d)")
# A full UK postcode (outward + inward code): CF10 1AA, LL77 7TW, SW1A 1AA.
POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s*\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)


# A name matches with or without its accents and in any case: "Siân" also finds "Sian", "SIÂN".
_ACCENTS = {"a": "aâáàä", "e": "eêéèë", "i": "iîíìï", "o": "oôóòö", "u": "uûúùü", "w": "wŵẃẁẅ", "y": "yŷýỳÿ"}


# Words inside names that are also ordinary words: "Gwen ap Rhys" must not redact every "ap".
NAME_PARTICLES = {"ap", "ab", "ferch", "verch", "de", "du", "da", "di", "van", "von", "der", "den", "le", "la", "mc",
                  "mac", "of", "the", "and", "mr", "mrs", "ms", "miss", "dr", "prof"}


def _name_pattern(part: str) -> str:
    out = []
    for char in unicodedata.normalize("NFC", part):
        base = unicodedata.normalize("NFKD", char.lower())[0]
        if char.isspace():
            out.append(r"\s+")
        else:
            out.append(f"[{_ACCENTS[base]}]" if base in _ACCENTS else re.escape(char))
    return rf"(?<!\w){''.join(out)}(?!\w)"


def redact(text: str, names: Iterable[str] = ()) -> str:
    if not text:
        return text
    text = EMAIL.sub("[email]", text)
    text = PHONE.sub("[phone]", text)
    text = POSTCODE.sub("[postcode]", text)
    for name in names:
        name = (name or "").strip()
        # The whole name first, then each part of it (a first name on its own is still a name).
        parts = [p for p in name.split() if len(p) >= 2 and p.lower() not in NAME_PARTICLES]
        for part in [name, *sorted(parts, key=len, reverse=True)]:
            if len(part) >= 2:
                text = re.sub(_name_pattern(part), "[name]", text, flags=re.IGNORECASE)
    return text
