"""Welsh: initial mutations by rule, the sentiment lexicon with every mutated form, scoring."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from engagement.analysis.data_files import lines, table

# Initial consonant mutations: radical -> mutated.
SOFT = [("ll", "l"), ("rh", "r"), ("p", "b"), ("t", "d"), ("c", "g"), ("b", "f"), ("d", "dd"), ("g", ""), ("m", "f")]
NASAL = [("p", "mh"), ("t", "nh"), ("c", "ngh"), ("b", "m"), ("d", "n"), ("g", "ng")]
ASPIRATE = [("p", "ph"), ("t", "th"), ("c", "ch")]
VOWELS = "aeiouwyâêîôûŵŷ"

NEGATORS = {"ddim", "dim", "nid", "nad", "na", "nac", "heb", "byth", "erioed", "ni", "nis",
            "dydy", "dyw", "dydi", "dydw", "dydyn", "dydych", "doedd", "does", "dwyt", "sdim", "nag"}
INTENSIFIERS_AFTER = {"iawn": 1.4, "dros ben": 1.5, "tu hwnt": 1.5}
INTENSIFIERS_BEFORE = {"gwir": 1.4, "rhy": 1.3, "mor": 1.3, "hynod": 1.5, "eithriadol": 1.5, "andros": 1.5,
                       "llawer": 1.2, "cwbl": 1.3, "hollol": 1.4}
DIMINISHERS = {"braidd": 0.6, "eithaf": 0.8, "eitha": 0.8, "gweddol": 0.6, "ychydig": 0.6}
BOUNDARIES = {"ond", "er", "fodd", "serch"}

WORD = re.compile(r"[a-zâêîôûŵŷáéíóúàèìòùäëïöüẁẃẅỳ]+", re.IGNORECASE)


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
    for lemma, polarity in table("welsh_lexicon.tsv").items():
        for form in mutations(lemma):
            # A radical form wins over another word's mutated form (e.g. "dig" vs "tig").
            key = fold(form)
            if key not in forms or form == lemma:
                forms[key] = (lemma, float(polarity))
    return forms


@cache
def stopwords() -> frozenset[str]:
    return frozenset(lines("welsh_stopwords.txt"))


def score(text: str) -> tuple[float, int]:
    """(polarity -1..1, number of sentiment words found) for Welsh text."""
    words = [fold(w) for w in WORD.findall(text)]
    entries = lexicon()
    scores: list[float] = []
    negated_until = -1
    for i, word in enumerate(words):
        if word in NEGATORS:
            negated_until = i + 6
            continue
        if word in BOUNDARIES:
            negated_until = -1
            continue
        hit = entries.get(word)
        if hit is None:
            continue
        value = hit[1]
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        after2 = " ".join(words[i + 1:i + 3])
        value *= INTENSIFIERS_BEFORE.get(before, 1.0) * DIMINISHERS.get(before, 1.0)
        value *= INTENSIFIERS_AFTER.get(after, INTENSIFIERS_AFTER.get(after2, 1.0))
        if before == "rhy" and value > 0:
            value = -0.3  # "rhy" (too) makes even a good quality a complaint
        if i <= negated_until:
            value *= -0.8
        scores.append(max(-1.0, min(1.0, value)))
    if not scores:
        return 0.0, 0
    return max(-1.0, min(1.0, sum(scores) / len(scores) ** 0.8)), len(scores)
