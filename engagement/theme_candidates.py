"""Emergent themes in storage: each response's candidate phrases (``ThemeCandidate``), how many responses
of a consultation raise each key (``ThemeCandidateKey``, kept as phrases are stored, replaced and
forgotten), and the consultation's themes promoted from them once several responses share a key.

The rule is ``engagement.analysis.emergent.Promoter``'s, applied as responses are stored: a key becomes an
emergent ``Theme`` (origin ``emergent``) when ``MIN_RESPONSES`` responses raise it, unless two thirds of
them already raise an emergent theme, or mostly say it as part of a longer phrase (weighed when it reaches
several and each time that doubles). Promotion links every response that raised it, with the mentions and
sentiment of its candidate rows; later responses are linked as they are analysed. From then on it is a
theme like any other: a person may rename, hide, merge, split, pin, reassign and sign it off, and
reanalysis keeps those edits (``engagement.themes``). Its analyser labels are the most common wording in
each language, refreshed as it grows."""

from __future__ import annotations

import contextlib
import functools
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, delete, distinct, func, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from engagement import analysis
from engagement.analysis.emergent import COVERED, considered, contains, label_of
from engagement.analysis.sentiment import label
from storage import tallies
from storage.models import (
    Response,
    ResponseTheme,
    Theme,
    ThemeCandidate,
    ThemeCandidateKey,
    ThemeMention,
    ThemeOrigin,
    utcnow,
)

PENDING = "theme_links"  # session.info: links made, whose mentions wait for their ids
CHUNK = 500  # ids in one IN (...) list


async def store(session: AsyncSession, response: Response, parts: Sequence[tuple[int | None, analysis.Analysis]],
                decided: set[int], kept: Collection[int] = ()) -> list[str]:
    """Replace the candidate phrases of ``response`` with those of ``parts`` and link it to the emergent
    themes it raises (promoting any key enough responses now share), except where a person decided its
    link (``decided``: theme ids). Returns the keys of the emergent themes it raises. ``kept``: responses
    whose digest totals the caller keeps in this transaction (the others a promotion links, it keeps)."""
    consultation_id = response.consultation_id
    before: set[str] = set()
    if response.analysed_at is not None:  # analysed before (a response's first analysis has nothing to replace)
        before = set((await session.exec(delete(ThemeCandidate).where(ThemeCandidate.response_id == response.id)
                                         .returning(ThemeCandidate.key))).scalars().all())
    # As plain rows (a model instance each cost more than storing it).
    rows = [{"consultation_id": consultation_id, "response_id": response.id, "question_id": question_id,
             "key": phrase.key, "language": phrase.language, "wording": phrase.wording, "sentiment": phrase.sentiment,
             "polarity": phrase.polarity, "start": phrase.start, "end": phrase.end}
            for question_id, result in parts for phrase in result.phrases]
    keys = list(dict.fromkeys(row["key"] for row in rows))
    # Only the keys this response raises anew, or no longer raises, change their count.
    counts = await _recount(session, consultation_id, added=set(keys) - before, removed=before - set(keys))
    if not rows:
        return []
    # In one statement (nothing reads their ids; added one by one, each was a round trip).
    await session.exec(insert(ThemeCandidate), params=rows)  # type: ignore[call-overload]
    themes = {t.key: t for t in (await session.exec(select(Theme).where(
        Theme.consultation_id == consultation_id, Theme.key.in_(keys)))).all()}
    raised = []
    for key in keys:
        theme = themes.get(key)
        count = counts.get(key)
        if theme is None:
            if count is None or not considered(count) or not await promotes(session, consultation_id, key, count):
                continue
            theme = await _promote(session, consultation_id, key, response.id, kept)
        elif theme.origin == ThemeOrigin.emergent and count is not None and _refresh_due(count):
            await _relabel(session, theme)
        raised.append(key)
        if theme.id not in decided:
            _link(session, response.id, consultation_id, theme, [SimpleNamespace(**r) for r in rows if r["key"] == key])
    return raised  # the mentions of its links are written by ``write_mentions``


async def forget(session: AsyncSession, response_id: int) -> None:
    """A withdrawn response's phrases go with its words (and stop counting toward any key)."""
    gone = (await session.exec(delete(ThemeCandidate).where(ThemeCandidate.response_id == response_id)
                               .returning(ThemeCandidate.consultation_id, ThemeCandidate.key))).all()
    by_consultation: dict[int, set[str]] = defaultdict(set)
    for consultation_id, key in gone:
        by_consultation[consultation_id].add(key)
    for consultation_id, keys in by_consultation.items():
        await _recount(session, consultation_id, added=set(), removed=keys)


async def _recount(session: AsyncSession, consultation_id: int, added: set[str], removed: set[str]) -> dict[str, int]:
    """Count one more response for each key of ``added`` and one fewer for each of ``removed``; returns
    the new counts of ``added``. Keys are taken in order, so two workers never wait on each other's rows
    the other way round."""
    if removed:
        await session.exec(update(ThemeCandidateKey).where(  # type: ignore[call-overload]
            ThemeCandidateKey.consultation_id == consultation_id, ThemeCandidateKey.key.in_(sorted(removed)))
            .values(responses=ThemeCandidateKey.responses - 1))
    if not added:
        return {}
    return dict((await session.exec(_counting(session.bind.dialect.name), params=[  # type: ignore[call-overload]
        {"cid": consultation_id, "key": key} for key in sorted(added)])).all())


@functools.cache
def _counting(dialect: str):
    """One more response for a key (made once: built anew for each response, with its rows as values,
    the statement cost more than running it; run with many keys, it is still one statement)."""
    table = ThemeCandidateKey.__table__
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (insert(table).values(consultation_id=bindparam("cid"), key=bindparam("key"), responses=1)
            .on_conflict_do_update(index_elements=["consultation_id", "key"], set_={"responses": table.c.responses + 1})
            .returning(table.c.key, table.c.responses))


async def promotes(session: AsyncSession, consultation_id: int, key: str, count: int) -> bool:
    """Whether ``key``, raised by ``count`` responses, is an emergent theme now: not mostly raised by the
    responses of an emergent theme already, and not mostly as part of a longer phrase
    (``Promoter.promotes``). Only the keys that two thirds of its responses share are read."""
    together = list((await session.exec(_together(), params={  # type: ignore[call-overload]
        "cid": consultation_id, "key": key, "least": COVERED * count})).all())
    if not together:
        return True
    if any(contains(other, key) for other in together):
        return False
    covering = (await session.exec(select(Theme.id).where(
        Theme.consultation_id == consultation_id, Theme.origin == ThemeOrigin.emergent,
        Theme.key.in_(together)).limit(1))).first()
    return covering is None


@functools.cache
def _together():
    """The other keys that at least ``least`` of the responses raising ``key`` raise too (made once)."""
    raised = select(ThemeCandidate.response_id).where(ThemeCandidate.consultation_id == bindparam("cid"),
                                                      ThemeCandidate.key == bindparam("key"))
    return (select(ThemeCandidate.key).where(ThemeCandidate.response_id.in_(raised), ThemeCandidate.key != bindparam("key"))
            .group_by(ThemeCandidate.key).having(func.count(distinct(ThemeCandidate.response_id)) >= bindparam("least")))


async def _wordings(session: AsyncSession, consultation_id: int, key: str) -> dict[str, Counter]:
    found: dict[str, Counter] = defaultdict(Counter)
    for language, wording, count in (await session.exec(
            select(ThemeCandidate.language, ThemeCandidate.wording, func.count())
            .where(ThemeCandidate.consultation_id == consultation_id, ThemeCandidate.key == key)
            .group_by(ThemeCandidate.language, ThemeCandidate.wording))).all():
        found[language][wording] += count
    return found


async def add_theme(session: AsyncSession, theme: Theme) -> Theme:
    """Store a new theme of a consultation, or take the one with its key that another worker stored at the
    same moment."""
    try:
        async with session.begin_nested():
            session.add(theme)
            await session.flush()
    except IntegrityError:
        return (await session.exec(select(Theme).where(Theme.consultation_id == theme.consultation_id,
                                                       Theme.key == theme.key))).one()
    return theme


async def _promote(session: AsyncSession, consultation_id: int, key: str, skip: int, kept: Collection[int]) -> Theme:
    """Make ``key`` a theme and link every response that raised it, but ``skip`` (linked by the caller);
    the digest's totals of those not ``kept`` by the caller are kept here."""
    wordings = await _wordings(session, consultation_id, key)
    theme = await add_theme(session, Theme(consultation_id=consultation_id, key=key, origin=ThemeOrigin.emergent,
                                           label_en=label_of(wordings, "en")[:200],
                                           label_cy=label_of(wordings, "cy")[:200]))
    linked = set((await session.exec(select(ResponseTheme.response_id).where(ResponseTheme.theme_id == theme.id))).all())
    by_response: dict[int, list[ThemeCandidate]] = defaultdict(list)
    for row in (await session.exec(select(ThemeCandidate).where(
            ThemeCandidate.consultation_id == consultation_id, ThemeCandidate.key == key,
            ThemeCandidate.response_id != skip))).all():
        if row.response_id not in linked:  # a person's decision (added or removed) stands
            by_response[row.response_id].append(row)
    earlier_ids = list(by_response)
    if not earlier_ids:
        return theme
    # Responses other than those being analysed gain a theme: the digest's totals follow them. Those the
    # caller keeps are counted by its own upkeep; counted here as well, their change would count twice.
    outside = [i for i in earlier_ids if i not in kept]
    async with tallies.keeping(session, consultation_id, outside) if outside else contextlib.nullcontext():
        for response_id, found in by_response.items():
            _link(session, response_id, consultation_id, theme, found)
        await write_mentions(session)  # before this upkeep counts them
        for n in range(0, len(earlier_ids), CHUNK):
            for earlier in (await session.exec(select(Response).where(Response.id.in_(earlier_ids[n:n + CHUNK])))).all():
                earlier.themes = [*(earlier.themes or []), key]
                session.add(earlier)
    return theme


def _link(session: AsyncSession, response_id: int, consultation_id: int, theme: Theme,
          found: Sequence[ThemeCandidate | SimpleNamespace]) -> None:
    polarity = round(sum(row.polarity for row in found) / len(found), 4)
    link = ResponseTheme(response_id=response_id, theme_id=theme.id, consultation_id=consultation_id,
                         sentiment=label(polarity), polarity=polarity, source="analyser",
                         analyser_version=analysis.ANALYSER_VERSION)
    session.add(link)
    mention_later(session, link, found)


def mention_later(session: AsyncSession, link: ResponseTheme, found: Sequence[Any]) -> None:
    """Keep the mentions of a new link (rows with question_id, sentiment, polarity, start and end) until
    ``write_mentions``: one INSERT for all the links of a transaction, once they have ids."""
    session.info.setdefault(PENDING, []).append((link, found))


def forget_pending(session: AsyncSession) -> None:
    session.info.pop(PENDING, None)


async def write_mentions(session: AsyncSession) -> None:
    """The mentions of the links made since the last call, once the links have ids."""
    pending = session.info.pop(PENDING, [])
    if pending:
        await session.flush()
        # In one statement (nothing reads their ids; one INSERT each was a round trip each).
        rows = [{"response_theme_id": link.id, "question_id": row.question_id, "sentiment": row.sentiment,
                 "polarity": row.polarity, "start": row.start, "end": row.end} for link, found in pending for row in found]
        if rows:
            await session.exec(insert(ThemeMention), params=rows)  # type: ignore[call-overload]


def _refresh_due(count: int) -> bool:
    """Labels follow the most common wording as a theme grows: at 4, 8, 16… responses (so reading every
    wording again costs about as much, all told, as storing them)."""
    return considered(count, 4)


async def _relabel(session: AsyncSession, theme: Theme) -> None:
    wordings = await _wordings(session, theme.consultation_id, theme.key)
    en, cy = label_of(wordings, "en")[:200], label_of(wordings, "cy")[:200]
    if en and cy and (theme.label_en, theme.label_cy) != (en, cy):
        theme.label_en, theme.label_cy, theme.updated_at = en, cy, utcnow()
        session.add(theme)
