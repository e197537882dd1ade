"""Which language to answer in: Welsh words or Welsh text win over the stored choice."""

from __future__ import annotations

import re

# Common Welsh function words: enough to recognise a Welsh note or question of a few words.
_WELSH_MARKERS = {
    "yn", "yr", "y", "mae", "ddim", "dim", "wedi", "ac", "a'r", "i'r", "o'r", "ar", "gyda", "hefyd",
    "rydym", "ydy", "ydyn", "oes", "nid", "na", "heb", "bod", "fydd", "bydd", "iawn", "diolch", "angen",
    "gan", "ein", "eu", "hyn", "hwn", "hon", "sydd", "roedd", "wnaeth", "cyfarfod", "gwaith", "cynllun",
}
_WORD = re.compile(r"[\w'’ŵŷâêîôûáéíóúàèìòùäëïöü]+", re.IGNORECASE)


def looks_welsh(text: str) -> bool:
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text or "")]
    if len(words) < 2:
        return False
    try:
        from engagement.analysis import detect_language
    except ImportError:
        detect_language = None
    if detect_language is not None and len(words) >= 3:
        return detect_language(text) == "cy"
    hits = sum(1 for w in words if w in _WELSH_MARKERS or any(c in w for c in "ŵŷ"))
    return hits >= max(1, len(words) // 4)
