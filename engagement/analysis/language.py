"""Welsh or English, offline.

A text is in the language of its grammar: the articles, pronouns, particles and verb forms a sentence
is built from. "Mae'r bus service yn awful" is Welsh (mae, 'r, yn) with English nouns in it; "The staff
at Tŷ Hafan were wonderful" is English (the, at, were) with a Welsh name in it. So grammar words decide
when one language clearly has more of them; otherwise ``py3langid`` (its model ships inside the wheel),
limited to Welsh and English, decides. Very short replies ("Ie", "Iawn", "Dim sylw", "OK") are looked up.
Compared with simplemma's detector and lingua on eval/data (see docs/decisions): py3langid was the most
accurate on short and code-switched text and is small.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

# Words that build a sentence in one language and are not (common) words of the other.
WELSH_GRAMMAR = frozenset("""
mae maen mae'r mae'n ma ma'r ma'n yn 'n y yr 'r roedd roeddwn roedden oedd oedden dw dwi dw'n rwy rwy'n rydw rydw'n
rydyn rydym rydych ydy ydw ydi ydyn ydych yw wyt does dydy dydw dyw dydi dydyn doedd dim ddim wedi wedi'i wedi'u
gyda efo gan ond ac neu fy dy ei ein eich eu nhw hi fe fo fi ni chi sydd sy sy'n bod bydd byddai byddwn bydda fydd
fyddai fyddwn fydda sa sa'n basai baswn wnaeth wnes wnaethon gwnaeth cafodd ces cawson ar am o i'r o'r i'm a'r
ag hefyd iawn mwy gormod rhy mor pan achos oherwydd felly hyn hynny hon hwn yma yno plîs diolch heb
nid nad os ydyn roeddwn byddan mewn wrth drwy dros rhaid angen
""".split())
ENGLISH_GRAMMAR = frozenset("""
the is are was were be been being am it it's its we you they he she them their our my your his her this that
these those of and to for with but not have has had do does did don't doesn't didn't can't won't isn't aren't
wasn't there here what which who when where why how would should could will can may might must very so if
because about from by at on into than then also just only been i'm i've we're they're you're there's that's
an any some all no in as or up out over under after before only more now than into onto off again
""".split())
# Whole replies too short for a model.
SHORT = {
    "cy": {"ie", "iawn", "na", "nage", "naddo", "do", "oes", "nac oes", "ydw", "nac ydw", "ydy", "nac ydy", "dim sylw",
           "dim", "dim byd", "diolch", "diolch yn fawr", "cytuno", "anghytuno", "da", "da iawn", "gwych", "ofnadwy",
           "dim barn", "amherthnasol", "dim syniad", "efallai", "hwyrach", "siwr", "ddim yn siwr", "dim o gwbl",
           "cytuno'n llwyr", "rhy ddrud", "hwyl", "bendigedig", "gwael", "grêt", "iawn diolch"},
    "en": {"yes", "no", "ok", "okay", "no comment", "n/a", "na.", "agree", "disagree", "thanks", "thank you",
           "not sure", "maybe", "good", "great", "terrible", "none", "nothing", "too expensive", "fine",
           "great idea", "strongly agree", "strongly disagree", "not at all", "no thanks", "nope", "yep", "yeah",
           "unsure", "don't know", "dont know", "no opinion", "excellent", "poor", "bad"},
}
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _short() -> dict[str, str]:
    return {_fold(phrase): language for language, phrases in SHORT.items() for phrase in phrases}


@cache
def _welsh_grammar() -> frozenset[str]:
    return frozenset(_fold(w) for w in WELSH_GRAMMAR)


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(["cy", "en"])
    return identifier


def grammar_counts(text: str) -> tuple[int, int]:
    """(Welsh, English) grammar words in a text; a word after "'" counts in its Welsh form ("mae'r")."""
    welsh = english = 0
    for word in WORD.findall(text):
        folded = _fold(word)
        if folded in _welsh_grammar() or folded.split("'")[0] in _welsh_grammar() and "'" in folded:
            welsh += 1
        elif folded in ENGLISH_GRAMMAR:
            english += 1
    return welsh, english


def detect_language(text: str) -> str:
    """'cy' or 'en'."""
    text = (text or "").strip()
    folded = " ".join(_fold(w) for w in WORD.findall(text))
    if not folded:
        return "en"
    short = _short().get(folded) or _short().get(_fold(text.strip(" .!?")))
    if short:
        return short
    welsh, english = grammar_counts(text)
    if welsh >= english + 2 or (welsh > english and english == 0):
        return "cy"
    if english >= welsh + 2 or (english > welsh and welsh == 0):
        return "en"
    if not welsh and not english:
        # No grammar to go by: names ("Bwrdd Ynys Môn", "Tŷ Hafan") say nothing of the language around
        # them, so the other words are judged: by which language's dictionary knows more of them (the
        # English lexicon in the textblob wheel, simplemma's Welsh), then by the model.
        words = text.split()
        plain = [w for k, w in enumerate(words) if k == 0 or not w[:1].isupper()]
        if len(plain) < len(words) and WORD.search(" ".join(plain)):
            text = " ".join(plain)
        known_en = known_cy = 0
        for word in WORD.findall(text):
            folded = _fold(word)
            in_en, in_cy = folded in _english_words(), _known_welsh(folded)
            known_en += in_en and not in_cy
            known_cy += in_cy and not in_en
        if known_en != known_cy:
            return "en" if known_en > known_cy else "cy"
        if len(WORD.findall(text)) < 3:
            return "en"  # a word or two both languages share ("A-1 red"): nothing says it is Welsh
    return _identifier().classify(text)[0]


@cache
def _english_words() -> frozenset[str]:
    """Every word of the Brill lexicon that ships with TextBlob (about 80,000 English words)."""
    import os

    import textblob

    path = os.path.join(os.path.dirname(textblob.__file__), "en", "en-lexicon.txt")
    with open(path, encoding="utf-8") as handle:
        return frozenset(line.split()[0].lower() for line in handle if line.strip() and not line.startswith(";"))


@cache
def _known_welsh(word: str) -> bool:
    import simplemma

    return simplemma.is_known(word, lang="cy")
