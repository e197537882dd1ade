"""From sentiment words to a label, the same way for both languages, and sentiment per clause.

Each language's scorer gives (polarity, confidence) for a piece of text: English through VADER with our
lexicon on top (``english.polarity``), Welsh through our lexicon (``welsh.hits`` then ``combine``).

- ``combine``: polarity = the weighted mean of the hits' values (a clause after "but"/"ond" weighs
  double the one before it); confidence = agreement × (0.6 × strength + 0.4 × evidence), where
  strength = min(1, |polarity| / 0.6), evidence = 1 − 0.5ⁿ for n hits and agreement = |Σ w·v| / Σ w·|v|.
- ``label``: positive from +THRESHOLD, negative from −THRESHOLD, else neutral. A text with clear
  opinion words is not neutral; one whose words cancel out ("lovely park but dirty toilets" weighs the
  second clause more, so it is negative) or that has none is.
- ``clauses``: a text cut into sentences, and sentences at contrast words (but, however, although,
  ond, fodd bynnag, er…). Each clause is scored on its own, so "excellent school but the school bus
  takes over an hour" gives the school a positive clause and the bus a negative one: a clause with no
  opinion words of its own that is set against an opinionated one by a contrast word takes the opposite
  side, more weakly (that is what "but" says).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# |polarity| below this is neutral.
THRESHOLD = 0.05
# Kept for callers that filter on confidence: every labelled result has at least this much.
MIN_CONFIDENCE = 0.0
# The polarity a neutral clause takes from a contrasting opinionated neighbour (a fraction of its).
CONTRASTED = 0.5

CONTRAST = {
    "en": ("but", "however", "although", "though", "whereas", "nevertheless", "nonetheless", "yet", "except that",
           "even though", "on the other hand"),
    "cy": ("ond", "fodd bynnag", "er hynny", "serch hynny", "eto i gyd", "ar y llaw arall", "er bod", "er nad",
           "er mai", "er ei fod", "er eu bod", "tra bod"),
}
SENTENCE = re.compile(r"[^.!?;\n]+[.!?;\n]*")


@dataclass(frozen=True, slots=True)
class Hit:
    word: str
    value: float  # -1..1, after negation and intensifiers
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Clause:
    start: int
    end: int
    polarity: float
    contrasted: bool  # begins with a contrast word (or the next clause does)


def combine(hits: list[Hit]) -> tuple[float, float]:
    """(polarity, confidence) of a list of hits; (0.0, 0.0) when there are none."""
    total_weight = sum(h.weight for h in hits)
    if not hits or total_weight <= 0:
        return 0.0, 0.0
    signed = sum(h.weight * h.value for h in hits)
    magnitude = sum(h.weight * abs(h.value) for h in hits)
    if magnitude == 0:
        return 0.0, 0.0
    polarity = max(-1.0, min(1.0, signed / total_weight))
    agreement = abs(signed) / magnitude
    strength = min(1.0, abs(polarity) / 0.6)
    evidence = 1.0 - 0.5 ** len(hits)
    confidence = agreement * (0.6 * strength + 0.4 * evidence)
    return round(polarity, 4), round(max(0.0, min(1.0, confidence)), 4)


def label(polarity: float, confidence: float | None = None) -> str:
    if abs(polarity) < THRESHOLD:
        return "neutral"
    return "positive" if polarity > 0 else "negative"


def _contrast_pattern(language: str) -> re.Pattern:
    words = sorted(CONTRAST["cy" if language == "cy" else "en"], key=len, reverse=True)
    return re.compile(r"(?<![\w'’])(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
                      + r")(?![\w'’])", re.IGNORECASE)


_PATTERNS: dict[str, re.Pattern] = {}


def clause_spans(text: str, language: str) -> list[tuple[int, int, bool]]:
    """(start, end, begins with a contrast word) for each clause of a text."""
    pattern = _PATTERNS.get(language) or _PATTERNS.setdefault(language, _contrast_pattern(language))
    spans: list[tuple[int, int, bool]] = []
    for sentence in SENTENCE.finditer(text):
        start, end = sentence.span()
        cuts = [m.start() for m in pattern.finditer(text, start, end) if m.start() > start]
        edges = [start, *cuts, end]
        for k, (a, b) in enumerate(zip(edges, edges[1:])):
            if text[a:b].strip():
                spans.append((a, b, k > 0))
    return spans


def clauses(text: str, language: str, score) -> list[Clause]:
    """Each clause with its polarity; ``score(piece) -> (polarity, confidence)`` is the language's."""
    spans = clause_spans(text, language)
    scored = [score(text[a:b])[0] for a, b, _ in spans]
    out = []
    for k, (a, b, contrast) in enumerate(spans):
        polarity = scored[k]
        if abs(polarity) < THRESHOLD:
            # Set against an opinionated neighbour by "but": the other side of it.
            if contrast and k > 0 and abs(scored[k - 1]) >= THRESHOLD:
                polarity = -CONTRASTED * scored[k - 1]
            elif k + 1 < len(spans) and spans[k + 1][2] and abs(scored[k + 1]) >= THRESHOLD:
                polarity = -CONTRASTED * scored[k + 1]
        out.append(Clause(a, b, round(polarity, 4), contrast))
    return out
