"""Welsh or English, offline: simplemma's detector, helped by Welsh letters and function words
for texts too short for it."""

from __future__ import annotations

import re

import simplemma

WELSH_WORDS = {"mae", "yn", "yr", "y", "ddim", "dim", "wedi", "ac", "ond", "gyda", "iawn", "diolch", "bod",
               "nid", "ein", "eich", "hefyd", "rydw", "rydym", "ydy", "oes", "fawr", "da", "bore", "hwyl",
               "mwy", "angen", "gwasanaeth", "cyngor", "ysgol", "bws", "sydd", "hyn", "pobl", "i'r", "o'r"}
ENGLISH_WORDS = {"the", "and", "is", "are", "to", "of", "it", "we", "you", "not", "this", "that", "for",
                 "with", "very", "good", "bad", "thank", "thanks", "please", "bus", "school", "service"}
WORD = re.compile(r"[a-zâêîôûŵŷ']+", re.IGNORECASE)


def detect_language(text: str) -> str:
    """'cy' or 'en'."""
    words = [w.lower().strip("'") for w in WORD.findall(text or "")]
    if not words:
        return "en"
    if any(c in text.lower() for c in "ŵŷ"):
        return "cy"
    welsh = sum(w in WELSH_WORDS for w in words)
    english = sum(w in ENGLISH_WORDS for w in words)
    if len(words) <= 3 and welsh != english:
        return "cy" if welsh > english else "en"
    scores = dict(simplemma.langdetect(text, lang=("cy", "en")))
    if abs(scores.get("cy", 0) - scores.get("en", 0)) < 0.1 and welsh != english:
        return "cy" if welsh > english else "en"
    return "cy" if scores.get("cy", 0) > scores.get("en", 0) else "en"
