"""Personal data out of anything shown to others.

Redacted: emails (also disguised: "john at example dot com", "huw(at)example(dot)com"), UK phone numbers,
full postcodes, National Insurance numbers, street addresses and house names given as an address, and the
names of private people: the respondent's own (given with the response), and names found in the text —
in introductions ("My name is…", "I'm…", "Fy enw i yw…"), sign-offs ("Regards, …", "Cofion, …"), after a
relation ("my son Dylan", "fy merch Elin"), after a title ("Mrs Pritchard"), and any given name from
``data/first_names.txt`` with the surname that follows it.

Kept: places, public bodies and officials named by their role. A given name that is part of a body or a
building ("Betsi Cadwaladr", "Ysgol Syr Hugh Owen", "Plas Arthur", "the Owain Glyndŵr centre") is not a
person's name: ``data/places.txt`` lists the ones that carry no body word, and a name next to a body word
(``BODY_WORDS``) is part of that body's name. Roles ("the chief executive", "y prif weithredwr") are
never names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from engagement.analysis.data_files import lines

KINDS = ("email", "phone", "postcode", "ni", "address", "name")
PLACEHOLDER = {kind: f"[{kind}]" for kind in KINDS}

_L = r"A-Za-zÀ-ÖØ-öø-ÿŴŵŶŷẀ-ẅỲỳ"  # letters, Welsh diacritics included
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# "john at example dot com", "sian.jones (at) gmail (dot) com", "tom [at] wales [dot] net", "hywel ar x dot cymru"
_AT = r"(?:\s*[(\[{]\s*(?:at|ar)\s*[)\]}]\s*|\s+(?:at|ar)\s+)"
_DOT = r"(?:\s*[(\[{]\s*dot\s*[)\]}]\s*|\s+dot\s+|\.)"
DISGUISED_EMAIL = re.compile(
    rf"(?<![\w.])[\w+'-]+(?:(?:\s+dot\s+|\.)[\w+'-]+)*{_AT}[\w-]+(?:{_DOT}[\w-]+)*(?:\s*[(\[{{]\s*dot\s*[)\]}}]\s*|\s+dot\s+)[\w-]+",
    re.IGNORECASE)
# UK numbers: +44 or 0, then 9–10 more digits with optional spaces, dots, dashes or brackets; or every
# digit spaced out ("0 7 7 0 0 …").
PHONE = re.compile(r"(?<![\w+])(?:\+44\s?\(?0?\)?|\(?0)\d{2,4}\)?(?:[\s.-]?\d){6,8}(?!\d)"
                   r"|(?<!\d)0(?: \d){9,10}(?!\d)")
# A full UK postcode (outward + inward code): CF10 1AA, LL77 7TW, SW1A 1AA.
POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s*\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
# National Insurance number: two letters, six digits (often in pairs), A–D.
NI_NUMBER = re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", re.IGNORECASE)

STREET_WORDS = ("Street|St|Road|Rd|Lane|Ln|Avenue|Ave|Terrace|Close|Drive|Way|Crescent|Place|Row|Parade|Court|"
                "Gardens|Grove|Hill|Square|Walk|View|Park|Estate|Mews|Rise|Green")
WELSH_STREET_WORDS = "Stryd|Heol|Ffordd|Lôn|Lon|Rhodfa|Teras|Cilgant|Stad|Ystad|Maes|Ffordd|Llwyn|Clos|Rhes"
_CAP = rf"[A-ZÀ-ÖØ-ÞŴŶ][{_L}'’-]*"
# "12 High Street", "45 Station Road", "3 Tan y Bryn Terrace", "Rhif 7 Stryd y Bont", "14 Ffordd Penrhos".
NUMBERED_ADDRESS = re.compile(
    rf"(?:\b(?:Flat|Fflat|Apartment|Unit)\s+\d+[A-Za-z]?,?\s+)?(?:\b[Rr]hif\s+)?\b\d{{1,4}}[A-Za-z]?,?\s+"
    rf"(?:(?:{_CAP}|y|yr|ar|the|of)\s+){{0,4}}?(?:{STREET_WORDS})\b(?:\s+(?:North|South|East|West|Isaf|Uchaf))?"
    rf"|(?:\b[Rr]hif\s+)?\b\d{{1,4}}[A-Za-z]?,?\s+(?:{WELSH_STREET_WORDS})(?:\s+(?:{_CAP}|y|yr|ar|'r)){{1,4}}")
STREET_WORD = re.compile(rf"\b(?:{STREET_WORDS}|{WELSH_STREET_WORDS}|Farm|Fferm|House|Cottage|Bwthyn|Rectory|Tŷ|Ty|"
                         rf"Bryn|Glan|Cae|Pen|Tan|Maes|Bron|Plas|Hafod|Hendre)\b")
# Where a text says what follows is where someone lives.
ADDRESS_TRIGGER = re.compile(
    r"\b(?:I|we|they|he|she)\s+(?:live|lives|am|are|'m|'re)\s+(?:at|on)\s+|\b(?:I'm|we're|I am|we are)\s+at\s+"
    r"|\b(?:my|our|his|her|their)\s+(?:address|street|house)\s*(?:is|:|,)\s*|\baddress\s*:\s*"
    r"|\b(?:[Ff]y|[Ee]in)\s+(?:nghyfeiriad|cyfeiriad|stryd)\s+(?:yw|ydy|:)\s*|\bcyfeiriad\s*:\s*"
    r"|\b(?:family|teulu)\s+at\s+|\bwe're the \w+ family at\s+", re.IGNORECASE)

# Introductions and sign-offs: the name follows.
INTRO = re.compile(
    r"\b(?:my name is|my name's|name\s*:|i am|i'm|im|this is|it's|fy enw i yw|fy enw i ydy|fy enw yw|fy enw ydy"
    r"|enw\s*:|signed,?|contact\s*:|greetings from|from|gan|cysylltwch â mi\s*:|cysylltwch a mi\s*:)\s+",
    re.IGNORECASE)
SIGN_OFF = re.compile(
    r"(?:^|[.!\n]\s*|,\s*|—\s*|-\s*)(?:(?:kind |best |warm |many )?regards|best wishes|many thanks|thanks(?: again)?"
    r"|thank you|cheers|yours(?: sincerely| faithfully| truly)?|cofion(?: cynnes| gorau)?|diolch(?: yn fawr)?"
    r"|diolch am wrando|pob hwyl|yr eiddoch yn gywir|yn gywir|hwyl fawr|dymuniadau gorau|love)\s*[,—–-]*\s*(?:from\s+)?",
    re.IGNORECASE)
RELATION = re.compile(
    r"\b(?:my|our|his|her|their)\s+(?:little\s+|older\s+|younger\s+|eldest\s+|youngest\s+)?"
    r"(?:son|daughter|child|boy|girl|baby|grandson|granddaughter|grandchild|husband|wife|partner|mum|mam|mother|"
    r"dad|father|brother|sister|nephew|niece|neighbour|neighbor|friend|son-in-law|daughter-in-law|twins|"
    r"grandmother|grandfather|nan|nain|taid|gran|grandad|carer|cousin|aunt|uncle|boyfriend|girlfriend)\s*,?\s+"
    r"|\b(?:fy|ein|ei)\s+(?:mab|merch|mhlentyn|mhlant|mhlant|mhlentyn bach|ngŵr|ngwr|ngwraig|mhartner|mam|nhad|"
    r"mrawd|chwaer|nai|nith|nghymydog|nghymdoges|ffrind|ŵyr|wyr|wyres|nain|nhaid|mab yng nghyfraith|efeilliaid|"
    r"nghariad|modryb|ewythr)\s*,?\s+",
    re.IGNORECASE)
TITLE = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Parch|Rev|Revd)\.?\s+(?=[A-Z])")
ASK_FOR = re.compile(r"\b(?:spoke to|speak to|talk to|talked to|ask for|call|ring|email|ffoniwch|holwch am|gofynnwch am)"
                     r"\s+(?=[A-Z])", re.IGNORECASE)
# Words that begin or end the name of a body or a building: a given name beside one is that body's name.
BODY_WORDS = frozenset(w.lower() for w in """Ysgol Ysbyty Canolfan Coleg Capel Eglwys Plas Tŷ Ty Theatr Neuadd Clwb
Parc Pont Castell Stryd Heol Ffordd Lôn Maes Prifysgol Cyngor Bwrdd Amgueddfa Llyfrgell Syr Sant Santes St Saint
Sir Centre Center Hall School Hospital House Street Road Park Bridge Court College University Library Chapel Church
Theatre Club Trust Foundation Board Council Academy Surgery Practice Hospice Ward Unit Way Avenue Square Arms Inn
Hotel Lodge Primary Comprehensive Leisure Memorial Fund Award Building""".split())
STOP_AFTER_NAME = frozenset(w.lower() for w in """I I'm And A An The In At On From To Of Here Is Was Has Had Who
Which That Not But Or Yn Y Yr Ac A Ond Sydd Oedd Mae Wedi Ar O I'r Ydw Dw Rwy""".split())
# Words that may stand capitalised in a name but start no name of their own.
NAME_PARTICLES = {"ap", "ab", "ferch", "verch", "de", "van", "von", "le", "la", "mc", "mac", "o'"}

_ACCENTS = {"a": "aâáàä", "e": "eêéèë", "i": "iîíìï", "o": "oôóòö", "u": "uûúùü", "w": "wŵẃẁẅ", "y": "yŷýỳÿ"}


@dataclass(frozen=True, slots=True)
class Span:
    kind: str
    start: int
    end: int


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def first_names() -> frozenset[str]:
    return frozenset(_fold(name) for line in lines("first_names.txt") for name in line.split())


@cache
def _places() -> re.Pattern:
    names = sorted(lines("places.txt"), key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(_accent_free(n) for n in names) + r")(?![\w])", re.IGNORECASE)


def _accent_free(part: str) -> str:
    out = []
    for char in unicodedata.normalize("NFC", part):
        base = unicodedata.normalize("NFKD", char.lower())[0]
        if char.isspace():
            out.append(r"\s+")
        else:
            out.append(f"[{_ACCENTS[base]}]" if base in _ACCENTS else re.escape(char))
    return "".join(out)


def _name_pattern(part: str) -> str:
    return rf"(?<!\w){_accent_free(part)}(?!\w)"


NAME_WORD = re.compile(rf"(?:[A-Z]\.\s?)?[A-ZÀ-ÖØ-ÞŴŶ][{_L}]*(?:['’-][{_L}]+)*(?:'s|’s)?")


def _name_at(text: str, start: int, *, need_known: bool = False) -> tuple[int, int] | None:
    """The name that begins at ``start`` (one to four capitalised words, particles between), if any."""
    words = []
    pos = start
    while len(words) < 4:
        m = NAME_WORD.match(text, pos)
        if m is None:
            particle = re.match(r"(ap|ab|ferch|de|van|von|le)\s+", text[pos:], re.IGNORECASE)
            if words and particle and NAME_WORD.match(text, pos + particle.end()):
                pos += particle.end()
                continue
            break
        word = m.group(0)
        bare = re.sub(r"['’]s$", "", word)
        if bare.lower() in STOP_AFTER_NAME or bare.lower() in BODY_WORDS:
            break
        words.append((m.start(), m.start() + len(bare)))
        if bare != word:  # "Catrin Owen's phone": the name ends at the possessive
            break
        gap = re.match(r"[ \t]+", text[m.end():])
        if not gap:
            break
        pos = m.end() + gap.end()
    if not words:
        return None
    if need_known and _fold(text[words[0][0]:words[0][1]]).split(".")[-1].strip() not in first_names():
        return None
    return words[0][0], words[-1][1]


def _body_around(text: str, start: int, end: int) -> bool:
    """A name that is part of a body's or a building's name: a body word right after it, or beginning the
    run of capitalised words it ends ("Ysgol Syr Hugh Owen", "Canolfan Hamdden Plas Arthur")."""
    after = re.match(r"\s+([\w’']+)", text[end:end + 40])
    if after and after.group(1).lower() in BODY_WORDS:
        return True
    run = re.search(r"((?:[A-ZÀ-ÖØ-ÞŴŶ][\w’'-]*\s+(?:(?:y|yr|ar|of|the)\s+)?){1,5})$", text[max(0, start - 80):start])
    return bool(run and any(w.lower() in BODY_WORDS for w in run.group(1).split()))


def _names(text: str, given: Iterable[str]) -> list[Span]:
    spans: list[Span] = []
    for name in given:
        name = (name or "").strip()
        parts = [p for p in name.split() if len(p) >= 2 and p.lower() not in NAME_PARTICLES
                 and p.lower() not in {"mr", "mrs", "ms", "miss", "dr", "prof", "the", "and", "of"}]
        for part in [name, *sorted(parts, key=len, reverse=True)]:
            if len(part) >= 2:
                spans += [Span("name", m.start(), m.end()) for m in re.finditer(_name_pattern(part), text, re.IGNORECASE)]
    places = [m.span() for m in _places().finditer(text)]

    def in_place(start: int, end: int) -> bool:
        return any(a <= start and end <= b for a, b in places)

    for pattern in (INTRO, SIGN_OFF, RELATION, TITLE, ASK_FOR):
        for m in pattern.finditer(text):
            found = _name_at(text, m.end(), need_known=pattern in (INTRO, ASK_FOR) and not _intro_is_sure(m))
            if found and not in_place(*found) and not (pattern is ASK_FOR and _body_around(text, *found)):
                spans.append(Span("name", *found))
    # "Ffion here", "Gwilym drws nesaf", "the Hughes family", "X and I".
    for m in re.finditer(rf"(?:^|(?<=[.!?]\s))({_CAP})(?=\s+(?:here\b|and I\b|a fi\b|drws nesaf\b))", text):
        spans.append(Span("name", m.start(1), m.end(1)))
    for m in re.finditer(rf"\b(?:the|y)\s+({_CAP})\s+(?:family|teulu)\b", text, re.IGNORECASE):
        spans.append(Span("name", m.start(1), m.end(1)))
    for m in re.finditer(rf"\b({_CAP})\s+(?=drws nesaf\b)", text):
        spans.append(Span("name", m.start(1), m.end(1)))
    # Any known given name, with its surname, unless it is part of a place or a body.
    for m in NAME_WORD.finditer(text):
        bare = re.sub(r"['’]s$", "", m.group(0))
        if _fold(bare) not in first_names():
            continue
        found = _name_at(text, m.start())
        if found is None or in_place(*found) or _body_around(text, *found):
            continue
        spans.append(Span("name", *found))
    # A contact block: a capitalised name right before an address, email or phone.
    return spans


def _intro_is_sure(m: re.Match) -> bool:
    """"My name is" and "Fy enw" always introduce a name; "I'm"/"from" only with a known given name."""
    word = m.group(0).strip().lower()
    return word.startswith(("my name", "fy enw", "name", "enw", "signed", "contact", "cysylltwch"))


def _addresses(text: str) -> list[Span]:
    spans = [Span("address", *m.span()) for m in NUMBERED_ADDRESS.finditer(text)]
    for m in ADDRESS_TRIGGER.finditer(text):
        pos = m.end()
        end = None
        first = True
        while True:
            chunk = re.match(r"[^,.;:!?\n()]+", text[pos:])
            if not chunk:
                break
            piece = chunk.group(0)
            piece = re.split(r"\s+(?:in|near|yn|ger|and|a|ac|,)\s+", piece)[0]
            if not piece.strip() or not (first or STREET_WORD.search(piece) or re.search(r"\d", piece)):
                break
            if not re.match(r"\s*(?:\d|[A-ZÀ-ÖØ-ÞŴŶ])", piece):
                break
            end = pos + len(piece.rstrip())
            first = False
            nxt = re.match(r",\s*", text[end:])
            if not nxt or len(piece) < len(chunk.group(0).rstrip()):
                break
            pos = end + nxt.end()
        if end is not None and end > m.end():
            spans.append(Span("address", m.end(), end))
    # A house name right before a numbered address ("Bryn Awel, 14 Ffordd Penrhos").
    for span in list(spans):
        before = re.search(rf"((?:{_CAP}\s+(?:y|yr|ar)?\s*)*{_CAP}),\s*$", text[max(0, span.start - 40):span.start])
        if before and STREET_WORD.search(before.group(1)) and span.start - len(before.group(0)) >= 0:
            spans.append(Span("address", span.start - len(before.group(0)) + before.start(1) - before.start(0),
                              span.end))
    return spans


def find(text: str, names: Iterable[str] = ()) -> list[Span]:
    """Every span of personal data in ``text``, longest first where they overlap, in text order."""
    if not text:
        return []
    spans = [Span("email", *m.span()) for m in EMAIL.finditer(text)]
    spans += [Span("email", *m.span()) for m in DISGUISED_EMAIL.finditer(text)]
    spans += [Span("ni", *m.span()) for m in NI_NUMBER.finditer(text)]
    spans += [Span("phone", *m.span()) for m in PHONE.finditer(text)]
    spans += [Span("postcode", *m.span()) for m in POSTCODE.finditer(text)]
    spans += _addresses(text)
    spans += _names(text, names)
    # Structured data first, then the widest span; overlapping spans merge into the first kept.
    order = {kind: i for i, kind in enumerate(KINDS)}
    spans.sort(key=lambda s: (order[s.kind], -(s.end - s.start), s.start))
    kept: list[Span] = []
    for span in spans:
        if any(span.start < k.end and k.start < span.end for k in kept):
            continue
        kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def redact(text: str, names: Iterable[str] = ()) -> str:
    return text and redacted(text, find(text, names))


def redacted(text: str, spans: Iterable[Span]) -> str:
    """``text`` with each span of personal data (``find``'s) replaced by the placeholder for its kind."""
    out = []
    last = 0
    for span in spans:
        out.append(text[last:span.start])
        out.append(PLACEHOLDER[span.kind])
        last = span.end
    out.append(text[last:])
    return "".join(out)
