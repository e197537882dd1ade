"""English sentiment: VADER's rules and lexicon, with public-service phrases on top, and our own lexicon
scorer for the texts VADER finds nothing in.

VADER (the lexicon and rules in the vaderSentiment wheel: negation, boosters, "but", capitals,
punctuation, idioms) gives the score. Two changes, both measured on the development halves of the
public sets (``eval/``):

1. our lexicon of public-service phrases (``data/english_domain.tsv``: "waiting list", "on time",
   "too expensive"…) is matched first, as whole phrases, and words that *name* services rather than
   judge them ("care" in "social care", "primary", "older") are taken out of VADER's lexicon;
2. where VADER finds no sentiment (compound within ±0.05), ``hits`` scores the text with TextBlob's
   pattern lexicon (en-sentiment.xml, in the textblob wheel), the domain lexicon and VADER's lexicon, with
   negation over three words, intensifiers and "too X". A text with clear opinion words is then rarely
   neutral.
"""

from __future__ import annotations

import re
from functools import cache

from engagement.analysis.data_files import table
from engagement.analysis.sentiment import Hit, combine

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
# Words that start a clause contrasting with the one before it.
CONTRAST = {"but", "however", "although", "though", "yet", "except", "whereas", "nevertheless", "nonetheless"}
CLAUSE_END = {".", "!", "?", ";", ":", ","}
NEGATION_SCOPE = 3
NEGATED = -0.7  # "not good" is less bad than "bad"
TOO_NEUTRAL = -0.4  # "too long", "too far", "too busy"
PATTERN_MIN = 0.1
VADER_NEUTRAL = 0.05
FUNCTION_WORDS = {"and", "or", "but", "the", "a", "an", "to", "of", "in", "on", "at", "is", "are", "was", "were",
                  "be", "i", "we", "it", "they", "you", "me", "us", "them", "for", "with", "this", "that"}
# Words VADER rates that, in public-service feedback, name a service or a group rather than judge it.
SERVICE_WORDS = ("care", "social care", "health care", "healthcare", "child care", "childcare", "care home",
                 "care homes", "public", "play area", "playground", "special needs", "special educational needs",
                 "special school", "primary", "secondary", "mental", "social", "safety", "older", "young",
                 "younger", "private", "local", "main", "full")

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
def _vader():
    """VADER's analyser with our phrases in its lexicon (as one token each, e.g. 'waiting_list') and
    the words that name services taken out."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    for word in SERVICE_WORDS:
        analyser.lexicon.pop(word, None)
    phrases = []
    for words, value in _domain().items():
        if len(words) > 1 and value:
            analyser.lexicon["_".join(words)] = value * 3.0  # our -1..1 on VADER's -4..4, as its strong words
            phrases.append(" ".join(words))
    pattern = re.compile(r"(?<![\w'])(" + "|".join(re.escape(p).replace(r"\ ", r"\s+")
                                                      for p in sorted(phrases, key=len, reverse=True))
                         + r")(?![\w'])", re.IGNORECASE)
    return analyser, pattern


@cache
def _vader_words() -> dict[str, float]:
    analyser, _ = _vader()
    return {w: max(-1.0, min(1.0, v / 4.0)) for w, v in analyser.lexicon.items() if " " not in w and "_" not in w}


def word_polarity(word: str) -> float | None:
    """The prior polarity of one word, or None when it carries none."""
    value = _domain().get((word,))
    if value is not None:
        return value or None
    if word in NEGATORS or word in INTENSIFIERS or word in DIMINISHERS:
        return None
    value = _pattern().get(word)
    if value is None:
        value = _vader_words().get(word)
    return value


def vader_compound(text: str) -> float:
    analyser, phrases = _vader()
    joined = phrases.sub(lambda m: "_".join(m.group(0).lower().split()), text)
    return analyser.polarity_scores(joined)["compound"]


def polarity(text: str) -> tuple[float, float]:
    """(polarity, confidence) of an English text: VADER's compound where it finds sentiment, else the
    lexicon scorer's. Confidence: how far the compound is from neutral (or the scorer's own)."""
    compound = vader_compound(text)
    if abs(compound) >= VADER_NEUTRAL:
        return round(compound, 4), round(min(1.0, 0.3 + abs(compound)), 4)
    return combine(hits(text))


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
