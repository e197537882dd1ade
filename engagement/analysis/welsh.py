"""Welsh: initial mutations by rule, the sentiment lexicon with every mutated form, scoring."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from engagement.analysis.data_files import lines, table
from engagement.analysis.sentiment import Hit

# Initial consonant mutations: radical -> mutated.
SOFT = [("ll", "l"), ("rh", "r"), ("p", "b"), ("t", "d"), ("c", "g"), ("b", "f"), ("d", "dd"), ("g", ""), ("m", "f")]
NASAL = [("p", "mh"), ("t", "nh"), ("c", "ngh"), ("b", "m"), ("d", "n"), ("g", "ng")]
ASPIRATE = [("p", "ph"), ("t", "th"), ("c", "ch")]
VOWELS = "aeiouwyâêîôûŵŷ"

NEGATORS = {"ddim", "dim", "nid", "nad", "nac", "heb", "byth", "nis", "dydy", "dyw", "dydi", "dydw", "dydyn",
            "dydych", "doedd", "does", "dwyt", "sdim", "nag", "chwaith", "mo"}
# "na" is "than" after a comparative ("gwell na") and "not" before a verb ("na fydd"); "ni" is "we"
# except at the start of a clause ("Ni fydd y bws yn dod").
NA_VERBS = {"fydd", "fyddai", "fu", "ddylai", "ddylid", "ddylen", "all", "allai", "allwn", "allaf", "chaiff",
            "chafodd", "chawn", "chawsom", "wnaeth", "wnaiff", "wna", "wnewch", "welais", "welodd", "oes",
            "ydy", "yw", "oedd", "roedd", "ddaeth", "ddaw", "chaf", "cheir", "wyddwn", "ellir"}
CLAUSE_END = {".", "!", "?", ";", ":", ","}
INTENSIFIERS_AFTER = {"iawn": 1.4, "dros ben": 1.5, "tu hwnt": 1.5, "llwyr": 1.3}
INTENSIFIERS_BEFORE = {"gwir": 1.4, "rhy": 1.3, "mor": 1.3, "hynod": 1.5, "eithriadol": 1.5, "andros": 1.5,
                       "llawer": 1.2, "cwbl": 1.3, "hollol": 1.4}
DIMINISHERS = {"braidd": 0.6, "eithaf": 0.8, "eitha": 0.8, "gweddol": 0.6, "ychydig": 0.6}
BOUNDARIES = {"ond", "er", "fodd", "serch"}
ARTICLES = {"y", "yr", "r"}
# How many words after a negator it reaches ("Dydy'r gwasanaeth bws ddim yn dda iawn").
NEGATION_SCOPE = 6
NEGATED = -0.7
TOO_NEUTRAL = -0.4
FUNCTION_WORDS = {"y", "yr", "r", "a", "ac", "o", "i", "yn", "n", "ei", "eu", "ein", "fy", "dy", "eich", "ar", "am",
                  "at", "gan", "gyda", "heb", "mewn", "wedi", "mae", "bod", "ydy", "yw", "oedd"}

WORD = re.compile(r"[a-zâêîôûŵŷáéíóúàèìòùäëïöüẁẃẅỳ]+", re.IGNORECASE)
# Words (a hyphenated compound such as "di-flas" is one word; an elision such as "i'r" is two) and
# clause punctuation.
TOKEN = re.compile(r"[a-zâêîôûŵŷáéíóúàèìòùäëïöüẁẃẅỳ]+(?:-[a-zâêîôûŵŷáéíóúàèìòùäëïöüẁẃẅỳ]+)*|[.!?;:,]",
                   re.IGNORECASE)


def fold(word: str) -> str:
    """Lower case without accents, for lookups (the original text is never changed)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def mutations(word: str) -> set[str]:
    """The radical form and its soft, nasal, aspirate and h- forms."""
    word = word.lower()
    forms = {word}
    for rules in (SOFT, NASAL, ASPIRATE):
        for radical, mutated in rules:
            if word.startswith(radical):
                forms.add(mutated + word[len(radical):])
                break
    if word[:1] in VOWELS:
        forms.add("h" + word)
    return {f for f in forms if f}


def demutate(word: str) -> set[str]:
    """Possible radical forms of a (perhaps mutated) word."""
    word = word.lower()
    candidates = {word}
    for rules in (NASAL, ASPIRATE, SOFT):
        for radical, mutated in rules:
            if mutated and word.startswith(mutated):
                candidates.add(radical + word[len(mutated):])
    if word[:1] in "aeiouwyâêîôûŵŷlr" or word.startswith(("w", "o")):
        candidates.add("g" + word)  # soft mutation drops g-: wael -> gwael
    if word.startswith("h") and word[1:2] in VOWELS:
        candidates.add(word[1:])
    return candidates


@cache
def lexicon() -> dict[str, tuple[str, float]]:
    """Every mutated form of every lemma, folded -> (lemma, polarity)."""
    forms: dict[str, tuple[str, float]] = {}
    predicative = _predicative()
    # A mutated form that is also a common word is left out: "na" (nasal "da") is "than"/"not".
    common = stopwords() | NEGATORS | FUNCTION_WORDS | NA_VERBS | {"na", "ni", "ei", "fe", "hen", "deg", "gwyn", "dau", "dwy", "fan", "man", "ddau"}
    for lemma, polarity in table("welsh_lexicon.tsv").items():
        for form in mutations(lemma):
            if form != lemma and fold(form) in common:
                # ...except as a predicate after "yn"/"mor"/"rhy": "yn deg" is "fair", not "ten".
                predicative.setdefault(fold(form), (lemma, float(polarity)))
                continue
            # A radical form wins over another word's mutated form (e.g. "dig" vs "tig").
            key = fold(form)
            if key not in forms or form == lemma:
                forms[key] = (lemma, float(polarity))
    return forms


@cache
def _predicative() -> dict[str, tuple[str, float]]:
    """Mutated forms that are also common words, filled by ``lexicon()``."""
    return {}


PREDICATIVE_AFTER = {"yn", "n", "mor", "rhy", "go", "eithaf", "eitha", "braidd", "hynod"}


@cache
def phrases() -> dict[tuple[str, ...], float]:
    """Multi-word expressions and idioms, folded word tuples -> polarity (0: read as no sentiment)."""
    return {tuple(fold(k).split()): float(v) for k, v in table("welsh_phrases.tsv").items()}


@cache
def _longest_phrase() -> int:
    return max(len(k) for k in phrases())


@cache
def stopwords() -> frozenset[str]:
    return frozenset(lines("welsh_stopwords.txt"))


def hits(text: str) -> list[Hit]:
    """The sentiment words of a Welsh text, after negation and intensifiers."""
    words = [fold(w) for w in TOKEN.findall(text)]
    entries = lexicon()
    known = phrases()
    longest = _longest_phrase()
    found: list[Hit] = []
    negated_until = -1
    skip_until = -1
    boost: dict[int, float] = {}
    for i, word in enumerate(words):
        if i <= skip_until:
            continue
        phrase = next((words[i:i + n] for n in range(min(longest, len(words) - i), 1, -1)
                       if tuple(words[i:i + n]) in known), None)
        if phrase is not None:
            skip_until = i + len(phrase) - 1
            value = known[tuple(phrase)]
            if value:
                if i <= negated_until:
                    value *= NEGATED
                found.append(Hit(" ".join(phrase), value))
            continue
        if word in CLAUSE_END or word in ("a", "ac") and negated_until >= i:
            negated_until = -1  # "heb ei glanhau ac yn frwnt": the negation ends with its clause
            continue
        before = words[i - 1] if i else "."
        after = words[i + 1] if i + 1 < len(words) else ""
        if (word in NEGATORS and not (word == "dim" and after == "ond")
                or word == "na" and (after in NA_VERBS or before in CLAUSE_END)
                or word == "ni" and before in CLAUSE_END and after not in CLAUSE_END):
            negated_until = i + NEGATION_SCOPE
            continue
        if word in BOUNDARIES:
            # "ond" (but): the clause after it outweighs the one before, and negation stops.
            found = [Hit(h.word, h.value, h.weight * 0.5) for h in found]
            negated_until = -1
            continue
        hit = entries.get(word)
        if hit is None and before in PREDICATIVE_AFTER:
            hit = _predicative().get(word)
        if hit is not None and word == "cas" and before in ARTICLES:
            hit = None  # "y cas" is a case (the English loan), not "nasty"
        if hit is not None and after == "o" and i + 2 < len(words) and abs(hit[1]) >= 0.5 and (
                entries.get(words[i + 2]) or _predicative().get(words[i + 2])):
            # "ofnadwy o dda", "hynod o araf": the first word only says how much.
            boost[i + 2] = 1.4
            continue
        if hit is None:
            if before == "rhy" and word not in FUNCTION_WORDS:
                found.append(Hit("rhy " + word, TOO_NEUTRAL))  # "rhy hir" (too long): a complaint
            continue
        value = hit[1]
        after2 = " ".join(words[i + 1:i + 3])
        if before == "rhy":
            value = value * 1.3 if value < 0 else TOO_NEUTRAL  # even a good quality, too much, is a complaint
        else:
            value *= INTENSIFIERS_BEFORE.get(before, 1.0) * DIMINISHERS.get(before, 1.0)
            if before == "o" and i > 1:  # "hynod o araf"
                value *= INTENSIFIERS_BEFORE.get(words[i - 2], 1.0)
        value *= INTENSIFIERS_AFTER.get(after, INTENSIFIERS_AFTER.get(after2, 1.0))
        value *= boost.get(i, 1.0)
        if i <= negated_until:
            value *= NEGATED
        found.append(Hit(word, max(-1.0, min(1.0, value))))
    return found
