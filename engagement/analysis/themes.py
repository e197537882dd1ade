"""Themes: key phrases per language, offline, and keys that merge the same theme across
inflections, Welsh mutations and the two languages.

Candidates are noun-phrase-like runs of 1–3 words between stop words, punctuation, numbers and
sentiment words (so "rude drivers" and "friendly drivers" are both the theme "drivers"); in English a
run must end in a noun by the Brill lexicon that ships with TextBlob (no NLTK data), in Welsh verb-nouns
and stop words (``data/welsh_stopwords.txt``) end a run. Short texts (most responses) rank candidates by
frequency, length and position; from ``LONG_TEXT`` words YAKE ranks them, since its statistics
(frequency, spread over sentences, co-occurrence) need text to work on, and it costs ~2–3 ms a call.
"""

from __future__ import annotations

import os
import re
from functools import cache

import simplemma

from engagement.analysis import english, welsh
from engagement.analysis.data_files import table

LONG_TEXT = 60  # words
MAX_WORDS = 3
ENGLISH_STOP = frozenset("""
i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his himself she her hers
herself it its itself they them their theirs themselves what which who whom whose this that these those am is are
was were be been being have has had having do does did doing would should could ought might must shall will can
may a an the and but if or because as until while of at by for with about against between into through during
before after above below to from up down in out on off over under again further then once here there when where
why how all any both each few more most other some such no nor not only own same so than too very just now also
really much many lot lots get got getting go going gone went come came make made think thought know knew want
wanted need needed say said like please thank thanks yes ok okay etc every always never still even well way
things thing something anything everything nothing someone anyone everyone people person time times year years
day days week weeks month months today tomorrow yesterday new old local next last whole different same area
bit kind sort part use used using one two three four five six seven eight nine ten first second third dont cant
isnt wont didnt doesnt im ive id youre theyre weve hes shes thats theres lets mr mrs ms dr
""".split())
NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS", "FW"})
KEEP_TAGS = NOUN_TAGS | {"JJ", "VBG", "CD"}
ENGLISH_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|[^\w\s]")
WELSH_WORD = re.compile(r"[a-zâêîôûŵŷáéíóúàèìòùäëïöüẁẃẅỳ0-9]+(?:-[a-zâêîôûŵŷ0-9]+)*|[^\w\s'’]")
NUMBERISH = re.compile(r"^[\d.,%£:/-]+$")


@cache
def _english_tags() -> dict[str, str]:
    """Word -> most likely part of speech, from the Brill lexicon in the textblob wheel."""
    import textblob

    path = os.path.join(os.path.dirname(textblob.__file__), "en", "en-lexicon.txt")
    tags: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 2 and not line.startswith(";"):
                word, tag = parts
                if word.islower() or word.lower() not in tags:
                    tags[word.lower()] = tag
    return tags


@cache
def _welsh_stop() -> frozenset[str]:
    return frozenset(welsh.fold(w) for w in welsh.stopwords())


@cache
def _glossary() -> dict[str, str]:
    """Welsh word or phrase (folded) -> English key (lemmas), e.g. 'bws' -> 'bus'."""
    return {welsh.fold(k): " ".join(_english_lemma(w) for w in v.split()) for k, v in table("glossary.tsv").items()}


@cache
def _english_lemma(word: str) -> str:
    # Only plurals and unknown words are lemmatised: "parking" and "housing" are nouns, not "park"/"house".
    word = word.lower()
    tag = _english_tags().get(word)
    if tag in (None, "NNS", "NNPS"):
        return simplemma.lemmatize(word, lang="en").lower()
    return word


@cache
def _welsh_lemma(word: str) -> str:
    """The radical lemma of a Welsh word: mutation undone, plural made singular (simplemma does
    both for the words it knows; the rules in ``welsh.demutate`` cover the ones it doesn't)."""
    folded = welsh.fold(word)
    glossary = _glossary()
    if folded in glossary:
        return folded
    lemma = welsh.fold(simplemma.lemmatize(folded, lang="cy"))
    if lemma == folded and not simplemma.is_known(folded, lang="cy"):
        for candidate in sorted(welsh.demutate(folded), key=len):
            if candidate in glossary or simplemma.is_known(candidate, lang="cy"):
                lemma = welsh.fold(simplemma.lemmatize(candidate, lang="cy"))
                break
    # Plurals lemmatise in two steps in simplemma's data ("fysiau" -> "bysiau" -> "bws").
    again = welsh.fold(simplemma.lemmatize(lemma, lang="cy"))
    return again if again in glossary or lemma not in glossary and again != lemma else lemma


def _aligned(word_key: str) -> str:
    return _glossary().get(word_key, word_key)


def theme_key(phrase: str, language: str) -> str:
    """A key that is the same for 'bus service'/'bus services', 'gwasanaeth bws'/'wasanaeth bws'/
    'ngwasanaeth bws', and for Welsh and English words the glossary pairs ('bws' ~ 'bus'). Words are
    sorted, so Welsh head-first and English head-last noun phrases meet ('canolfan iechyd' ~
    'health centre')."""
    if language == "cy":
        words = [w for w in WELSH_WORD.findall(phrase.lower().replace("’", "'")) if w[0].isalnum()]
        if not words:
            return ""
        whole = welsh.fold(" ".join(words))
        if whole in _glossary():
            return " ".join(sorted(_glossary()[whole].split()))
        lemmas = [_welsh_lemma(w) for w in words]
        whole = " ".join(lemmas)
        if whole in _glossary():
            return " ".join(sorted(_glossary()[whole].split()))
        keys = " ".join(_aligned(lemma) for lemma in lemmas).split()
    else:
        words = [w for w in ENGLISH_WORD.findall(phrase.lower().replace("’", "'")) if w[0].isalnum()]
        if not words:
            return ""
        keys = [_english_lemma(w) for w in words]
    return " ".join(sorted(keys))


# --- candidates -------------------------------------------------------------------------------


def _english_runs(text: str) -> list[list[str]]:
    tags = _english_tags()
    runs: list[list[str]] = []
    run: list[str] = []
    for token in ENGLISH_WORD.findall(text.lower().replace("’", "'")):
        word = token[:-2] if token.endswith("'s") else token.replace("'", "")
        tag = tags.get(word)
        boundary = (not word[:1].isalnum() or word in ENGLISH_STOP or NUMBERISH.match(word) or len(word) < 2
                    or english.word_polarity(word) is not None or word in english.INTENSIFIERS
                    or word in english.DIMINISHERS or word in english.NEGATORS
                    or (tag is not None and tag not in KEEP_TAGS))
        if boundary:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(word)
    if run:
        runs.append(run)
    phrases = []
    for run in runs:
        # A theme ends in a noun: trim trailing adjectives and -ing forms ("bus late" never arises,
        # but "waiting" or "available" might); unknown words count as nouns (names, new words).
        while run and tags.get(run[-1], "NN") not in NOUN_TAGS:
            run = run[:-1]
        if run:
            phrases.append(run[-MAX_WORDS:])
    return phrases


def _welsh_runs(text: str) -> list[list[str]]:
    stop = _welsh_stop()
    sentiment = welsh.lexicon()
    runs: list[list[str]] = []
    run: list[str] = []
    for token in WELSH_WORD.findall(text.lower().replace("’", "'").replace("'", " ")):
        folded = welsh.fold(token)
        boundary = (not token[:1].isalnum() or folded in stop or NUMBERISH.match(token) or len(token) < 2
                    or folded in sentiment or folded in welsh.NEGATORS or folded in welsh.INTENSIFIERS_BEFORE
                    or folded in welsh.DIMINISHERS)
        if boundary:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(token)
    if run:
        runs.append(run)
    # Welsh noun phrases are head-first ("gwasanaeth bws newydd"): keep the first words.
    return [r[:MAX_WORDS] for r in runs]


def _display(words: list[str], language: str) -> str:
    if language == "cy" and words:
        # Show a theme in its radical form ("dref" -> "tref", "wasanaethau" -> "gwasanaethau") when
        # undoing the mutation gives a known word with the same lemma; number is kept.
        first = welsh.fold(words[0])
        lemma = welsh.fold(simplemma.lemmatize(first, lang="cy"))
        for candidate in sorted(welsh.demutate(first) - {first}, key=len):
            if (simplemma.is_known(candidate, lang="cy")
                    and welsh.fold(simplemma.lemmatize(candidate, lang="cy")) == lemma):
                words = [candidate, *words[1:]]
                break
    return " ".join(words)


def _yake_order(text: str, language: str, top: int) -> list[str]:
    import yake

    stop = set(welsh.stopwords()) if language == "cy" else set(ENGLISH_STOP)
    source = text.replace("’", "'").replace("'", " ") if language == "cy" else text
    extractor = yake.KeywordExtractor(lan="en", n=MAX_WORDS, top=top * 4, dedup_lim=0.8, stopwords=stop)
    return [phrase.lower() for phrase, _ in extractor.extract_keywords(source)]


def key_phrases(text: str, language: str, top: int = 5) -> list[str]:
    """Up to ``top`` theme phrases (1–3 words, lower case, in the text's language), best first."""
    text = text or ""
    runs = _welsh_runs(text) if language == "cy" else _english_runs(text)
    if not runs:
        return []
    # Each candidate: key -> [display, count, first position, words]
    found: dict[str, list] = {}
    for position, run in enumerate(runs):
        key = theme_key(" ".join(run), language)
        if key in found:
            found[key][1] += 1
        else:
            found[key] = [_display(run, language), 1, position, len(run)]
    if len(text.split()) >= LONG_TEXT:
        rank = {theme_key(p, language): i for i, p in enumerate(_yake_order(text, language, top))}
        order = sorted(found, key=lambda k: (rank.get(k, len(rank) + found[k][2]), found[k][2]))
    else:
        order = sorted(found, key=lambda k: (-(found[k][1] * 2 + min(found[k][3], 2) * 0.5), found[k][2]))
    chosen: list[str] = []
    chosen_words: list[set[str]] = []
    for key in order:
        words = set(key.split())
        # "bus" beside "bus service": one theme, the better-ranked wording.
        if any(words <= other or other <= words for other in chosen_words):
            continue
        chosen.append(found[key][0])
        chosen_words.append(words)
        if len(chosen) == top:
            break
    return chosen
