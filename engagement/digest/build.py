"""A digest's content from totals kept as analysis lands, and from the stored analysis.

Counts (by sentiment, language, group, period and hour), themes (merges applied, counted by distinct
response, with each response's sentiment toward the theme) and where each theme was raised are added up
from ``DigestTally`` rows, which every change that moves them keeps right in the same transaction
(``storage.tallies``); the digest counts itself only the responses still waiting for analysis, the day its
period starts in (so the period is exact), and takes away any received after its end. Quotes and summaries
are the best few texts per theme and side read in their ranking order from ``QuoteCandidate``'s indexes, each
from the words where the response named the theme. Labels and hidden themes are applied as people left them.
Nothing is analysed again here. The result is a plain JSON-able dict, stored on the ``Digest`` row.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, bindparam, case, func, literal, or_, select, union_all
from sqlmodel.ext.asyncio.session import AsyncSession

from engagement.digest import quotes as quoting
from engagement.digest.themes import SIDES, Counted
from engagement.themes import sign_off_state
from storage import tallies
from storage.models import (
    Answer,
    Consultation,
    ConsultationGroup,
    Digest,
    DigestTally,
    Question,
    QuoteCandidate,
    Response,
    StakeholderGroup,
    Theme,
    ThemePin,
    UTCDateTime,
    YouSaidWeDid,
    utcnow,
)
from storage.tallies import WELSH_QUESTION_KEY, WELSH_QUESTION_KIND, Among

VERSION = 2  # 2: themes from the theme tables (labels, merges, hidden, per-theme sentiment)
QUOTE_POOL = 3  # candidates kept per phrase and side before the best are chosen in Python
QUOTE_RECENT = 5000  # responses looked at first for quotes (see _recent_cutoff)


@dataclass(frozen=True)
class Scope:
    consultation: Consultation
    group: StakeholderGroup | None
    start: datetime
    end: datetime
    welsh_ids: tuple[int, ...] = ()  # the Welsh-language question(s)
    ordinary_ids: tuple[int, ...] = ()  # every other question
    question_keys: dict[int, str] = field(default_factory=dict)
    # Each theme and the themes merged into it (whose responses and quotes count as its own).
    families: dict[int, tuple[int, ...]] = field(default_factory=dict)
    # The stored totals are to be counted again (data from before they existed): count everything here.
    stale: bool = False


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


# --- totals: stored, plus what the digest counts itself ------------------------------------------------

TALLY = DigestTally.__table__
_VALUES = ("t_n", "t_positive", "t_negative", "t_welsh")


async def _tally(session: AsyncSession, scope: Scope, kind: str, keys: tuple[str, ...], *, period: bool = False,
                 whole_consultation: bool = False) -> list[tuple]:
    """Rows of ``keys`` (``t_group``, ``t_bucket``, ``t_theme``, ``t_question``, ``t_language``,
    ``t_sentiment``, ``t_state``), then whether in the period (``period``; else 0), then n, positive,
    negative and welsh, for the digest's responses (the group's, or the whole consultation's): the stored
    totals, plus the responses waiting for analysis and (``period``) those of the UTC day the period starts
    in, counted here, less analysed responses received after the end. One statement, so one snapshot."""
    group_id = None if whole_consultation or scope.group is None else scope.group.id
    query = _tally_statement(session.bind.dialect.name, kind, keys, period, group_id is not None, scope.stale)
    params: dict[str, Any] = {"cid": scope.consultation.id, "end": scope.end}
    if group_id is not None:
        params["gid"] = group_id
    if period:
        params["start"] = scope.start
        params["day"], params["first"], params["after"] = tallies.period_edges(scope.start)
    rows = (await session.exec(query, params=params)).all()
    return [tuple(row[:-4]) + tuple(int(v or 0) for v in row[-4:]) for row in rows]


@functools.lru_cache(maxsize=64)
def _tally_statement(dialect: str, kind: str, keys: tuple[str, ...], period: bool, grouped: bool, stale: bool):
    """``_tally``'s statement, made once per shape (building it costs more than running it)."""
    cid, end = bindparam("cid", type_=Integer), bindparam("end", type_=UTCDateTime())
    group_id = bindparam("gid", type_=Integer) if grouped else None
    start = bindparam("start", type_=UTCDateTime()) if period else None
    day = bindparam("day", type_=Integer)
    sqlite = dialect == "sqlite"
    parts: list[tuple[Any, str, int]] = []  # (select of the t_ columns, how it says 'in the period', sign)

    def mine(*conditions, waiting=False):
        # SQLite's planner keeps no statistics: the few waiting are found through the analysis state's
        # index, not by reading every response of the consultation or the group.
        consultation, group = Response.consultation_id, Response.group_id
        if waiting and sqlite:
            consultation, group = consultation + 0, group + 0
        where = [consultation == cid, *conditions]
        if group_id is not None:
            where.append(group == group_id)
        return select(Response.id).where(*where)

    if stale:
        everyone = Among(cid, analysed=False, group_id=group_id, end=end)
        parts += [(q, "flag", 1) for q in tallies.selects(dialect, everyone, [kind], start)]
    else:
        stored = [TALLY.c.consultation_id == cid, TALLY.c.kind == kind]
        if group_id is not None:
            stored.append(TALLY.c.group_id == group_id)
        if period:
            stored.append(TALLY.c.bucket != day)
        columns = [TALLY.c.kind, TALLY.c.group_id, TALLY.c.bucket, TALLY.c.theme_id, TALLY.c.question_id,
                   TALLY.c.language, TALLY.c.sentiment, TALLY.c.state, TALLY.c.n, TALLY.c.positive, TALLY.c.negative,
                   TALLY.c.welsh]
        names = ("t_kind", "t_group", "t_bucket", "t_theme", "t_question", "t_language", "t_sentiment", "t_state",
                 *_VALUES)
        parts.append((select(*[c.label(n) for c, n in zip(columns, names, strict=True)]).where(*stored), "day", 1))
        counted_here = mine(Response.analysis_state.in_(tallies.WAITING), Response.received_at <= end, waiting=True)
        late = [Response.received_at > end, Response.analysis_state == tallies.DONE]
        if period:
            first, after = bindparam("first", type_=UTCDateTime()), bindparam("after", type_=UTCDateTime())
            edge = mine(Response.received_at >= first, Response.received_at < after, Response.received_at <= end,
                        Response.analysis_state == tallies.DONE)
            counted_here = union_all(counted_here, edge)
            late.append(or_(Response.received_at < first, Response.received_at >= after))
        here = Among(cid, ids=counted_here, analysed=False, sqlite=sqlite)
        parts += [(q, "flag", 1) for q in tallies.selects(dialect, here, [kind], start)]
        after_end = Among(cid, ids=mine(*late), sqlite=sqlite)
        parts += [(q, "day", -1) for q in tallies.selects(dialect, after_end, [kind])]

    projected = []
    for query, mode, sign in parts:
        sub = query.subquery()
        if not period:
            in_period = literal(0, Integer)
        elif mode == "flag":
            in_period = sub.c.t_bucket
        else:
            in_period = case((sub.c.t_bucket > day, 1), else_=0)
        values = [(sub.c[v] if sign > 0 else -sub.c[v]).label(v) for v in _VALUES]
        projected.append(select(*[sub.c[k] for k in keys], in_period.label("t_in_period"), *values))
    union = union_all(*projected).subquery() if len(projected) > 1 else projected[0].subquery()
    group_by = [union.c[k] for k in keys] + [union.c.t_in_period]
    return (select(*group_by, *[func.sum(union.c[v]) for v in _VALUES]).group_by(*group_by)
            .having(func.sum(union.c.t_n) != 0))


# --- counts --------------------------------------------------------------------------------------


async def _counts(session: AsyncSession, scope: Scope) -> list[tuple]:
    """(language, group_id, sentiment, in_period, hidden, withdrawn, duplicate, n) over the whole consultation."""
    rows = await _tally(session, scope, "count", ("t_language", "t_group", "t_sentiment", "t_state"), period=True,
                        whole_consultation=True)
    return [(language or None, group or None, sentiment, in_period, int(state == "hidden"),
             int(state == "withdrawn"), int(state == "duplicate"), n)
            for language, group, sentiment, state, in_period, n, _p, _n, _w in rows]


def _fold(rows: list[tuple], group_id: int | None) -> dict[str, Any]:
    counts = {"period": 0, "total": 0, "hidden": 0, "withdrawn": 0, "duplicates": 0, "pending": 0}
    languages: dict[str, dict[str, int]] = defaultdict(lambda: {"period": 0, "total": 0})
    sentiment = {"period": dict.fromkeys(SIDES, 0), "total": dict.fromkeys(SIDES, 0)}
    for language, group, sent, in_period, hidden, withdrawn, duplicate, n in rows:
        if group_id is not None and group != group_id:
            continue
        if withdrawn:
            counts["withdrawn"] += n
            continue
        if hidden:
            counts["hidden"] += n
            continue
        if duplicate:
            counts["duplicates"] += n
            continue
        counts["total"] += n
        languages[language or "unknown"]["total"] += n
        if in_period:
            counts["period"] += n
            languages[language or "unknown"]["period"] += n
        if sent == "pending":
            counts["pending"] += n
            continue
        sentiment["total"][sent] += n
        if in_period:
            sentiment["period"][sent] += n
    return {"counts": counts, "by_language": dict(sorted(languages.items())), "sentiment": sentiment}


async def _by_group(session: AsyncSession, scope: Scope, rows: list[tuple]) -> list[dict[str, Any]]:
    linked = (await session.exec(
        select(StakeholderGroup).join(ConsultationGroup, ConsultationGroup.group_id == StakeholderGroup.id)
        .where(ConsultationGroup.consultation_id == scope.consultation.id))).scalars().all()
    groups = {g.id: g for g in linked}
    tally: dict[int | None, dict[str, int]] = defaultdict(lambda: {"period": 0, "total": 0})
    for _lang, group, _sent, in_period, hidden, withdrawn, duplicate, n in rows:
        if hidden or withdrawn or duplicate:
            continue
        tally[group]["total"] += n
        if in_period:
            tally[group]["period"] += n
    missing = [g for g in tally if g is not None and g not in groups]
    if missing:
        for g in (await session.exec(select(StakeholderGroup).where(StakeholderGroup.id.in_(missing)))).scalars():
            groups[g.id] = g
    out = [{"slug": g.slug, "name_en": g.name_en, "name_cy": g.name_cy, **tally.get(g.id, {"period": 0, "total": 0})}
           for g in sorted(groups.values(), key=lambda g: g.name_en.lower())]
    if None in tally:
        out.append({"slug": None, "name_en": None, "name_cy": None, **tally[None]})
    return out



async def _timeline(session: AsyncSession, scope: Scope, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Responses per local day, from counts per UTC hour (days change with the clocks; hours do not)."""
    rows = await _tally(session, scope, "hour", ("t_bucket",))
    days: Counter = Counter()
    for hour, _in_period, n, _p, _n, _w in rows:
        moment = datetime.fromtimestamp(hour * tallies.HOUR, UTC)
        days[moment.astimezone(zone).date().isoformat()] += n
    return [{"day": day, "count": days[day]} for day in sorted(days)]


# --- themes and quotes -----------------------------------------------------------------------------


async def _recent_cutoff(session: AsyncSession, scope: Scope) -> datetime | None:
    """When the scope holds more than ``QUOTE_RECENT`` responses: the time from which the latest of
    them were received. Quotes are looked for among those first (through the index, so the cost does
    not grow with the consultation) — the freshest voices, and reason enough in a periodic digest."""
    conditions = [Response.consultation_id == scope.consultation.id, Response.received_at <= scope.end]
    if scope.group is not None:
        conditions.append(Response.group_id == scope.group.id)
    found = (await session.exec(select(Response.received_at).where(*conditions)
                                .order_by(Response.received_at.desc()).offset(QUOTE_RECENT).limit(1))).first()
    return _aware(found[0]) if found else None


# A theme merged into another counts as that one.
EFFECTIVE_THEME = tallies.EFFECTIVE_THEME


async def _theme_rows(session: AsyncSession, scope: Scope) -> list[tuple]:
    """(theme id, responses, positive, negative, Welsh responses, in the period) per theme, merges
    applied, counted by distinct response."""
    rows = await _tally(session, scope, "theme", ("t_theme",), period=True)
    out: dict[int, list[int]] = {}
    for theme_id, in_period, n, positive, negative, welsh in rows:
        mine = out.setdefault(theme_id, [0, 0, 0, 0, 0])
        for i, value in enumerate((n, positive, negative, welsh, n if in_period else 0)):
            mine[i] += value
    return [(theme_id, *values) for theme_id, values in out.items() if values[0] > 0]


async def _mentioned(session: AsyncSession, scope: Scope) -> list[tuple]:
    """(theme id, question id (0: a general response; -1: any Welsh-language question), responses,
    positive, negative, Welsh responses) — where each theme was raised."""
    rows = await _tally(session, scope, "question", ("t_theme", "t_question"))
    return [(theme_id, question, n, positive, negative, welsh)
            for theme_id, question, _in_period, n, positive, negative, welsh in rows if n > 0]


def _by_question(scope: Scope, mentioned: list[tuple], theme_ids: list[int]) -> dict[int, dict[str, int]]:
    """For each shown theme, how many responses raised it in each question's answer (``general``: in a
    general response)."""
    wanted = set(theme_ids)
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for theme_id, question, n, *_ in mentioned:
        if theme_id in wanted and question != tallies.WELSH_ANY:
            out[theme_id][scope.question_keys.get(question, "general")] = n
    return out
async def _themes(session: AsyncSession, scope: Scope, rows: list[tuple]) -> list[Counted]:
    """The themes of ``rows`` that are not hidden, most raised first (ties: more negative first, so bad
    news is not cut), with their labels as people left them."""
    if not rows:
        return []
    stored = {t.id: t for t in (await session.exec(select(Theme).where(Theme.id.in_([r[0] for r in rows])))).scalars()}
    out = []
    for theme_id, count, positive, negative, welsh, in_period in rows:
        theme = stored.get(theme_id)
        if theme is None or theme.hidden:
            continue
        positive, negative = positive or 0, negative or 0
        out.append(Counted(theme.id, theme.key, theme.label("en"), theme.label("cy"), count, in_period or 0,
                           {"positive": positive, "neutral": max(0, count - positive - negative),
                            "negative": negative},
                           sorted({"cy"} if welsh else set()) + (["en"] if count > (welsh or 0) else [])))
    out.sort(key=lambda t: (-t.count, -t.sentiment["negative"], t.key))
    return out




async def _pins(session: AsyncSession, scope: Scope, theme_ids: list[int]) -> set[tuple[int, int]]:
    """(theme id, response id) of the quotes people pinned: for everyone, or for this group's digest."""
    if not theme_ids:
        return set()
    group = ThemePin.group_id.is_(None) if scope.group is None else or_(ThemePin.group_id.is_(None),
                                                                       ThemePin.group_id == scope.group.id)
    rows = (await session.exec(select(EFFECTIVE_THEME, ThemePin.response_id)
                               .select_from(ThemePin).join(Theme, Theme.id == ThemePin.theme_id)
                               .where(EFFECTIVE_THEME.in_(theme_ids), group))).all()
    return {(theme_id, rid) for theme_id, rid in rows}




# Quotes and summaries: the best few texts of each theme (each theme merged into it too), side and, for
# summaries, language, read in ranking order from QuoteCandidate's indexes (LIMIT per theme and side, so
# the cost does not grow with the consultation), then ranked together again within a merged theme.
ANY_LANGUAGE = object()
PER_STATEMENT = 200  # theme × side reads per statement (SQLite allows 500 in one UNION ALL)


def _order(c, kind: str) -> list:
    if kind == "quote":  # 40–300 characters first, shortest first, then confidence
        return [c.informative, c.size_order, c.confidence.desc(), c.response_id]
    return [c.long, c.confidence.desc(), c.response_id]  # summaries: not too long, then confidence


async def _best(session: AsyncSession, scope: Scope, partitions: list[tuple], kind: str, per: int, *,
                since: datetime | None = None, only: list[int] | None = None) -> list[tuple]:
    """(label, side, language, confidence, body, response id, reference, rank) — for each partition
    ``(label, theme id, side, language or ANY_LANGUAGE)`` its best ``per`` candidates; partitions with
    the same label (a theme and those merged into it) are ranked together, as one theme."""
    if not partitions:
        return []
    families: dict[int, list[tuple]] = defaultdict(list)
    for partition in partitions:
        families[partition[0]].append(partition)
    chunks: list[list[tuple]] = [[]]
    for members in families.values():
        if chunks[-1] and len(chunks[-1]) + len(members) > PER_STATEMENT:
            chunks.append([])
        chunks[-1].extend(members)
    out: list[tuple] = []
    for chunk in chunks:
        languages = tuple("any" if lang is ANY_LANGUAGE else ("none" if lang is None else "one")
                          for _l, _t, _s, lang in chunk)
        query = _best_statement(session.bind.dialect.name, kind, per, languages, since is not None, only is not None,
                                scope.group is not None, scope.stale)
        params: dict[str, Any] = {"cid": scope.consultation.id, "end": scope.end}
        for i, (label, theme_id, side, language) in enumerate(chunk):
            params.update({f"label_{i}": label, f"theme_{i}": theme_id, f"side_{i}": side})
            if languages[i] == "one":
                params[f"language_{i}"] = language
        if scope.group is not None:
            params["gid"] = scope.group.id
        if since is not None:
            params["since"] = since
        if only is not None:
            params["only"] = list(only) or [-1]
        out += (await session.exec(query, params=params)).all()
    return out


@functools.lru_cache(maxsize=64)
def _best_statement(dialect: str, kind: str, per: int, languages: tuple[str, ...], since: bool, only: bool,
                    grouped: bool, stale: bool):
    """``_best``'s statement for partitions whose language is any, none or one (made once per shape)."""
    cid, end = bindparam("cid", type_=Integer), bindparam("end", type_=UTCDateTime())
    group_id = bindparam("gid", type_=Integer) if grouped else None
    if stale:
        source = union_all(*tallies.candidate_selects(Among(cid, group_id=group_id, end=end))).cte("candidates")
    else:
        source = QuoteCandidate.__table__
    c = source.c
    by_language = kind == "summary"
    reads = []
    for i, language in enumerate(languages):
        conditions = [c.consultation_id == cid, c.theme_id == bindparam(f"theme_{i}", type_=Integer),
                      c.side == bindparam(f"side_{i}"), c.received_at <= end]
        if language == "none":
            conditions.append(c.language.is_(None))
        elif language == "one":
            conditions.append(c.language == bindparam(f"language_{i}"))
        if group_id is not None:
            conditions.append(c.group_id == group_id)
        if since:
            conditions.append(c.received_at >= bindparam("since", type_=UTCDateTime()))
        if only:
            conditions.append(c.response_id.in_(bindparam("only", expanding=True)))
        best = (select(bindparam(f"label_{i}", type_=Integer).label("b_label"), c.side, c.language, c.confidence,
                       c.response_id, c.question_id, c.informative, c.size_order, c.long)
                .where(*conditions).order_by(*_order(c, kind)).limit(per).subquery())
        reads.append(select(best))
    union = (union_all(*reads) if len(reads) > 1 else reads[0]).subquery()
    partition = [union.c.b_label, union.c.side] + ([union.c.language] if by_language else [])
    rank = func.row_number().over(partition_by=partition, order_by=_order(union.c, kind)).label("b_rank")
    ranked = select(union, rank).subquery()
    body = case((ranked.c.question_id == 0, Response.redacted_text), else_=Answer.redacted_text)
    return (select(ranked.c.b_label, ranked.c.side, ranked.c.language, ranked.c.confidence, body,
                   ranked.c.response_id, Response.reference, ranked.c.b_rank)
            .select_from(ranked).join(Response, Response.id == ranked.c.response_id)
            .join(Answer, and_(Answer.response_id == ranked.c.response_id, Answer.question_id == ranked.c.question_id),
                  isouter=True)
            .where(ranked.c.b_rank <= per)
            .order_by(ranked.c.b_label, ranked.c.side, *([ranked.c.language] if by_language else []),
                      ranked.c.b_rank))


def _members(scope: Scope, theme_id: int) -> tuple[int, ...]:
    return scope.families.get(theme_id, (theme_id,))


async def _theme_quotes(session: AsyncSession, scope: Scope, theme_ids: list[int],
                        since: datetime | None = None, only: list[int] | None = None) -> list[tuple]:
    """The best few quotable texts per (theme, side): the words where the response named the theme
    (its general text, or its answer to an ordinary question), on the side of its sentiment toward that
    theme — only from responses shown to everyone (not held, hidden, withdrawn or duplicate)."""
    partitions = [(t, member, side, ANY_LANGUAGE) for t in theme_ids for member in _members(scope, t)
                  for side in ("positive", "negative")]
    rows = await _best(session, scope, partitions, "quote", QUOTE_POOL, since=since, only=only)
    return [(theme_id, side, lang, confidence, body, rid, rank)
            for theme_id, side, lang, confidence, body, rid, _reference, rank in rows]


def _themes_section(themes: list[Counted], quote_rows: list[tuple], by_question: dict[int, dict[str, int]],
                    quoted: set[int], pins: set[tuple[int, int]] = frozenset()) -> list[dict[str, Any]]:
    candidates: dict[int, list[quoting.Candidate]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    for theme_id, side, lang, confidence, body, rid, _rn in quote_rows:
        text = quoting.clean(body)
        if text and (theme_id, rid) not in seen:
            seen.add((theme_id, rid))
            candidates[theme_id].append(quoting.Candidate(str(theme_id), side, lang or "en", text, confidence or 0.0,
                                                          rid, (theme_id, rid) in pins))
    # No response is quoted under two themes of one digest. Quotes are given out in rounds — each theme
    # its best quote on each side first, then the second ones — so one theme's second quote never takes
    # the only quote another theme had.
    picked: dict[int, dict[str, list[dict]]] = {t.id: {"positive": [], "negative": []} for t in themes}
    for per_side in range(1, quoting.PER_SIDE + 1):
        for t in themes:
            own = {q["response_id"] for side in picked[t.id].values() for q in side}
            choice = quoting.pick([c for c in candidates[t.id] if c.response_id in own or c.response_id not in quoted],
                                  per_side)
            picked[t.id] = choice
            quoted |= {q["response_id"] for side in choice.values() for q in side}
    return [{"id": t.id, "key": t.key, "label_en": t.label_en, "label_cy": t.label_cy, "languages": t.languages,
             "count": t.count, "period_count": t.period_count, "sentiment": t.sentiment,
             "by_question": by_question.get(t.id, {}), "quotes": picked[t.id]} for t in themes]


# --- extractive summaries ------------------------------------------------------------------------------

SUMMARY_POOL = 12  # candidate texts per theme, side and language
SUMMARY_SENTENCES = 3
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


async def _summary_rows(session: AsyncSession, scope: Scope, theme_ids: list[int],
                       languages: list[str | None]) -> list[tuple]:
    """(theme, side, language, confidence, body, response id, reference) — the best few quotable texts
    per theme, side and language (of those ``languages``), for summaries drawn from what people wrote."""
    partitions = [(t, member, side, language) for t in theme_ids for member in _members(scope, t)
                  for side in ("positive", "negative", "neutral") for language in languages]
    return await _best(session, scope, partitions, "summary", SUMMARY_POOL)


def _sentences_naming(body: str, key: str, language: str) -> list[str]:
    """The sentences of a text that name the theme: a glossary topic's terms, or an emergent theme's phrase
    (the first sentence when none does by itself, e.g. after a person split or renamed the theme)."""
    from engagement.analysis.emergent import KEY_PREFIX, phrases
    from engagement.analysis.themes import mentions

    sentences = [s.strip() for s in _SENTENCE.findall(body or "") if len(s.strip()) >= 12]
    if key.startswith(KEY_PREFIX):
        naming = [s for s in sentences if any(p.key == key for p in phrases(s, language))]
    else:
        naming = [s for s in sentences if any(m.topic == key for m in mentions(s, language))]
    return naming or sentences[:1]


def summarise(rows: list[tuple], themes: list[Counted]) -> dict[int, dict[str, list[dict[str, str]]]]:
    """Per theme and language: two or three sentences drawn from the responses themselves (no word is
    added), balanced across sides — the best on each side first, then the side with more responses —
    each from a different response and cited by its reference."""
    by_theme: dict[int, dict[str, dict[str, list[tuple]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for theme_id, side, lang, _conf, body, _rid, reference, _rn in rows:
        if quoting.quotable(body or ""):
            by_theme[theme_id][lang or "en"][side].append((body, reference))
    out: dict[int, dict[str, list[dict[str, str]]]] = {}
    for theme in themes:
        out[theme.id] = {}
        for lang, sides in sorted(by_theme.get(theme.id, {}).items()):
            order = ["positive", "negative", "neutral"]
            larger = "negative" if theme.sentiment["negative"] >= theme.sentiment["positive"] else "positive"
            picks: list[dict[str, str]] = []
            used: set[str] = set()
            for side in [*order, larger, larger, *order]:
                if len(picks) == SUMMARY_SENTENCES:
                    break
                for body, reference in sides.get(side, []):
                    if reference in used:
                        continue
                    sentence = _sentences_naming(quoting.clean(body), theme.key, lang)
                    if sentence:
                        picks.append({"text": sentence[0], "reference": reference, "side": side})
                        used.add(reference)
                        break
            out[theme.id][lang] = picks
    return out


# --- the Welsh-language question --------------------------------------------------------------------


async def _welsh_language(session: AsyncSession, scope: Scope, mentioned: list[tuple]) -> dict[str, Any]:
    rows = await _tally(session, scope, "answer", ("t_question", "t_language", "t_sentiment"))
    split = dict.fromkeys(SIDES, 0)
    languages: Counter = Counter()
    pending = count = 0
    welsh = set(scope.welsh_ids)
    for question, lang, sent, _in_period, n, _p, _n, _w in rows:
        if question not in welsh:
            continue
        count += n
        languages[lang or "unknown"] += n
        if sent == "pending":
            pending += n
        else:
            split[sent] += n
    theme_rows = [(theme_id, n, positive, negative, in_welsh, 0)
                  for theme_id, question, n, positive, negative, in_welsh in mentioned if question == tallies.WELSH_ANY]
    themes = (await _themes(session, scope, theme_rows))[:5]
    quote_rows = await _best(session, scope, [(0, 0, side, ANY_LANGUAGE) for side in ("positive", "negative")],
                             "quote", QUOTE_POOL)
    candidates = [quoting.Candidate("", side, lang or "en", quoting.clean(body), conf or 0.0, rid)
                  for _label, side, lang, conf, body, rid, _reference, _rank in quote_rows if quoting.clean(body)]
    return {"count": count, "pending": pending, "by_language": dict(sorted(languages.items())), "sentiment": split,
            "themes": [{"key": t.key, "label_en": t.label_en, "label_cy": t.label_cy, "count": t.count,
                        "sentiment": t.sentiment} for t in themes],
            "quotes": quoting.pick(candidates)}


# --- the digest ----------------------------------------------------------------------------------------


async def previous_digest(session: AsyncSession, consultation_id: int, group_id: int | None,
                          before: datetime) -> Digest | None:
    """The last scheduled digest before ``before``: scheduled digests own the periods, so a digest asked
    for on demand (from chat or the admin API) never moves where the next scheduled one starts."""
    group = Digest.group_id.is_(None) if group_id is None else Digest.group_id == group_id
    return (await session.exec(
        select(Digest).where(Digest.consultation_id == consultation_id, group, Digest.period_end < before,
                             Digest.scheduled)
        .order_by(Digest.period_end.desc(), Digest.id.desc()).limit(1))).scalars().first()


def _changes(data: dict[str, Any], before: Digest | None) -> dict[str, Any] | None:
    if before is None:
        return None
    old = before.data or {}
    old_total = (old.get("counts") or {}).get("total", 0)
    old_split = ((old.get("sentiment") or {}).get("total")) or dict.fromkeys(SIDES, 0)
    old_keys = {t["key"] for t in old.get("all_theme_keys", [])} | set(old.get("theme_keys", []))
    new_themes = [{"key": t["key"], "label_en": t["label_en"], "label_cy": t["label_cy"], "count": t["count"]}
                  for t in data["themes"] if t["key"] not in old_keys]
    split = data["sentiment"]["total"]
    return {"previous_id": before.id, "previous_end": _aware(before.period_end).isoformat(),
            "total": data["counts"]["total"] - old_total,
            "sentiment": {s: split[s] - old_split.get(s, 0) for s in SIDES},
            "new_themes": new_themes}


async def _you_said(session: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    rows = (await session.exec(
        select(YouSaidWeDid).where(YouSaidWeDid.consultation_id == scope.consultation.id,
                                   YouSaidWeDid.created_at <= scope.end)
        .order_by(YouSaidWeDid.created_at, YouSaidWeDid.id))).scalars().all()
    # The theme named by its label in each language (a key, or a label someone typed, finds it).
    themes = (await session.exec(select(Theme).where(Theme.consultation_id == scope.consultation.id))).scalars().all()
    named = {}
    for theme in themes:
        for name in (theme.key, theme.label("en"), theme.label("cy"), theme.label_en, theme.label_cy):
            named.setdefault(name.casefold(), theme)
    labels = {r.id: named.get((r.theme or "").casefold()) for r in rows}
    return [{"id": r.id, "theme": r.theme,
             "label_en": labels[r.id].label("en") if labels[r.id] else r.theme,
             "label_cy": labels[r.id].label("cy") if labels[r.id] else r.theme, "you_said_en": r.you_said_en, "you_said_cy": r.you_said_cy,
             "we_did_en": r.we_did_en, "we_did_cy": r.we_did_cy, "created_at": _aware(r.created_at).isoformat(),
             "new": _aware(r.created_at) > scope.start} for r in rows]


async def _scope(session: AsyncSession, consultation: Consultation, group: StakeholderGroup | None,
                 start: datetime, end: datetime) -> Scope:
    questions = (await session.exec(select(Question.id, Question.key, Question.kind).where(
        Question.consultation_id == consultation.id))).all()
    welsh = tuple(i for i, key, kind in questions if key == WELSH_QUESTION_KEY or kind == WELSH_QUESTION_KIND)
    ordinary = tuple(i for i, _, _ in questions if i not in welsh)
    families: dict[int, list[int]] = defaultdict(list)
    for theme_id, merged_into in (await session.exec(select(Theme.id, Theme.merged_into_id).where(
            Theme.consultation_id == consultation.id))).all():
        families[merged_into or theme_id].append(theme_id)
    return Scope(consultation, group, start, end, welsh, ordinary, {i: key for i, key, _ in questions},
                 {theme_id: tuple(sorted(members)) for theme_id, members in families.items()},
                 await tallies.stale(session, consultation.id))


async def build_data(session: AsyncSession, consultation: Consultation, group: StakeholderGroup | None,
                     end: datetime, *, timezone_name: str = "Europe/London", top: int = 8) -> dict[str, Any]:
    """The digest of ``group`` (None: every response) for the period since its previous digest
    (or since the consultation opened) up to ``end``."""
    end = _aware(end)
    before = await previous_digest(session, consultation.id, group.id if group else None, end)
    start = _aware(before.period_end) if before else min(_aware(consultation.opens_at), end)
    scope = await _scope(session, consultation, group, start, end)
    rows = await _counts(session, scope)
    folded = _fold(rows, group.id if group else None)
    shown = await _themes(session, scope, await _theme_rows(session, scope))
    top_themes = shown[:top]
    ids = [t.id for t in top_themes]
    since = await _recent_cutoff(session, scope)
    quote_rows = await _theme_quotes(session, scope, ids, since)
    mentioned = await _mentioned(session, scope)
    by_question = _by_question(scope, mentioned, ids)
    pins = await _pins(session, scope, ids)
    if pins:
        pinned_rows = await _theme_quotes(session, scope, ids, only=sorted({rid for _, rid in pins}))
        quote_rows = [row for row in pinned_rows if (row[0], row[5]) in pins] + quote_rows
    themes = _themes_section(top_themes, quote_rows, by_question, set(), pins)
    languages = sorted({row[0] for row in rows}, key=lambda language: language or "")
    summaries = summarise(await _summary_rows(session, scope, ids, languages), top_themes)
    # Honest and balanced: a side with responses but no recent quote is looked for in all of them.
    missing = sorted({t["id"] for t in themes for side in ("positive", "negative")
                      if t["sentiment"][side] and not t["quotes"][side]})
    if since is not None and missing:
        quote_rows += await _theme_quotes(session, scope, missing)
        themes = _themes_section(top_themes, quote_rows, by_question, set(), pins)
    for theme in themes:
        theme["summary"] = summaries.get(theme["id"], {})
    data: dict[str, Any] = {
        "version": VERSION,
        "consultation": {"id": consultation.id, "slug": consultation.slug, "title_en": consultation.title_en,
                         "title_cy": consultation.title_cy, "closes_at": _aware(consultation.closes_at).isoformat()},
        "group": ({"id": group.id, "slug": group.slug, "name_en": group.name_en, "name_cy": group.name_cy,
                   "language": group.language} if group else None),
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        **folded,
        "by_group": await _by_group(session, scope, rows),
        "themes": themes,
        # Every theme key seen so far, so the next digest can tell which themes are new.
        "theme_keys": sorted(t.key for t in shown),
        "welsh_language": await _welsh_language(session, scope, mentioned),
        "timeline": await _timeline(session, scope, ZoneInfo(timezone_name)),
        "you_said_we_did": await _you_said(session, scope),
        "theme_set": await sign_off_state(session, consultation.id),
    }
    if group is not None:
        whole = _fold(rows, None)
        data["overall"] = {"counts": whole["counts"], "sentiment": whole["sentiment"]}
    data["changes"] = _changes(data, before)
    return data


async def build_digest(session: AsyncSession, consultation: Consultation, group: StakeholderGroup | None,
                       end: datetime | None = None, *, timezone_name: str = "Europe/London",
                       trigger: str = "on-demand") -> Digest:
    """Build and store a digest (the caller commits)."""
    end = _aware(end) or utcnow()
    data = await build_data(session, consultation, group, end, timezone_name=timezone_name)
    data["trigger"] = trigger
    data["link_key"] = _link_key()
    digest = Digest(consultation_id=consultation.id, group_id=group.id if group else None,
                    period_start=datetime.fromisoformat(data["period"]["start"]), period_end=end, data=data,
                    scheduled=trigger == "scheduled", created_at=utcnow())
    session.add(digest)
    await session.flush()
    return digest


def _link_key() -> str:
    """A per-digest random value mixed into its signed links, so links stay unguessable even where
    no service secret is configured."""
    import secrets

    return secrets.token_hex(16)
