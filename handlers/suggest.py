""""Did you mean…?": questions in people's own words answered as the command they stand for, and
close spellings of command words (both languages) and action refs offered back as buttons."""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import cache

from sqlmodel import select

from handlers.core import Button, Reply, Section
from handlers.turn import Turn
from handlers.words import SYNONYMS, every_command_word
from storage.models import Action
from storage.queries import ref_number

_PUNCTUATION = re.compile(r"[^\w\s-]")
_REF = re.compile(r"^[A-Za-z]-?\d{1,6}$")


def normalise_phrase(text: str) -> str:
    """Lower case, curly and straight apostrophes dropped ("what's" → "whats"), punctuation and
    extra spaces gone, accents kept (Welsh words differ by them)."""
    text = unicodedata.normalize("NFC", text).lower().replace("’", "").replace("'", "")
    return " ".join(_PUNCTUATION.sub(" ", text).split())


@cache
def _synonyms() -> dict[str, str]:
    return {normalise_phrase(phrase): command for phrase, command in SYNONYMS.items()}


def synonym(text: str) -> str | None:
    """The command words a whole question stands for ("What's overdue?" → "actions overdue")."""
    return _synonyms().get(normalise_phrase(text))


def close_phrase(text: str) -> str | None:
    """A known question close to ``text`` (a typo in a question), as its command words."""
    phrase = normalise_phrase(text)
    if len(phrase.split()) < 2:
        return None
    found = difflib.get_close_matches(phrase, list(_synonyms()), n=1, cutoff=0.85)
    return _synonyms()[found[0]] if found else None


def close_words(word: str, language: str = "en") -> list[tuple[str, str, str]]:
    """Command words spelt like ``word``: (word, canonical verb, its language), best first; of two
    as close ("stauts": status, statws), the one in the person's language first."""
    words = every_command_word()
    scored = []
    for w in words:
        ratio = difflib.SequenceMatcher(None, word.lower(), w).ratio()
        if ratio >= 0.7:
            scored.append((-round(ratio, 3), words[w][1] != language, w))
    seen, out = set(), []
    for _, _, w in sorted(scored)[:4]:
        verb, language = words[w]
        if verb not in seen:
            seen.add(verb)
            out.append((w, verb, language))
    return out


async def did_you_mean(turn: Turn, words: list[str]) -> Reply:
    """The reply to a first word that is no command: the nearest commands, each a button that runs
    it with the rest of the words; an action ref typed alone offers its history and an update."""
    first, rest = words[0], " ".join(words[1:])
    cy = turn.language == "cy"
    if _REF.match(first):
        from handlers.actions import normalise_ref

        ref = normalise_ref(first)
        if ref is not None:
            buttons = [Button(f"{'hanes' if cy else 'history'} {ref}", f"{'hanes' if cy else 'history'} {ref}"),
                       Button(f"{'diweddaru' if cy else 'update'} {ref}", f"{'diweddaru' if cy else 'update'} {ref}")]
            text = turn.t("handlers.did_you_mean_ref", ref=ref, history=buttons[0].command, update=buttons[1].command)
            return turn.reply(text, [Section(text=text, buttons=buttons)])
    candidates = close_words(first, turn.language)
    if not candidates:
        return turn.reply(turn.t("handlers.unknown_command", word=first))
    commands = [f"{w} {rest}".strip() for w, _, _ in candidates]
    if all(language == "cy" for _, _, language in candidates):
        turn.language = "cy"
    text = turn.t("handlers.did_you_mean", word=first, suggestions=turn.t("handlers.or_join").join(
        f"“{c}”" for c in commands))
    buttons = [Button(c[:70], c, style="primary" if i == 0 else None) for i, c in enumerate(commands)]
    return turn.reply(text, [Section(text=text, buttons=buttons)])


async def unknown_ref(turn: Turn, ref: str) -> Reply:
    """An action ref the board does not have: say so, and offer the refs spelt nearest to it."""
    refs = sorted((await turn.session.exec(select(Action.ref).where(Action.board_id == turn.board.id))).all(),
                  key=ref_number)
    text = turn.t("handlers.update_unknown_ref", ref=ref, board=turn.board.name)
    near = difflib.get_close_matches(ref.upper(), [r.upper() for r in refs], n=3, cutoff=0.6)
    if not near:
        return turn.reply(text)
    by_upper = {r.upper(): r for r in refs}
    near = sorted((by_upper[n] for n in near), key=ref_number)
    verb = turn.command.text.split()[0] if turn.command.text.split() else ""
    rest = " ".join(turn.command.text.split()[2:])
    commands = [f"{verb} {r} {rest}".strip() for r in near]
    text += " " + turn.t("handlers.did_you_mean_refs", refs=turn.t("handlers.or_join").join(near))
    return turn.reply(text, [Section(text=text, buttons=[Button(c[:70], c) for c in commands])])
