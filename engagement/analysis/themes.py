"""Themes: key phrases per language (YAKE, offline), and keys that merge the same theme across
inflections, Welsh mutations and the two languages."""

from __future__ import annotations

import re
from functools import cache

import simplemma
import yake

from engagement.analysis import welsh
from engagement.analysis.data_files import table

ENGLISH_STOP = {"i", "me", "my", "we", "our", "you", "your", "it", "its", "they", "them", "their", "this", "that",
                "these", "those", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "do",
                "does", "did", "a", "an", "the", "and", "but", "if", "or", "because", "as", "until", "while",
                "of", "at", "by", "for", "with", "about", "against", "between", "into", "through", "during",
                "before", "after", "above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over",
                "under", "again", "further", "then", "once", "here", "there", "when", "where", "why", "how",
                "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor",
                "not", "only", "own", "same", "so", "than", "too", "very", "can", "will", "just", "should",
                "now", "would", "could", "also", "really", "much", "many", "think", "lot", "need", "get",
                "every", "always", "never", "still", "even", "like", "yes", "please", "thank", "thanks"}
NUMBERISH = re.compile(r"^[\d\s.,%£-]+$")


@cache
def _extractor(language: str, top: int) -> yake.KeywordExtractor:
    stop = set(welsh.stopwords()) if language == "cy" else ENGLISH_STOP
    return yake.KeywordExtractor(lan="en", n=2, top=top * 3, dedup_lim=0.7, stopwords=stop)


CLITIC = re.compile(r"['’](?=\w)|(?<=\w)['’]")


@cache
def _sentiment_words(language: str) -> frozenset[str]:
    """Single words that carry sentiment but name no theme ("good", "dda", "wych")."""
    if language == "cy":
        return frozenset(welsh.lexicon())
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return frozenset(SentimentIntensityAnalyzer().lexicon)


def key_phrases(text: str, language: str, top: int = 5) -> list[str]:
    # Welsh clitics ("mae'r", "yw'r", "mae'n") split off so they don't glue onto theme words.
    text = CLITIC.sub(" ", text or "")
    if not text or len(text.split()) < 2:
        words = [w.lower() for w in re.findall(r"\w+", text or "")]
        stop = welsh.stopwords() if language == "cy" else ENGLISH_STOP
        return [w for w in words if w not in stop and len(w) > 2
                and welsh.fold(w) not in _sentiment_words(language)][:top]
    stop = welsh.stopwords() if language == "cy" else ENGLISH_STOP
    phrases: list[str] = []
    for phrase, _ in _extractor(language, top).extract_keywords(text):
        phrase = phrase.lower().strip()
        words = phrase.split()
        if NUMBERISH.match(phrase) or all(w in stop for w in words) or len(phrase) < 3:
            continue
        if len(words) == 1 and welsh.fold(phrase) in _sentiment_words(language):
            continue
        if any(phrase in p or p in phrase for p in phrases):
            continue
        phrases.append(phrase)
        if len(phrases) == top:
            break
    return phrases


@cache
def _glossary() -> dict[str, str]:
    # English sides as lemmas, so "services" and "service" meet.
    return {welsh.fold(k): " ".join(simplemma.lemmatize(w, lang="en").lower() for w in v.split())
            for k, v in table("glossary.tsv").items()}


def _welsh_radical(word: str) -> str:
    """The lemma of a Welsh word, undoing a mutation when the radical is a known word."""
    folded = welsh.fold(word)
    glossary = _glossary()
    for candidate in sorted(welsh.demutate(folded), key=len):
        if candidate in glossary:
            return candidate
    lemma = simplemma.lemmatize(folded, lang="cy")
    return welsh.fold(lemma)


def theme_key(phrase: str, language: str) -> str:
    """A key that is the same for 'bus service'/'bus services', 'gwasanaeth bws'/'wasanaeth bws'/
    'ngwasanaeth bws', and for Welsh and English words the glossary aligns ('bws' ~ 'bus')."""
    words = [w for w in re.findall(r"[\wâêîôûŵŷ']+", phrase.lower())]
    if not words:
        return ""
    glossary = _glossary()
    if language == "cy":
        whole = welsh.fold(" ".join(words))
        if whole in glossary:
            return glossary[whole]
        keys = []
        for word in words:
            radical = _welsh_radical(word)
            keys.append(glossary.get(radical, radical))
        return " ".join(sorted(keys))
    keys = [simplemma.lemmatize(w, lang="en").lower() for w in words]
    aligned = {v: v for v in glossary.values()}
    return " ".join(sorted(aligned.get(k, k) for k in keys))
