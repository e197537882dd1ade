"""English sentiment: TextBlob's pattern analyser with VADER's lexicon and rules, and a lexicon of
the plain words of public-service feedback, with negation and intensifiers applied to them."""

from __future__ import annotations

import re
from functools import cache

from engagement.analysis.data_files import table

NEGATORS = {"not", "no", "never", "nothing", "none", "nobody", "hardly", "without", "isn't", "wasn't", "aren't",
            "weren't", "don't", "doesn't", "didn't", "can't", "cannot", "couldn't", "won't", "wouldn't",
            "shouldn't", "haven't", "hasn't", "hadn't", "isnt", "dont", "doesnt", "didnt", "cant", "wont", "n't"}
INTENSIFIERS = {"very": 1.4, "really": 1.3, "so": 1.3, "extremely": 1.6, "incredibly": 1.5, "totally": 1.4,
                "completely": 1.4, "absolutely": 1.5, "too": 1.3, "particularly": 1.2, "hugely": 1.5}
DIMINISHERS = {"slightly": 0.6, "somewhat": 0.7, "fairly": 0.8, "quite": 0.9, "a bit": 0.6, "rather": 0.8}
WORD = re.compile(r"[a-z]+(?:['’-][a-z]+)*", re.IGNORECASE)


@cache
def _domain() -> dict[tuple[str, ...], float]:
    return {tuple(k.split()): float(v) for k, v in table("english_domain.tsv").items()}


@cache
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@cache
def _pattern():
    from textblob.en.sentiments import PatternAnalyzer

    return PatternAnalyzer()


def domain_score(text: str) -> list[float]:
    words = [w.lower().replace("’", "'") for w in WORD.findall(text)]
    lexicon = _domain()
    longest = max(len(k) for k in lexicon)
    found: list[float] = []
    i = 0
    while i < len(words):
        for size in range(longest, 0, -1):
            phrase = tuple(words[i:i + size])
            if len(phrase) == size and phrase in lexicon:
                value = lexicon[phrase]
                window = words[max(0, i - 3):i]
                if any(w in NEGATORS or w.endswith("n't") for w in window):
                    value *= -0.7
                before = words[i - 1] if i else ""
                value *= INTENSIFIERS.get(before, 1.0) * DIMINISHERS.get(before, 1.0)
                found.append(max(-1.0, min(1.0, value)))
                i += size
                break
        else:
            i += 1
    return found


def signals(text: str) -> list[float]:
    """The non-zero polarity signals for a text: pattern, VADER, and the domain lexicon."""
    result = []
    pattern = _pattern().analyze(text)
    if abs(pattern.polarity) >= 0.1:  # smaller values are noise from neutral words ("long", "far")
        result.append(float(pattern.polarity))
    compound = _vader().polarity_scores(text)["compound"]
    if abs(compound) >= 0.05:
        result.append(float(compound))
    domain = domain_score(text)
    if domain:
        result.append(max(-1.0, min(1.0, sum(domain) / len(domain) ** 0.8)))
    return result
