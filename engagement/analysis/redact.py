"""Personal data out of anything shown to others: emails, phone numbers, full postcodes, names."""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# UK numbers: +44 or 0, then 9–10 more digits with optional spaces, dots, dashes or brackets.
PHONE = re.compile(r"(?<![\w+])(?:\+44\s?\(?0?\)?|\(?0)\d{2,4}\)?(?:[\s.-]?\d){6,8}(?!\d)")
# A full UK postcode (outward + inward code): CF10 1AA, LL77 7TW, SW1A 1AA.
POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s*\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)


def redact(text: str, names: Iterable[str] = ()) -> str:
    if not text:
        return text
    text = EMAIL.sub("[email]", text)
    text = PHONE.sub("[phone]", text)
    text = POSTCODE.sub("[postcode]", text)
    for name in names:
        name = (name or "").strip()
        # The whole name first, then each part of it (a first name on its own is still a name).
        for part in [name, *sorted(name.split(), key=len, reverse=True)]:
            if len(part) >= 2:
                text = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", "[name]", text, flags=re.IGNORECASE)
    return text
