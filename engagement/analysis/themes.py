"""Themes: the public-service topics a response raises, one key per topic in both languages.

A theme is named by a term of the bilingual glossary (``data/topics.tsv``): "GP appointment",
"meddygfa", "holiday lets", "tai haf", "iechyd meddwl". Terms are matched whole (a multi-word term is
never split: "iechyd meddwl" is mental health, not "health" and "think"), on lemmas: English plurals
("buses" names "bus"; but "jobs" is listed plural, so "a fantastic job" names nothing), Welsh
mutations undone ("fws", "mws" name "bws"; "dai haf" names "tai haf") and Welsh plurals through
simplemma's Welsh data. Articles inside a term are skipped ("canol y dref"). Incidental nouns, verbs and
function words name nothing, so they are never themes.

A weak term (``~`` in the glossary: "school", "road", "appointment") names its topic only when nothing
else is named in its clause — "a cycle path to the secondary school" is about the cycle path — and
``~~`` widens that to the sentence ("the CAMHS waiting list"). Each theme carries the labels in both
languages, and the sentiment of the clause it sits in (see ``clauses``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache

import simplemma

from engagement.analysis import welsh
from engagement.analysis.data_files import lines

ARTICLES = frozenset({"y", "yr", "r", "the", "a", "an"})
TOKEN = re.compile(r"a&e|[^\W_]+(?:-[^\W_]+)*", re.IGNORECASE)
# Where a clause ends, for weak terms: punctuation and the words that join clauses.
CLAUSE_WORDS = {"en": frozenset("and but or so because although though however whereas while yet since".split()),
                "cy": frozenset("ac a ond neu felly achos oherwydd er tra fodd bynnag serch".split())}
MOTION = re.compile(r"(?<!\w)(?:to|towards|from|i|i'r|at|o'r|o)\s+(?:the\s+|y\s+|yr\s+)?$", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?]+|\n+")  # a semicolon joins related clauses
CLAUSE_END = re.compile(r"[.!?;:,()]+|\n+|\s[-–—]\s")


@dataclass(frozen=True)
class Topic:
    key: str
    label_en: str
    label_cy: str

    def label(self, language: str) -> str:
        return self.label_cy if language == "cy" else self.label_en


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    topic: str
    weak: int  # 0 strong, 1 clause, 2 sentence
    language: str


@dataclass(frozen=True)
class Mention:
    """One place in a text where a topic is named."""

    topic: str
    start: int
    end: int
    weak: int


@dataclass(frozen=True)
class Theme:
    """A topic a response raises, with the sentiment of the clauses that name it."""

    key: str
    label_en: str
    label_cy: str
    sentiment: str = "neutral"
    polarity: float = 0.0
    spans: tuple[tuple[int, int], ...] = field(default=())

    def label(self, language: str) -> str:
        return self.label_cy if language == "cy" else self.label_en


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def topics() -> dict[str, Topic]:
    found = {}
    for line in lines("topics.tsv")[1:]:
        key, label_en, label_cy, _en, _cy = line.split("\t")
        found[key] = Topic(key, label_en, label_cy)
    return found


@cache
def _terms() -> dict[str, dict[str, list[Term]]]:
    """language -> first word -> terms starting with it, longest first."""
    index: dict[str, dict[str, list[Term]]] = {"en": {}, "cy": {}}
    for line in lines("topics.tsv")[1:]:
        key, _label_en, _label_cy, en, cy = line.split("\t")
        for language, terms in (("en", en), ("cy", cy)):
            for raw in terms.split(";"):
                raw = raw.strip()
                if not raw:
                    continue
                weak = len(raw) - len(raw.lstrip("~"))
                words = tuple(w for w in fold(raw.lstrip("~")).replace("'", " ").split() if w not in ARTICLES)
                index[language].setdefault(words[0], []).append(Term(words, key, weak, language))
    for by_word in index.values():
        for terms in by_word.values():
            terms.sort(key=lambda t: -len(t.words))
    return index


@lru_cache(maxsize=65536)
def forms(token: str, language: str) -> frozenset[str]:
    """The forms a token may stand for: itself, its lemma, and in Welsh its unmutated forms and theirs."""
    word = fold(token)
    if language == "en":
        out = {word, fold(simplemma.lemmatize(word, lang="en"))}
        if word.endswith("s") and len(word) > 3:
            out.add(word[:-1])
        return frozenset(out)
    out = {word} | {fold(w) for w in welsh.demutate(word)}
    out |= {fold(simplemma.lemmatize(w, lang="cy")) for w in list(out)}
    return frozenset(out)


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """Words with their offsets; a Welsh elision is its own word ("i'r" -> "i", "r")."""
    out = []
    for m in TOKEN.finditer(text):
        out.append((m.group(0), m.start(), m.end()))
    return out


def _matches(words: list[tuple[str, int, int]], i: int, term: Term, language: str) -> int:
    """How many text words ``term`` covers from word ``i`` (0: no match). Articles are skipped."""
    j = i
    for k, wanted in enumerate(term.words):
        if k:
            while j < len(words) and fold(words[j][0]) in ARTICLES:
                j += 1
        if j >= len(words):
            return 0
        word = words[j][0]
        if language == "en":
            folded = fold(word)
            ok = wanted == folded or wanted in forms(word, "en") and not wanted.endswith("s")
        else:
            ok = wanted in forms(word, "cy")
        if not ok:
            return 0
        j += 1
    return j - i


def mentions(text: str, language: str) -> list[Mention]:
    """Every topic named in ``text`` (weak terms resolved), in order."""
    return resolve(text, term_mentions(text, language), language)


def term_mentions(text: str, language: str) -> list[Mention]:
    """Every glossary term in ``text``, weak ones too (before they give way), in order."""
    words = _tokens(text.replace("’", "'"))
    index = _terms()[language]
    found: list[Mention] = []
    i = 0
    while i < len(words):
        best: tuple[int, bool, int, Term] | None = None
        surface = fold(words[i][0])
        for form in forms(words[i][0], language):
            for term in index.get(form, ()):
                size = _matches(words, i, term, language)
                if not size:
                    continue
                # Longest first; then a term written as the text has it ("parking", not "park" for
                # "parking"); then the stronger term.
                rank = (size, term.words[0] == surface, -term.weak, term)
                if best is None or rank[:3] > best[:3]:
                    best = rank
        if best is None:
            i += 1
            continue
        size, _exact, _strength, term = best
        found.append(Mention(term.topic, words[i][1], words[i + size - 1][2], term.weak))
        i += size
    return found


def resolve(text: str, found: list[Mention], language: str) -> list[Mention]:
    """Weak terms give way to a stronger topic in their clause (or sentence)."""
    if not any(m.weak for m in found):
        return found
    clauses = _spans(text, CLAUSE_END, CLAUSE_WORDS.get(language, frozenset()))
    sentences = _spans(text, SENTENCE_END)

    def region(m: Mention, spans: list[tuple[int, int]]) -> tuple[int, int]:
        return next((s for s in spans if s[0] <= m.start < s[1]), (0, len(text)))

    kept = []
    for m in found:
        if m.weak:
            # A weak term after "to"/"i'r" is where someone is going ("late to school", "i'r ysgol"):
            # it gives way to a topic anywhere in its sentence.
            going = MOTION.search(text[max(0, m.start - 12):m.start])
            scope = region(m, clauses if m.weak == 1 and not going else sentences)
            if any(o.topic != m.topic and not o.weak and scope[0] <= o.start < scope[1] for o in found):
                continue
        kept.append(m)
    return kept


def _spans(text: str, ends: re.Pattern, clause_words: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    cuts = {0, len(text)}
    for m in ends.finditer(text):
        cuts.add(m.end())
    if clause_words:
        for m in re.finditer(r"(?<!\w)(" + "|".join(sorted(clause_words, key=len, reverse=True)) + r")(?!\w)",
                             text, re.IGNORECASE):
            cuts.add(m.start())
    ordered = sorted(cuts)
    return [(a, b) for a, b in zip(ordered, ordered[1:]) if b > a]


def theme_key(phrase: str, language: str) -> str:
    """The key of the topic a phrase names (its first), or '' when it names none."""
    found = mentions(phrase, language)
    return found[0].topic if found else ""
