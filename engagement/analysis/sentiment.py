"""From sentiment words found in a text to (polarity, confidence, label), the same way for both
languages, so a Welsh response and its English translation are judged alike.

Each scorer (``english.hits``, ``welsh.hits``) returns the sentiment words it found as ``Hit``s:
the word's polarity after negation and intensifiers, and a weight (a clause after "but"/"ond" counts
more than the one before it).

- polarity = the weighted mean of the hits' values, in -1..1;
- confidence = agreement × (0.6 × strength + 0.4 × evidence), in 0..1, where
  strength = min(1, |polarity| / 0.6) (0.6 is a clearly worded "good"/"gwael"),
  evidence = 1 − 0.5ⁿ for n hits (one word 0.5, two 0.75, three 0.875), and
  agreement = |Σ w·v| / Σ w·|v| (1 when every hit points the same way, near 0 when they cancel).
- label: neutral when confidence < MIN_CONFIDENCE or |polarity| < THRESHOLD, else by sign. So a
  lone weak word ("new", "closed") or a balanced "good but slow" is neutral, not a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

# |polarity| below this is neutral (the same threshold the evaluation gives plain TextBlob).
THRESHOLD = 0.05
# Below this confidence a label is not trusted and is counted as neutral.
MIN_CONFIDENCE = 0.3


@dataclass(frozen=True, slots=True)
class Hit:
    word: str
    value: float  # -1..1, after negation and intensifiers
    weight: float = 1.0


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


def label(polarity: float, confidence: float) -> str:
    if confidence < MIN_CONFIDENCE or abs(polarity) < THRESHOLD:
        return "neutral"
    return "positive" if polarity > 0 else "negative"
