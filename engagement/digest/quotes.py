"""Representative quotes: for each theme one or two per side (positive and negative wherever both
exist), short but informative, from redacted text, never from hidden or withdrawn responses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engagement.analysis import redact

# Under this many characters a quote rarely says why; over the cap it is cut (INFORMATIVE, LONGEST: the
# stored quote candidates are ranked by the same two numbers, so storage.tallies defines them).
from storage.tallies import INFORMATIVE, LONGEST

PER_SIDE = 2
# Chat mention and link syntax ('<!channel>', '<@U123>', '<#C1>', '<!subteam^S1>', '<http://x|y>'),
# and bare '@here'-style words: shown as text, never as a ping.
_MENTION = re.compile(r"<\s*[!@#][^>]*>|<\s*(?:https?|mailto):[^>]*>")
_AT_WORD = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)


# Never quoted: text with markup in it, shouting, or too short to say anything.
_MARKUP = re.compile(r"<\s*/?\s*[a-z!][^>]*>|\*\*|__|\[[^\]]*\]\(|```", re.IGNORECASE)
SHORTEST = 20


def quotable(text: str) -> bool:
    """A text fit to stand as someone's view: no markup, not mostly capitals, not a few words."""
    if not text or _MARKUP.search(text):
        return False
    letters = [c for c in text if c.isalpha()]
    if len(letters) < SHORTEST:
        return False
    return sum(c.isupper() for c in letters) <= 0.5 * len(letters)


def clean(text: str) -> str:
    """A quote as safe plain text: personal data redacted again (belt and braces), mention syntax
    removed, whitespace folded, cut to ``LONGEST`` characters at a word boundary."""
    if not quotable(text or ""):
        return ""
    text = redact(text or "")
    text = _MENTION.sub("[…]", text)
    text = _AT_WORD.sub("", text)
    text = " ".join(text.split())
    if len(text) > LONGEST:
        cut = text[:LONGEST].rsplit(" ", 1)[0]
        text = cut.rstrip(",;:.") + "…"
    return text


@dataclass(frozen=True)
class Candidate:
    key: str  # the theme key ('' for the Welsh-language question)
    side: str  # positive | negative
    language: str
    text: str
    confidence: float
    response_id: int
    pinned: bool = False  # a person chose it: it comes first

    @property
    def rank(self) -> tuple:
        size = len(self.text)
        informative = 0 if INFORMATIVE <= size <= LONGEST else (1 if size > LONGEST else 2)
        return (not self.pinned, informative, size if informative < 2 else -size, -(self.confidence or 0),
                self.response_id)


def pick(candidates: list[Candidate], per_side: int = PER_SIDE) -> dict[str, list[dict]]:
    """Up to ``per_side`` quotes for each side; the second in the other language where there is one,
    so a theme raised in both languages is heard in both. Each response is quoted once at most."""
    chosen: dict[str, list[dict]] = {"positive": [], "negative": []}
    for side in chosen:
        mine = sorted((c for c in candidates if c.side == side), key=lambda c: c.rank)
        picked: list[Candidate] = []
        seen: set[str] = set()
        for c in mine:
            if len(picked) == per_side:
                break
            if c.text in seen or any(p.response_id == c.response_id for p in picked):
                continue
            if picked and not c.pinned and c.language == picked[0].language and any(
                    o.language != picked[0].language and o.text not in seen for o in mine):
                continue  # keep the place for a quote in the other language
            picked.append(c)
            seen.add(c.text)
        if len(picked) < per_side:  # no quote in the other language fitted: fill in order
            for c in mine:
                if len(picked) == per_side:
                    break
                if c.text not in seen and all(p.response_id != c.response_id for p in picked):
                    picked.append(c)
                    seen.add(c.text)
        chosen[side] = [{"text": c.text, "language": c.language, "response_id": c.response_id,
                         **({"pinned": True} if c.pinned else {})} for c in picked]
    return chosen
