"""Emergent themes: the noun phrases a consultation's responses raise that no glossary topic names.

The glossary (``themes.py``) names the public services; it cannot name the closed bridge, the prom, the
pier or a local centre. Each response therefore also yields *candidate phrases* (``phrases``): noun
phrases outside every glossary term, each keyed by its lemmas (Welsh mutations undone, so "y bont",
"pont" and "mhont" share a key; English plurals singular), multi-word terms kept whole ("Christmas
lights", "swyddfa'r post"). A phrase also yields the single nouns inside it, so "the harbour wall" and
"the harbour" both count for "harbour". What is never a candidate: anything inside a glossary term (weak
terms too) or a redacted span (names, addresses), verbs (English by part of speech, pattern's tagger that
ships with TextBlob; Welsh verb-nouns from simplemma's Welsh dictionary, where conjugated forms lead to
them, and by their endings), function words, evaluative words (VADER's and our Welsh lexicon), given
names, and the incidental nouns and describing adjectives of ``data/incidental_*.txt`` (time, people,
family, place in general, "a fantastic job").

A candidate becomes a theme of a consultation when ``MIN_RESPONSES`` responses raise it (``Promoter``),
unless two thirds of its responses already raise an emergent theme (the same topic named another way:
"bridge" and "closure") or say it inside one longer phrase ("cafe" in "Repair Café": that phrase is the
theme once it is raised often enough); such a key is weighed again each time its count doubles. It is
labelled with its most common wording in each language it was raised in.
Its key is ``~`` and its lemmas ("~pier", "~swyddfa post"): a topic raised in both languages shares a key
only when both write it alike (a loan word or a name: pier, Glanrafon); otherwise each language has its
own theme, which a person may merge.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

import simplemma

from engagement.analysis import welsh
from engagement.analysis.data_files import lines
from engagement.analysis.redact import first_names
from engagement.analysis.themes import ARTICLES, Mention, fold, term_mentions

MIN_RESPONSES = 3  # "several": how many responses must raise a phrase before it is a theme
COVERED = 2 / 3  # a candidate whose responses mostly raise an emergent theme already is that theme
KEY_PREFIX = "~"  # not "+", which starts a formula in a spreadsheet
MAX_WORDS = 3  # a phrase is kept whole up to this many words (its head and the words nearest it)

WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*|[.,;:!?()\[\]\"“”]|\s[-–—]\s")
CY_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*|[.,;:!?()\[\]\"“”]|\s[-–—]\s")
BOUNDARY = re.compile(r"^(?:[.,;:!?()\[\]\"“”]|\s[-–—]\s)$")
TITLES = frozenset("mr mrs ms miss dr cllr councillor cynghorydd syr sir prof professor parch".split())
NOUN_TAGS = ("NN", "NNS", "NNP", "NNPS")
ADJ_TAGS = ("JJ",)

# Welsh words after which a noun stands: the article, possessives, prepositions, quantifiers, numbers.
CY_BEFORE_NOUN = frozenset("""y yr r fy dy ei ein eich eu w m i o ar am at gan heb hyd dan tan dros drwy trwy
wrth gyda gydag efo â ag mewn rhwng tua ger ym yng rhag pob unrhyw sawl ambell angen eisiau un dau dwy tri
tair pedwar pedair pum pump chwe chwech saith wyth naw deg deng mae roedd oedd bydd byddai sydd does oes mai
dyma dyna""".split())
CY_GENITIVE = frozenset({"y", "yr", "r"})
# Conjugated Welsh verbs: past (-odd, -ais, -asom…), imperative (-wch), impersonal (-wyd, -ir),
# conditional (-ai, -wn, -ech, -ent), future/present plural (-ant, but not -iant nouns).
CY_VERB_ENDINGS = re.compile(r"(?:odd|ais|aist|asom|asoch|asant|wch|wyd|iff|ech|ent)$|(?<!i)ant$|^.{3,}(?:ai|wn|ir)$")


@dataclass(frozen=True)
class Phrase:
    """A noun phrase a text raises that the glossary does not name: a candidate emergent theme."""

    key: str  # "~pier", "~christmas light", "~swyddfa post"
    wording: str  # as written, without its article; a Welsh first word unmutated ("pont", "Canolfan Glanrafon")
    language: str
    start: int
    end: int
    sentiment: str = "neutral"
    polarity: float = 0.0


@dataclass
class EmergentTheme:
    key: str
    responses: set = field(default_factory=set)
    wordings: dict[str, Counter] = field(default_factory=dict)  # language -> wording -> mentions

    def label(self, language: str) -> str:
        return label_of(self.wordings, language)


def label_of(wordings: dict[str, Counter], language: str) -> str:
    """The most common wording in ``language``, else in the other language (as written there)."""
    for lang in (language, "cy" if language == "en" else "en"):
        counts = wordings.get(lang)
        if counts:
            wording = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold(), kv[0]))[0][0]
            return wording[:1].upper() + wording[1:]
    return ""


# --- word lists ---------------------------------------------------------------------------------


@cache
def _words(name: str) -> frozenset[str]:
    return frozenset(fold(w) for line in lines(name) for w in line.split() if not w.endswith(":"))


@cache
def _incidental(language: str) -> tuple[frozenset[str], frozenset[str]]:
    """(nouns, describing adjectives) that are never a theme on their own."""
    nouns, adjectives = set(), set()
    for line in lines(f"incidental_{language}.txt"):
        words = line.split()
        if words and words[0] == "adjectives:":
            adjectives.update(fold(w) for w in words[1:])
        else:
            nouns.update(fold(w) for w in words)
    return frozenset(nouns), frozenset(adjectives)


@cache
def _welsh_evaluative() -> frozenset[str]:
    return frozenset(welsh.lexicon())


@cache
def _english_evaluative() -> frozenset[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lexicon = SentimentIntensityAnalyzer().lexicon
    return frozenset(w for w, v in lexicon.items() if abs(float(v)) >= 1.0) | frozenset(
        fold(line.split("\t")[0]) for line in lines("english_domain.tsv"))


@cache
def _welsh_function_words() -> frozenset[str]:
    return (welsh.stopwords() | welsh.NEGATORS | welsh.FUNCTION_WORDS | welsh.NA_VERBS | frozenset(CY_BEFORE_NOUN)
            | frozenset("""fyny ffwrdd lleiaf leiaf gwbl ol nol hefyd eto nawr rwan bellach erioed byth yma yna fan ers
tra fel pan os cyn wedi achos oherwydd felly ond neu heb cyfer ugain hugain deugain cant mil miliwn pymtheg""".split()))


@cache
def welsh_verbnouns() -> frozenset[str]:
    """Welsh verb-nouns: the lemmas simplemma's Welsh dictionary gives conjugated forms of several kinds."""
    try:
        from simplemma.strategies.dictionaries import DEFAULT_DICTIONARY_FACTORY as factory
    except ImportError:  # an older simplemma
        from simplemma.strategies.dictionaries import DefaultDictionaryFactory

        factory = DefaultDictionaryFactory()
    dictionary = factory.get_dictionary("cy")
    endings = (b"odd", b"asom", b"asoch", b"asant", b"aist", b"wch", b"wyd", b"ais", b"ech", b"ent")
    raw = getattr(dictionary, "_dict", None)
    kinds: dict = {}
    pairs = raw.items() if isinstance(raw, dict) else ((k.encode(), dictionary[k].encode()) for k in dictionary)
    for form, lemma in pairs:
        if len(form) > 5 and form.endswith(endings):
            kinds.setdefault(lemma, set()).add(next(e for e in endings if form.endswith(e)))
    return frozenset(fold(lemma.decode()) for lemma, found in kinds.items() if len(found) >= 3)


@cache
def _welsh_verbs() -> frozenset[str]:
    """Every Welsh verb-noun: simplemma's (``welsh_verbnouns``) and the package's own list."""
    return welsh_verbnouns() | _words("welsh_verbnouns.txt")


# --- keys ---------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def english_lemma(word: str) -> str:
    word = fold(word).replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return fold(simplemma.lemmatize(word, lang="en"))


@lru_cache(maxsize=65536)
def welsh_lemma(word: str) -> str:
    """One radical lemma for every mutated form of a Welsh word ("bont", "mhont", "pont" -> "pont"). A
    name (capitalised) is only unmutated ("Nghanolfan" -> "canolfan"), never made singular ("Heli")."""
    name = word[:1].isupper()
    word = fold(word)
    options = [word] + sorted(welsh.demutate(word) - {word})
    for option in options:
        if simplemma.is_known(option, lang="cy"):
            lemma = fold(simplemma.lemmatize(option, lang="cy"))
            if name:
                return lemma if lemma in options else option
            for _ in range(3):  # a mutated form's lemma may itself be a form ("goeden" -> "coeden" -> "coed")
                if len(lemma) > len(option) or not simplemma.is_known(lemma, lang="cy"):
                    break  # a verb-noun from a noun ("fferm" -> "ffermio"): keep the noun
                nxt = fold(simplemma.lemmatize(lemma, lang="cy"))
                if nxt == lemma or len(nxt) > len(lemma):
                    break
                lemma = nxt
            return option if len(lemma) > len(option) else lemma
    for mutated, radical in (("ngh", "c"), ("mh", "p"), ("nh", "t"), ("ph", "p"), ("dd", "d")):
        if word.startswith(mutated) and len(word) > len(mutated) + 2:
            return radical + word[len(mutated):]
    return word


def welsh_radical(word: str) -> str:
    """The word as a label would start it: unmutated, as written otherwise ("bont" -> "pont",
    "Nghanolfan" -> "Canolfan", "wylanod" -> "gwylanod")."""
    folded = fold(word)
    lemma = welsh_lemma(word)
    options = sorted(welsh.demutate(folded) - {folded})
    if folded == lemma or not options:
        return word
    for option in [lemma] + options:
        if option in options and (option == lemma or simplemma.is_known(option, lang="cy")
                                  and welsh_lemma(option) == lemma):
            return option[:1].upper() + option[1:] if word[:1].isupper() else option
    return word


# --- finding candidate phrases ------------------------------------------------------------------


@dataclass
class _Token:
    text: str
    start: int
    end: int
    blocked: bool = False  # inside a glossary term or a redacted span
    boundary: bool = False  # punctuation


def _tokens(text: str, language: str, blocked: list[tuple[int, int]]) -> list[_Token]:
    pattern = CY_WORD if language == "cy" else WORD
    out = []
    for m in pattern.finditer(text):
        piece = m.group(0)
        token = _Token(piece.strip(), m.start(), m.end(), boundary=bool(BOUNDARY.match(piece)))
        token.blocked = any(token.start < end and start < token.end for start, end in blocked)
        out.append(token)
    return out


def _named(tokens: list[_Token], i: int) -> bool:
    """A private person's name the redaction did not take: a given name, or capitalised after a title."""
    word = tokens[i].text
    if not word[:1].isupper():
        return False
    if fold(word) in first_names():
        return True
    j = i - 1
    while j >= 0 and tokens[j].text[:1].isupper() and not tokens[j].boundary and fold(tokens[j].text) not in TITLES:
        j -= 1
    return j >= 0 and fold(tokens[j].text.rstrip(".")) in TITLES


def _english_units(text: str, blocked: list[tuple[int, int]]) -> list[tuple[list[str], str, int, int]]:
    """(keys in order of preference, wording, start, end) for each English noun phrase."""
    from textblob.en import parser

    tokens = _tokens(text, "en", blocked)
    if not tokens:
        return []
    tags = [tag for _word, tag in parser.find_tags([t.text for t in tokens])]
    incidental, describing = _incidental("en")
    evaluative = _english_evaluative()
    kinds = []  # "n" noun, "a" adjective kept inside a phrase, "" neither
    for i, (token, tag) in enumerate(zip(tokens, tags)):
        folded = fold(token.text)
        if token.boundary or token.blocked or _named(tokens, i) or not token.text[:1].isalpha() \
                or "'" in folded and not folded.endswith("'s"):
            kinds.append("")
        elif tag in NOUN_TAGS and folded not in evaluative and english_lemma(token.text) not in evaluative \
                and (len(folded) > 2 or token.text.isupper()):
            kinds.append("n")
        elif tag in ADJ_TAGS and folded not in describing and folded not in evaluative:
            kinds.append("a")
        else:
            kinds.append("")
    out = []
    i = 0
    while i < len(tokens):
        if not kinds[i]:
            i += 1
            continue
        j = i
        while j < len(tokens) and kinds[j]:
            j += 1
            if fold(tokens[j - 1].text).endswith(("'s", "’s")):
                break  # "my neighbour's bike": the owner is a phrase of its own
        run = list(range(i, j))
        while run and kinds[run[-1]] != "n":  # a phrase ends in its noun
            run.pop()
        if run:
            run = run[-MAX_WORDS:]
            words = [tokens[k] for k in run]
            lemmas = [english_lemma(t.text) if t.text.endswith(("'s", "’s")) else fold(t.text)
                      for t in words[:-1]] + [english_lemma(words[-1].text)]
            units = [" ".join(lemmas[k:]) for k in range(len(words) - 1)
                     if kinds[run[k]] == "n" or k == 0]  # the whole phrase, then its shorter tails

            for k in reversed(range(len(words))):  # the head first, then the nouns before it
                if kinds[run[k]] == "n" and lemmas[k] not in incidental and fold(words[k].text) not in incidental:
                    units.append(lemmas[k])
            wording = text[words[0].start:words[-1].end]
            if units:
                out.append((units, wording, words[0].start, words[-1].end))
        i = j
    return out


def _welsh_units(text: str, blocked: list[tuple[int, int]]) -> list[tuple[list[str], str, int, int]]:
    """(keys in order of preference, wording, start, end) for each Welsh noun phrase."""
    tokens = _tokens(text.replace("’", "'"), "cy", blocked)
    function = _welsh_function_words()
    incidental, describing = _incidental("cy")
    verbs = _welsh_verbs()
    evaluative = _welsh_evaluative()

    def content(i: int) -> bool:
        token = tokens[i]
        if token.boundary or token.blocked or not token.text[:1].isalpha() or _named(tokens, i):
            return False
        folded = fold(token.text)
        if folded in function or len(folded) < 3 and not token.text.isupper() or CY_VERB_ENDINGS.search(folded):
            return False
        options = welsh.demutate(folded) | {folded}
        return not (options & function or options & verbs or options & evaluative or options & describing)

    def name_part(i: int) -> bool:
        """A capitalised word inside a name, whatever else it is ("Caffi Trwsio", "Pont Heli")."""
        token = tokens[i]
        return (token.text[:1].isupper() and not token.boundary and not token.blocked and not _named(tokens, i)
                and fold(token.text) not in function)

    def after_noun_slot(i: int) -> bool:
        if i + 2 < len(tokens) and fold(tokens[i + 1].text) in CY_GENITIVE and content(i + 2):
            return True  # a noun takes a genitive: "swyddfa'r post", "wal yr harbwr"
        if i == 0 or tokens[i - 1].boundary:
            return tokens[i].text[:1].isupper() and i + 1 < len(tokens) and not tokens[i + 1].boundary
        prev = fold(tokens[i - 1].text)
        return prev in CY_BEFORE_NOUN or tokens[i].text[:1].isupper()

    out = []
    i = 0
    while i < len(tokens):
        if not (content(i) and after_noun_slot(i)):
            i += 1
            continue
        parts = [(i, False)]  # (token, after a genitive article)
        j = i + 1
        while j < len(tokens) and len(parts) < MAX_WORDS:
            if fold(tokens[j].text) in CY_GENITIVE and j + 1 < len(tokens) and content(j + 1):
                parts.append((j + 1, True))
                j += 2
            elif content(j) or name_part(j):
                parts.append((j, False))
                j += 1
            else:
                break
        words = [tokens[k] for k, _ in parts]
        lemmas = [welsh_lemma(t.text) for t in words]
        units = [" ".join(lemmas[:k]) for k in range(len(words), 1, -1)]  # the whole phrase, then shorter
        for n, (k, genitive) in enumerate(parts):
            # The head; then a noun after "y" ("wal yr harbwr") or a name ("Canolfan Glanrafon").
            if (n == 0 or genitive or tokens[k].text[:1].isupper()) and lemmas[n] not in incidental:
                units.append(lemmas[n])
        if units:
            first = tokens[parts[0][0]]
            wording = welsh_radical(first.text) + text[first.end:words[-1].end]
            out.append((units, wording, first.start, words[-1].end))
        i = j
    return out


def phrases(text: str, language: str, redacted: list[tuple[int, int]] | None = None,
            terms: list[Mention] | None = None) -> list[Phrase]:
    """The candidate phrases of ``text``: one per key and noun phrase, in order (sentiment not yet set).
    ``terms`` are ``term_mentions(text, language)`` when the caller has them already."""
    if not text:
        return []
    if terms is None:
        terms = term_mentions(text, language)
    blocked = [(m.start, m.end) for m in terms] + list(redacted or [])
    units = _welsh_units(text, blocked) if language == "cy" else _english_units(text, blocked)
    out = []
    for keys, wording, start, end in units:
        wording = " ".join(wording.split())
        for key in dict.fromkeys(keys):
            out.append(Phrase(KEY_PREFIX + key[:78], wording[:200], language, start, end))
    return out


# --- several responses: promotion ---------------------------------------------------------------


class Promoter:
    """A consultation's emergent themes, as responses arrive in order: a key becomes a theme once
    ``min_responses`` responses raise it, unless two thirds of them already raise an emergent theme.
    ``engagement/theme_candidates.py`` applies the same rule to stored responses."""

    def __init__(self, min_responses: int = MIN_RESPONSES) -> None:
        self.min_responses = min_responses
        self.support: dict[str, set] = {}
        self.wordings: dict[str, dict[str, Counter]] = {}
        self.themes: dict[str, EmergentTheme] = {}
        self.keys_of: dict[object, list[str]] = {}

    def add(self, response_id, found: Iterable[Phrase]) -> None:
        keys = self.keys_of.setdefault(response_id, [])
        for phrase in found:
            if phrase.key not in keys:
                keys.append(phrase.key)
            self.support.setdefault(phrase.key, set()).add(response_id)
            self.wordings.setdefault(phrase.key, {}).setdefault(phrase.language, Counter())[phrase.wording] += 1
        for key in keys:
            theme = self.themes.get(key)
            if theme is not None:
                theme.responses.add(response_id)
            elif considered(len(self.support[key]), self.min_responses) and self.promotes(key):
                self.themes[key] = EmergentTheme(key, set(self.support[key]), self.wordings[key])

    def promotes(self, key: str) -> bool:
        raised = self.support.get(key, set())
        if len(raised) < self.min_responses:
            return False
        if any(len(raised & self.support[other]) >= COVERED * len(raised) for other in self.themes):
            return False  # mostly the responses of a theme already: the same topic named another way
        # Mostly said as part of a longer phrase ("cafe" in "Repair Café"): that phrase names it.
        longer = Counter(other for response in raised for other in self.keys_of.get(response, ())
                         if other != key and contains(other, key))
        return not any(count >= COVERED * len(raised) for count in longer.values())

    def links(self, response_id) -> list[str]:
        return [key for key, theme in self.themes.items() if response_id in theme.responses]


def considered(count: int, min_responses: int = MIN_RESPONSES) -> bool:
    """Whether a key raised by ``count`` responses is weighed for promotion now: when it reaches several,
    and again each time that doubles (a key that waited for a longer phrase, or was another theme's, is
    looked at again as it grows, not at every response)."""
    return count == min_responses or count > min_responses and count & (count - 1) == 0


def contains(longer: str, key: str) -> bool:
    """Whether the phrase ``longer`` has ``key``'s words in it, in order and together."""
    outer, inner = longer[len(KEY_PREFIX):].split(), key[len(KEY_PREFIX):].split()
    return len(outer) > len(inner) and any(outer[i:i + len(inner)] == inner for i in range(len(outer) - len(inner) + 1))


def promote(responses: Iterable[tuple[object, Iterable[Phrase]]], min_responses: int = MIN_RESPONSES
            ) -> dict[str, EmergentTheme]:
    """The emergent themes of responses taken in order: (response id, its phrases)."""
    promoter = Promoter(min_responses)
    for response_id, found in responses:
        promoter.add(response_id, found)
    return promoter.themes


__all__ = ["ARTICLES", "KEY_PREFIX", "MIN_RESPONSES", "EmergentTheme", "Phrase", "Promoter", "label_of", "phrases",
           "promote", "welsh_lemma"]
