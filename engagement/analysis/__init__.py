"""Text analysis for consultation responses, offline and in both languages.

``analyse(text)`` gives the language, a sentiment label with polarity and confidence, and
themes; ``redact`` removes personal data; ``theme_key`` merges themes across inflections,
Welsh mutations and the two languages. Nothing here downloads data: the lexicons ship with
the package (see ``data/``) or with the libraries it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engagement.analysis import english, welsh
from engagement.analysis.language import detect_language
from engagement.analysis.redact import redact
from engagement.analysis.themes import key_phrases, theme_key

# Below this confidence a label is not trusted and is counted as neutral.
MIN_CONFIDENCE = 0.3
# |polarity| at or above this is positive / negative.
THRESHOLD = 0.05

__all__ = ["Analysis", "analyse", "detect_language", "key_phrases", "redact", "theme_key", "score",
           "MIN_CONFIDENCE"]


@dataclass(frozen=True)
class Analysis:
    language: str
    sentiment: str  # positive | neutral | negative
    polarity: float
    confidence: float
    themes: list[str] = field(default_factory=list)


def score(text: str, language: str) -> tuple[float, float]:
    """(polarity, confidence).

    Confidence grows with the strength of the polarity and with how many independent signals
    (English: the pattern analyser, VADER and the public-service lexicon; Welsh: lexicon hits)
    agree on its sign, and falls when they disagree.
    """
    if language == "cy":
        polarity, hits = welsh.score(text)
        agreeing = hits
        disagreeing = 0
    else:
        signals = english.signals(text)
        if not signals:
            return 0.0, 0.0
        polarity = sum(signals) / len(signals)
        agreeing = sum(1 for s in signals if s * polarity > 0)
        disagreeing = len(signals) - agreeing
    if polarity == 0:
        return 0.0, 0.0
    confidence = abs(polarity) * 0.8 + 0.15 * min(agreeing, 3) - 0.2 * disagreeing
    return round(max(-1.0, min(1.0, polarity)), 4), round(max(0.0, min(1.0, confidence)), 4)


def label(polarity: float, confidence: float) -> str:
    if confidence < MIN_CONFIDENCE or abs(polarity) < THRESHOLD:
        return "neutral"
    return "positive" if polarity > 0 else "negative"


def analyse(text: str, language: str | None = None) -> Analysis:
    text = text or ""
    language = language if language in ("cy", "en") else detect_language(text)
    polarity, confidence = score(text, language)
    return Analysis(language=language, sentiment=label(polarity, confidence), polarity=polarity,
                    confidence=confidence, themes=key_phrases(text, language))
