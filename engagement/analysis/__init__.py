"""Text analysis for consultation responses, offline and in both languages.

``analyse(text)`` gives the language, the response's overall sentiment (label, polarity, confidence),
its themes — the public-service topics it names, each with the sentiment of the clause it sits in and a
label in English and Welsh — its candidate phrases (noun phrases no glossary topic names, which become a
consultation's emergent themes when several responses raise them: ``emergent.py``) and whether a person
must look at it before it is quoted (``held``).
``redact`` removes personal data; no theme is ever taken from a redacted span. Nothing here downloads
data: the lexicons ship with the package (see ``data/``) or with the libraries it uses, and are read
once, on first use. ``ANALYSER_VERSION`` changes whenever what ``analyse`` returns for a text may
change, so stored analysis can be redone (``cyswllt responses reanalyse``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engagement.analysis import english, welsh
from engagement.analysis.emergent import MIN_RESPONSES, Phrase, Promoter, phrases, promote
from engagement.analysis.language import detect_language
from engagement.analysis.redact import find as find_personal_data
from engagement.analysis.redact import redact, redacted
from engagement.analysis.review import review
from engagement.analysis.sentiment import MIN_CONFIDENCE, THRESHOLD, clauses, combine, label
from engagement.analysis.themes import Theme, resolve, term_mentions, theme_key, topics

__all__ = ["ANALYSER_VERSION", "Analysis", "MIN_RESPONSES", "Phrase", "Promoter", "Theme", "analyse", "warm_up",
           "detect_language", "find_personal_data", "promote", "redact", "review", "score", "theme_key", "topics",
           "MIN_CONFIDENCE", "THRESHOLD"]

# Bump on any change to the lexicons, the glossary, the rules or the models behind ``analyse``.
ANALYSER_VERSION = 5


@dataclass(frozen=True)
class Analysis:
    language: str  # 'cy' | 'en'
    sentiment: str  # positive | neutral | negative
    polarity: float  # -1..1
    confidence: float  # 0..1
    themes: list[Theme] = field(default_factory=list)
    held: tuple[str, ...] = ()  # why a person must look at it first ('health', 'child'); empty: no need
    phrases: list[Phrase] = field(default_factory=list)  # candidate emergent themes (no glossary topic)
    redacted: str = ""  # the text with personal data replaced (``redact``), as shown to others

    @property
    def theme_keys(self) -> list[str]:
        return [t.key for t in self.themes]

    def theme_sentiments(self) -> str:
        """``key:label;…`` for the CSV column."""
        return ";".join(f"{t.key}:{t.sentiment}" for t in self.themes)


def warm_up() -> None:
    """Read every lexicon and model now (about a second), not on the first response."""
    for text, language in (("Mae'r gwasanaeth bws yn dda iawn, diolch", "cy"), ("The buses are good", "en"),
                           ("Excellent Tŷ Hafan staff", None), ("Gwasanaeth grêt ond too slow", None)):
        analyse(text, language, ("Sian Jones",))
    from engagement.analysis.language import _identifier

    _identifier().classify("warm up")
    from engagement.analysis.emergent import welsh_verbnouns

    welsh_verbnouns()


def score(text: str, language: str) -> tuple[float, float]:
    """(polarity, confidence) of a text in a known language."""
    if language == "cy":
        return combine(welsh.hits(text))
    return english.polarity(text)


def themes_of(text: str, language: str, redacted: list[tuple[int, int]] | None = None) -> list[Theme]:
    """The topics ``text`` names, in order of first mention, each with its clauses' sentiment. A mention
    inside a redacted span (a name, an address) is never a theme."""
    return _themes_and_phrases(text, language, redacted, with_phrases=False)[0]


def _themes_and_phrases(text: str, language: str, redacted: list[tuple[int, int]] | None,
                        with_phrases: bool = True) -> tuple[list[Theme], list[Phrase]]:
    terms = term_mentions(text, language)  # once: the themes and the candidate phrases both use it
    found = resolve(text, terms, language)
    if redacted:
        found = [m for m in found if not any(m.start < end and start < m.end for start, end in redacted)]
    candidates = phrases(text, language, redacted, terms=terms) if with_phrases else []
    if not found and not candidates:
        return [], []
    parts = clauses(text, language, lambda piece: score(piece, language))

    def polarity_at(start: int) -> float:
        clause = next((c for c in parts if c.start <= start < c.end), None)
        return clause.polarity if clause else 0.0

    by_topic: dict[str, list] = {}
    for m in found:
        by_topic.setdefault(m.topic, []).append((m, polarity_at(m.start)))
    known = topics()
    out = []
    for key, items in by_topic.items():
        polarity = round(sum(p for _, p in items) / len(items), 4)
        topic = known[key]
        out.append(Theme(key, topic.label_en, topic.label_cy, label(polarity), polarity,
                         tuple((m.start, m.end) for m, _ in items)))
    scored = []
    for phrase in candidates:
        polarity = round(polarity_at(phrase.start), 4)
        scored.append(Phrase(phrase.key, phrase.wording, phrase.language, phrase.start, phrase.end, label(polarity),
                             polarity))
    return out, scored


def analyse(text: str, language: str | None = None, names: tuple[str, ...] | list[str] = ()) -> Analysis:
    """Analyse one text. ``language`` is the respondent's own choice when they made one (it is then
    kept); otherwise the language is detected. ``names`` are the respondent's own, to redact too."""
    text = text or ""
    language = language if language in ("cy", "en") else detect_language(text)
    polarity, confidence = score(text, language)
    spans = find_personal_data(text, names)
    themes, candidates = _themes_and_phrases(text, language, [(s.start, s.end) for s in spans])
    return Analysis(language=language, sentiment=label(polarity), polarity=polarity, confidence=confidence,
                    themes=themes, held=tuple(review(text)), phrases=candidates, redacted=redacted(text, spans))
