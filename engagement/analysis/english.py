"""English sentiment: TextBlob's pattern lexicon, improved for consultation feedback.

Plain TextBlob (PatternAnalyzer) misses negation in contractions ("isn't helpful" scores 0.0),
knows few verbs and nouns ("recommend", "cuts", "lifeline" are unknown) and turns neutral words into
noise ("new", "long"). Here the words are looked up in three layers, first match wins:

1. our lexicon of the plain words of public-service feedback (``data/english_domain.tsv``, phrases
   of up to three words; a 0 there marks a word as *not* sentiment, e.g. "care" in "social care");
2. TextBlob's pattern lexicon (en-sentiment.xml, shipped in the textblob wheel), ignoring entries
   under |0.1|; words it rates that name things in public services ("primary", "older", "full") are
   zeroed in our lexicon;
3. VADER's lexicon (shipped in the vaderSentiment wheel), scaled to -1..1, for words pattern lacks.

Then negation ("not", "never", "n't", "no", "without", "lack of" within three words before, in the
same clause) flips and damps a value, intensifiers and diminishers scale it, "too" makes a neutral
quality a complaint ("too long"), and a clause after "but"/"however" outweighs the one before it.
"""

from __future__ import annotations

import re
from functools import cache

from engagement.analysis.data_files import table
from engagement.analysis.sentiment import Hit

NEGATORS = {"not", "no", "never", "nothing", "none", "nobody", "nowhere", "neither", "nor", "hardly", "barely",
            "scarcely", "without", "lack", "lacking", "cannot", "isnt", "wasnt", "arent", "werent", "dont",
            "doesnt", "didnt", "cant", "wont", "wouldnt", "shouldnt", "couldnt", "havent", "hasnt", "hadnt",
            "aint"}
INTENSIFIERS = {"very": 1.3, "really": 1.3, "so": 1.25, "extremely": 1.5, "incredibly": 1.5, "totally": 1.3,
                "completely": 1.3, "absolutely": 1.4, "particularly": 1.2, "hugely": 1.4, "truly": 1.3,
                "utterly": 1.5, "highly": 1.3, "most": 1.2, "more": 1.1, "especially": 1.2, "seriously": 1.3,
                "deeply": 1.3, "thoroughly": 1.3, "genuinely": 1.2, "such": 1.2, "massively": 1.4,
                "terribly": 1.4, "awfully": 1.3, "increasingly": 1.2, "strongly": 1.3}
DIMINISHERS = {"slightly": 0.5, "somewhat": 0.6, "fairly": 0.7, "quite": 0.85, "rather": 0.8, "bit": 0.6,
               "little": 0.6, "mostly": 0.8, "partly": 0.6, "reasonably": 0.7, "marginally": 0.5,
               "sometimes": 0.7, "occasionally": 0.6, "almost": 0.7, "pretty": 0.9}
# A clause after one of these counts more than the clause before it.
CONTRAST = {"but", "however", "although", "though", "yet", "except"}
CLAUSE_END = {".", "!", "?", ";", ":", ","}
NEGATION_SCOPE = 3
NEGATED = -0.7  # "not good" is less bad than "bad"
TOO_NEUTRAL = -0.4  # "too long", "too far", "too busy"
PATTERN_MIN = 0.1
FUNCTION_WORDS = {"and", "or", "but", "the", "a", "an", "to", "of", "in", "on", "at", "is", "are", "was", "were",
                  "be", "i", "we", "it", "they", "you", "me", "us", "them", "for", "with", "this", "that"}

TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*|[.!?;:,]")


def tokens(text: str) -> list[str]:
    """Lower-case words (contractions folded: "isn't" -> "isnt") and clause punctuation."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    out = []
    for token in TOKEN.findall(text):
        if "-" in token and (token,) not in _domain() and token not in _pattern():
            out.extend(token.replace("'", "").split("-"))  # "well-run" is known; "bus-stop" is two words
            continue
        if "'" in token:
            head, _, tail = token.partition("'")
            if tail == "t":  # isn't, can't, won't
                token = head + "t"
            elif tail in ("s", "re", "ve", "ll", "d", "m"):
                token = head  # it's -> it, we're -> we
            else:
                token = token.replace("'", "")
        out.append(token)
    return out


@cache
def _domain() -> dict[tuple[str, ...], float]:
    return {tuple(k.split()): float(v) for k, v in table("english_domain.tsv").items()}


@cache
def _longest_phrase() -> int:
    return max(len(k) for k in _domain())


@cache
def _pattern() -> dict[str, float]:
    from textblob.en import sentiment as pattern_lexicon

    words: dict[str, float] = {}
    for word, senses in pattern_lexicon.items():
        polarity = float((senses.get(None) or next(iter(senses.values())))[0])
        if abs(polarity) >= PATTERN_MIN and " " not in word:
            words[word] = polarity
    return words


@cache
def _vader() -> dict[str, float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return {w: max(-1.0, min(1.0, v / 4.0)) for w, v in SentimentIntensityAnalyzer().lexicon.items()
            if " " not in w}


def word_polarity(word: str) -> float | None:
    """The prior polarity of one word, or None when it carries none."""
    value = _domain().get((word,))
    if value is not None:
        return value or None
    if word in NEGATORS or word in INTENSIFIERS or word in DIMINISHERS:
        return None
    value = _pattern().get(word)
    if value is None:
        value = _vader().get(word)
    return value


def hits(text: str) -> list[Hit]:
    words = tokens(text)
    domain = _domain()
    longest = _longest_phrase()
    found: list[Hit] = []
    negated_until = -1
    i = 0
    while i < len(words):
        word = words[i]
        if word in CLAUSE_END:
            negated_until = -1
            i += 1
            continue
        if word in CONTRAST:
            # What came before "but" counts half as much as what follows it.
            found = [Hit(h.word, h.value, h.weight * 0.5) for h in found]
            negated_until = -1
            i += 1
            continue
        size, value = 1, None
        for n in range(min(longest, len(words) - i), 0, -1):
            phrase = tuple(words[i:i + n])
            if phrase in domain:
                size, value = n, domain[phrase]
                break
        if word in NEGATORS and size == 1:  # "no problems" is a phrase of its own, not a negation
            negated_until = i + NEGATION_SCOPE
        if value is None:
            value = word_polarity(word)
        elif value == 0:
            value = None
        before = words[i - 1] if i else ""
        if value is None:
            if before == "too" and word.isalpha() and word not in FUNCTION_WORDS:
                found.append(Hit("too " + word, TOO_NEUTRAL))
            i += size
            continue
        if before == "too":
            value = value * 1.3 if value < 0 else TOO_NEUTRAL  # "too expensive"; "too good" is rare
        else:
            for modifier in (before, words[i - 2] if i > 1 else ""):
                factor = INTENSIFIERS.get(modifier) or DIMINISHERS.get(modifier)
                if factor is None:
                    break
                value *= factor
        if i <= negated_until:
            value *= NEGATED
        found.append(Hit(" ".join(words[i:i + size]), max(-1.0, min(1.0, value))))
        # Negation reaches past a sentiment word only through "and"/"or" lists ("not clean or safe").
        if i <= negated_until and i + size < len(words) and words[i + size] in ("or", "nor"):
            negated_until = i + size + 2
        i += size
    return found
