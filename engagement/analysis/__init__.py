"""Text analysis for consultation responses, offline and in both languages.

``analyse(text)`` gives the language, a sentiment label with polarity and confidence, and
themes; ``redact`` removes personal data; ``theme_key`` merges themes across inflections,
Welsh mutations and the two languages. Nothing here downloads data: the lexicons ship with
the package (see ``data/``) or with the libraries it uses, and are read once, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engagement.analysis import english, welsh
from engagement.analysis.language import detect_language
from engagement.analysis.redact import redact
from engagement.analysis.sentiment import MIN_CONFIDENCE, THRESHOLD, combine, label
from engagement.analysis.themes import key_phrases, theme_key

__all__ = ["Analysis", "analyse", "detect_language", "key_phrases", "redact", "theme_key", "score",
           "MIN_CONFIDENCE", "THRESHOLD"]


@dataclass(frozen=True)
class Analysis:
    language: str  # 'cy' | 'en'
    sentiment: str  # positive | neutral | negative
    polarity: float  # -1..1
    confidence: float  # 0..1; below MIN_CONFIDENCE the sentiment is neutral
    themes: list[str] = field(default_factory=list)


def score(text: str, language: str) -> tuple[float, float]:
    """(polarity, confidence) of a text in a known language; see ``sentiment`` for how."""
    hits = welsh.hits(text) if language == "cy" else english.hits(text)
    return combine(hits)


def analyse(text: str, language: str | None = None) -> Analysis:
    text = text or ""
    language = language if language in ("cy", "en") else detect_language(text)
    polarity, confidence = score(text, language)
    return Analysis(language=language, sentiment=label(polarity, confidence), polarity=polarity,
                    confidence=confidence, themes=key_phrases(text, language))
