"""What a digest counts, kept up to date as analysis lands instead of counted again for every digest.

A digest of 100,000 responses used to count them all: each theme query joined a quarter of a million
response × theme rows to their responses. Now two tables hold what it needs, for every consultation:

- ``DigestTally``: totals by kind and key (see the model) over the consultation's **analysed** responses;
- ``QuoteCandidate``: each quotable text with what it is ranked by, indexed in that order, so the best few
  of a theme and side are read from an index instead of ranking every response.

**The rule that keeps them right.** In every committed state, for each consultation whose
``DigestTallyState`` is not ``stale``, ``DigestTally`` holds exactly ``_selects(Among(consultation))`` and
``QuoteCandidate`` exactly ``_candidates(Among(consultation))``: the same SQL that a recount runs. Every
change that can move them — analysis and reanalysis (the worker), moderation, withdrawal, a person taking a
theme off a response or adding one, a split or a merge — runs inside ``keeping`` (or ``start`` / ``finish``),
which locks the consultation's state row, counts the changed responses (or the merged themes' links)
before and after with that same SQL, and adds the difference in the same transaction. Nothing is
computed twice two ways, so nothing can drift apart by a different reading of the rules; ``check``
compares the tables with a recount and ``recount`` repairs them (``cyswllt db recount``).

Responses not yet analysed are never in the tables: storing a response (the submission path) touches
neither, and a digest counts the few waiting for analysis itself, with the same SQL. Renaming and hiding a
theme move nothing (labels and hidden themes are applied when a digest is read); quotes are kept per theme
as stored, so a merge moves no quote either.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    cast,
    delete,
    distinct,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

from storage.models import (
    AnalysisState,
    Answer,
    DigestTally,
    DigestTallyState,
    Question,
    QuoteCandidate,
    Response,
    ResponseTheme,
    Theme,
    ThemeMention,
    utcnow,
)

WELSH_QUESTION_KEY = "welsh-language"
WELSH_QUESTION_KIND = "welsh_language"
# Under this many characters a quote rarely says why; over the cap it is cut (engagement.digest.quotes).
INFORMATIVE = 40
LONGEST = 300

DONE = AnalysisState.done.value
WAITING = tuple(s.value for s in AnalysisState if s != AnalysisState.done)
KINDS = ("count", "hour", "theme", "question", "answer")
THEME_KINDS = ("theme", "question")
WELSH_ANY = -1  # question_id of the "any Welsh-language question" rows
DAY, HOUR = 86_400, 3_600
COUNTERS = ("n", "positive", "negative", "welsh")
KEY = ("kind", "group_id", "bucket", "theme_id", "question_id", "language", "sentiment", "state")


def effective(sentiment, analysed):
    """The sentiment counted: the stored label, unanalysed rows as 'pending'."""
    return case((~analysed, literal("pending")), (sentiment.is_(None), literal("neutral")), else_=sentiment)


RESPONSE_SENTIMENT = effective(Response.sentiment, Response.analysis_state == DONE)
# What a digest counts: not hidden, not withdrawn, and not a repeat of an earlier response's words
# (repeats are counted apart, so one voice sent twice is not two voices).
VISIBLE = and_(Response.moderation_state != "hidden", Response.withdrawn_at.is_(None),
               Response.duplicate_of_id.is_(None))
# Shown to others in a quote or a summary: not held for review, hidden, withdrawn or a duplicate.
QUOTABLE = and_(Response.moderation_state == "visible", Response.withdrawn_at.is_(None),
                Response.duplicate_of_id.is_(None), Response.analysis_state == DONE)
# What the totals call a response that is not counted (in this order: withdrawn wins over hidden).
STATE = case((Response.withdrawn_at.is_not(None), literal("withdrawn")),
             (Response.moderation_state == "hidden", literal("hidden")),
             (Response.duplicate_of_id.is_not(None), literal("duplicate")), else_=literal("counted"))
# A theme merged into another counts as that one.
EFFECTIVE_THEME = func.coalesce(Theme.merged_into_id, Theme.id)


def welsh_questions(consultation_id: int):
    return select(Question.id).where(Question.consultation_id == consultation_id,
                                     or_(Question.key == WELSH_QUESTION_KEY, Question.kind == WELSH_QUESTION_KIND))


def since_epoch(dialect: str, column, seconds: int):
    """Whole days or hours since 1970 (UTC) of a stored timestamp."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", column).op("/")(seconds)), Integer)
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): whole seconds, or strftime rounds 23:59:59.9 up a day.
    return cast(func.strftime("%s", func.substr(column, 1, 19)), Integer).op("/")(seconds)


def day_of(moment: datetime) -> int:
    return int(moment.timestamp() // DAY)


@dataclass(frozen=True)
class Among:
    """Which responses to count: a consultation's, narrowed down."""

    consultation_id: int
    ids: Any = None  # only these response ids (a list, or a select of them)
    analysed: bool = True  # only analysed responses: what the tables hold
    group_id: int | None = None  # only this group's
    end: datetime | None = None  # only those received up to then
    themes: Any = None  # theme and question counts: only links to these themes (a list, or a parameter)
    sqlite: bool = False  # keep SQLite's planner on the ids (it has no statistics)

    def responses(self) -> list:
        consultation = Response.consultation_id
        if self.ids is not None and self.sqlite:
            consultation = consultation + 0  # drive from the ids, not the consultation's index
        conditions = [consultation == self.consultation_id]
        if self.ids is not None:
            conditions.append(Response.id.in_(self.ids))
        if self.analysed:
            conditions.append(Response.analysis_state == DONE)
        if self.group_id is not None:
            conditions.append(Response.group_id == self.group_id)
        if self.end is not None:
            conditions.append(Response.received_at <= self.end)
        return conditions

    def links(self) -> list:
        conditions = [ResponseTheme.removed.is_(False), *self.responses()]
        if self.ids is not None:
            conditions.append(ResponseTheme.response_id.in_(self.ids))
        else:
            conditions.append(ResponseTheme.consultation_id == self.consultation_id)
        if self.themes is not None:
            conditions.append(ResponseTheme.theme_id.in_(self.themes))
        return conditions


def _columns(kind, group, bucket, theme, question, language, sentiment, state, n, positive, negative, welsh) -> list:
    zero = literal(0, Integer)
    return [literal(kind).label("t_kind"), group.label("t_group"), bucket.label("t_bucket"),
            (zero if theme is None else theme).label("t_theme"),
            (zero if question is None else question).label("t_question"),
            (literal("") if language is None else language).label("t_language"),
            (literal("") if sentiment is None else sentiment).label("t_sentiment"),
            (literal("") if state is None else state).label("t_state"),
            n.label("t_n"), (zero if positive is None else positive).label("t_positive"),
            (zero if negative is None else negative).label("t_negative"),
            (zero if welsh is None else welsh).label("t_welsh")]


def _distinct_if(condition):
    return func.count(distinct(case((condition, ResponseTheme.response_id))))


def selects(dialect: str, among: Among, kinds: Iterable[str] = KINDS, period_start: datetime | None = None) -> list:
    """The totals of ``among``'s responses, one SELECT per kind, each giving the ``DigestTally`` key and
    counters (``t_kind``, ``t_group``, ``t_bucket``, …, ``t_welsh``). With ``period_start`` the count and
    theme buckets say whether a response came after it (1) or not (0) instead of its day."""
    group = func.coalesce(Response.group_id, 0)
    if period_start is None:
        day = since_epoch(dialect, Response.received_at, DAY)
    else:
        day = case((Response.received_at > period_start, 1), else_=0)
    hour = since_epoch(dialect, Response.received_at, HOUR)
    zero = literal(0, Integer)
    out = []
    for kind in kinds:
        if kind == "count":
            out.append(select(*_columns("count", group, day, None, None, func.coalesce(Response.language, ""),
                                        RESPONSE_SENTIMENT, STATE, func.count(), None, None, None))
                       .where(*among.responses())
                       .group_by("t_group", "t_bucket", "t_language", "t_sentiment", "t_state"))
        elif kind == "hour":
            out.append(select(*_columns("hour", group, hour, None, None, None, None, None, func.count(), None, None,
                                        None))
                       .where(*among.responses(), VISIBLE).group_by("t_group", "t_bucket"))
        elif kind == "theme":
            out.append(select(*_columns("theme", group, day, EFFECTIVE_THEME, None, None, None, None,
                                        func.count(distinct(ResponseTheme.response_id)),
                                        _distinct_if(ResponseTheme.sentiment == "positive"),
                                        _distinct_if(ResponseTheme.sentiment == "negative"),
                                        _distinct_if(Response.language == "cy")))
                       .select_from(ResponseTheme).join(Theme, Theme.id == ResponseTheme.theme_id)
                       .join(Response, Response.id == ResponseTheme.response_id)
                       .where(*among.links(), VISIBLE).group_by("t_group", "t_bucket", "t_theme"))
        elif kind == "question":
            counters = (func.count(distinct(ResponseTheme.response_id)),
                        _distinct_if(ResponseTheme.sentiment == "positive"),
                        _distinct_if(ResponseTheme.sentiment == "negative"), _distinct_if(Response.language == "cy"))
            base = (select().select_from(ThemeMention)
                    .join(ResponseTheme, ResponseTheme.id == ThemeMention.response_theme_id)
                    .join(Theme, Theme.id == ResponseTheme.theme_id)
                    .join(Response, Response.id == ResponseTheme.response_id).where(*among.links(), VISIBLE))
            out.append(base.add_columns(*_columns("question", group, zero, EFFECTIVE_THEME,
                                                  func.coalesce(ThemeMention.question_id, 0), None, None, None,
                                                  *counters))
                       .group_by("t_group", "t_theme", "t_question"))
            out.append(base.add_columns(*_columns("question", group, zero, EFFECTIVE_THEME, literal(WELSH_ANY, Integer),
                                                  None, None, None, *counters))
                       .where(ThemeMention.question_id.in_(welsh_questions(among.consultation_id)))
                       .group_by("t_group", "t_theme"))
        elif kind == "answer":
            sentiment = effective(Answer.sentiment, Response.analysis_state == DONE)
            out.append(select(*_columns("answer", group, zero, None, Answer.question_id,
                                        func.coalesce(Answer.language, ""), sentiment, None, func.count(), None, None,
                                        None))
                       .select_from(Answer).join(Response, Response.id == Answer.response_id)
                       .where(*among.responses(), VISIBLE, Answer.text.is_not(None), Answer.text != "",
                              *([Answer.response_id.in_(among.ids)] if among.ids is not None else []))
                       .group_by("t_group", "t_question", "t_language", "t_sentiment"))
        else:
            raise ValueError(kind)
    return out


Key = tuple


async def counted(session, among: Among, kinds: Iterable[str] = KINDS) -> dict[Key, list[int]]:
    """``selects`` run: key -> [n, positive, negative, welsh]."""
    parts = selects(session.bind.dialect.name, among, kinds)
    if not parts:
        return {}
    return _keyed((await session.exec(union_all(*parts) if len(parts) > 1 else parts[0])).all())


def _keyed(rows) -> dict[Key, list[int]]:
    return {tuple(row[:8]): [row[8], row[9], row[10], row[11]] for row in rows}


# The upkeep's statements, made once per database kind (building them costs more than running them):
# the responses (or the merged themes' links) are bound parameters.
CID = bindparam("cid", type_=Integer)
IDS = bindparam("ids", expanding=True)
THEMES = bindparam("themes", expanding=True)


@functools.lru_cache(maxsize=8)
def _upkeep_statements(dialect: str, by_themes: bool) -> tuple:
    sqlite = dialect == "sqlite"
    if by_themes:
        among = Among(CID, themes=THEMES, sqlite=sqlite)
        return union_all(*selects(dialect, among, THEME_KINDS)), None
    among = Among(CID, ids=IDS, sqlite=sqlite)
    table = QuoteCandidate.__table__
    candidates = [table.delete().where(table.c.response_id.in_(IDS)), *_insert_candidates(among)]
    return union_all(*selects(dialect, among, KINDS)), candidates


# --- quote candidates ----------------------------------------------------------------------------------

CANDIDATE_COLUMNS = ("response_id", "theme_id", "question_id", "consultation_id", "group_id", "received_at", "side",
                     "language", "confidence", "informative", "size_order", "long")


def _ranks(size) -> list:
    informative = case((and_(size >= INFORMATIVE, size <= LONGEST), 0), (size > LONGEST, 1), else_=2)
    return [informative, case((size < INFORMATIVE, -size), else_=size), size > LONGEST]


def _named(*columns) -> list:
    return [column.label(name) for column, name in zip(columns, CANDIDATE_COLUMNS, strict=True)]


def candidate_selects(among: Among) -> list:
    """The quotable texts of ``among``'s responses as ``QuoteCandidate`` rows: for each analysed link the
    words where the response first named the theme (its general text, or its answer to an ordinary
    question), and each answer to a Welsh-language question that is positive or negative about it."""
    welsh = welsh_questions(among.consultation_id)
    first = aliased(ThemeMention)
    first_mention = (select(func.min(first.id)).where(first.response_theme_id == ResponseTheme.id,
                                                       or_(first.question_id.is_(None), first.question_id.not_in(welsh)))
                     .correlate(ResponseTheme).scalar_subquery())
    body = case((ThemeMention.question_id.is_(None), Response.redacted_text), else_=Answer.redacted_text)
    themes = (select(*_named(ResponseTheme.response_id, ResponseTheme.theme_id,
                             func.coalesce(ThemeMention.question_id, 0), Response.consultation_id, Response.group_id,
                             Response.received_at, ResponseTheme.sentiment, Response.language, Response.confidence,
                             *_ranks(func.length(body))))
              .select_from(ResponseTheme).join(Response, Response.id == ResponseTheme.response_id)
              .join(ThemeMention, ThemeMention.response_theme_id == ResponseTheme.id)
              .join(Answer, and_(Answer.response_id == Response.id, Answer.question_id == ThemeMention.question_id),
                    isouter=True)
              .where(*among.links(), ThemeMention.id == first_mention, QUOTABLE, body.is_not(None)))
    answers = (select(*_named(Answer.response_id, literal(0, Integer), Answer.question_id, Response.consultation_id,
                              Response.group_id, Response.received_at, Answer.sentiment, Answer.language,
                              Answer.confidence, *_ranks(func.length(Answer.redacted_text))))
               .select_from(Answer).join(Response, Response.id == Answer.response_id)
               .where(*among.responses(), QUOTABLE, Answer.question_id.in_(welsh), Answer.text.is_not(None),
                      Answer.text != "", Answer.redacted_text.is_not(None),
                      Answer.sentiment.in_(("positive", "negative")),
                      *([Answer.response_id.in_(among.ids)] if among.ids is not None else [])))
    return [themes, answers]


def _insert_candidates(among: Among) -> list:
    table = QuoteCandidate.__table__
    return [table.insert().from_select(CANDIDATE_COLUMNS, query) for query in candidate_selects(among)]


# --- keeping them right --------------------------------------------------------------------------------


def _upsert(dialect: str, model):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


@functools.lru_cache(maxsize=4)
def _lock_statement(dialect: str):
    """Take (or make) the consultation's state row: changes to its tallies wait for each other here —
    a row lock on PostgreSQL, the one writer on SQLite (this is the transaction's first write)."""
    stmt = _upsert(dialect, DigestTallyState).values(consultation_id=CID, changes=1, stale=False)
    return (stmt.on_conflict_do_update(index_elements=["consultation_id"],
                                       set_={"changes": DigestTallyState.changes + 1})
            .returning(DigestTallyState.stale))


async def lock(session, consultation_id: int) -> bool:
    """Lock the consultation's tallies for this transaction; True when they are stale (to be recounted)."""
    with session.no_autoflush:
        return bool((await session.exec(_lock_statement(session.bind.dialect.name),
                                        params={"cid": consultation_id})).scalar_one())


def difference(before: dict[Key, list[int]], after: dict[Key, list[int]]) -> dict[Key, list[int]]:
    out = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key, [0, 0, 0, 0]), after.get(key, [0, 0, 0, 0])
        change = [b - a for a, b in zip(old, new, strict=True)]
        if any(change):
            out[key] = change
    return out


@functools.lru_cache(maxsize=4)
def _add_statements(dialect: str) -> tuple:
    stmt = _upsert(dialect, DigestTally)
    stmt = stmt.on_conflict_do_update(
        index_elements=["consultation_id", *KEY],
        set_={c: getattr(DigestTally, c) + getattr(stmt.excluded, c) for c in COUNTERS})
    table = DigestTally.__table__
    emptied = table.delete().where(*[table.c[k] == bindparam(f"k_{k}") for k in ("consultation_id", *KEY)],
                                   table.c.n == 0)
    return stmt, emptied


async def add(session, consultation_id: int, change: dict[Key, list[int]]) -> None:
    """Add ``change`` to the stored totals; rows left at nothing are removed."""
    if not change:
        return
    upsert, delete_emptied = _add_statements(session.bind.dialect.name)
    rows = [{"consultation_id": consultation_id, **dict(zip(KEY, key, strict=True)),
             **dict(zip(COUNTERS, values, strict=True))} for key, values in sorted(change.items())]
    await session.exec(upsert, params=rows)
    emptied = [{f"k_{k}": v for k, v in zip(("consultation_id", *KEY), (consultation_id, *key), strict=True)}
               for key, values in change.items() if values[0] < 0]
    if emptied:
        await session.exec(delete_emptied, params=emptied)


@dataclass
class Upkeep:
    """A change to some responses (or to what some themes count as) under way: ``finish`` adds what it
    moved. Made by ``start``."""

    consultation_id: int
    params: dict | None  # None: the tallies are stale, nothing to keep
    by_themes: bool = False
    before: dict[Key, list[int]] = field(default_factory=dict)

    async def finish(self, session) -> None:
        if self.params is None:
            return
        await session.flush()
        counts, candidates = _upkeep_statements(session.bind.dialect.name, self.by_themes)
        after = _keyed((await session.exec(counts, params=self.params)).all())
        await add(session, self.consultation_id, difference(self.before, after))
        for stmt in candidates or ():
            await session.exec(stmt, params=self.params)


async def start(session, consultation_id: int, responses: Sequence[int] = (), themes: Sequence[int] = ()) -> Upkeep:
    """Before changing anything about ``responses`` (their analysis, moderation, withdrawal, themes) or
    about which theme ``themes`` count as (a merge): lock the tallies and count what is there now. Call
    ``finish`` on the result after the change, in the same transaction, before committing."""
    if await lock(session, consultation_id):
        return Upkeep(consultation_id, None)
    ids = sorted(set(responses))
    by_themes = not ids
    params = {"cid": consultation_id, **({"themes": sorted(set(themes))} if by_themes else {"ids": ids})}
    counts, _ = _upkeep_statements(session.bind.dialect.name, by_themes)
    with session.no_autoflush:
        before = _keyed((await session.exec(counts, params=params)).all())
    return Upkeep(consultation_id, params, by_themes, before)


@asynccontextmanager
async def keeping(session, consultation_id: int, responses: Sequence[int] = (), themes: Sequence[int] = ()):
    """``start`` … the change … ``finish``, for a change made inside the block."""
    upkeep = await start(session, consultation_id, responses, themes)
    yield upkeep
    await upkeep.finish(session)


# --- counting again from the responses -----------------------------------------------------------------


def recount_statements(dialect: str, consultation_id: int) -> list:
    """Everything stored for the consultation counted again from its responses (after ``_lock_statement``)."""
    among = Among(consultation_id)
    table = DigestTally.__table__
    return [
        table.delete().where(table.c.consultation_id == consultation_id),
        delete(QuoteCandidate).where(QuoteCandidate.consultation_id == consultation_id),
        table.insert().from_select(["consultation_id", *KEY, *COUNTERS], union_all(*[
            select(literal(consultation_id, Integer), *part.subquery().c) for part in selects(dialect, among)])),
        *_insert_candidates(among),
        update(DigestTallyState).where(DigestTallyState.consultation_id == consultation_id)
        .values(stale=False, counted_at=utcnow()),
    ]


async def recount(session, consultation_id: int) -> None:
    """Count the consultation's tallies and quote candidates again from its responses (the caller commits)."""
    dialect = session.bind.dialect.name
    await lock(session, consultation_id)
    for stmt in recount_statements(dialect, consultation_id):
        await session.exec(stmt)


def recount_sync(connection, consultation_id: int) -> None:
    """``recount`` on a blocking connection (``cyswllt db upgrade``)."""
    dialect = connection.dialect.name
    connection.execute(_lock_statement(dialect), {"cid": consultation_id})
    for stmt in recount_statements(dialect, consultation_id):
        connection.execute(stmt)


async def stale(session, consultation_id: int) -> bool:
    found = (await session.exec(select(DigestTallyState.stale).where(
        DigestTallyState.consultation_id == consultation_id))).first()
    return bool(found and found[0])


@dataclass
class Drift:
    tallies: list[tuple[Key, list[int], list[int]]]  # (key, stored, counted)
    candidates_missing: list[tuple]
    candidates_extra: list[tuple]

    def __bool__(self) -> bool:
        return bool(self.tallies or self.candidates_missing or self.candidates_extra)


async def check(session, consultation_id: int) -> Drift:
    """How the stored tallies and quote candidates differ from a recount (nothing, when all is well)."""
    expected = await counted(session, Among(consultation_id))
    table = DigestTally.__table__
    stored = {tuple(r[:8]): list(r[8:]) for r in (await session.exec(
        select(*[table.c[k] for k in (*KEY, *COUNTERS)]).where(table.c.consultation_id == consultation_id))).all()}
    tallies = [(key, stored.get(key, [0, 0, 0, 0]), expected.get(key, [0, 0, 0, 0]))
               for key in sorted(stored.keys() | expected.keys(), key=repr)
               if stored.get(key, [0, 0, 0, 0]) != expected.get(key, [0, 0, 0, 0])]
    columns = [QuoteCandidate.__table__.c[c] for c in CANDIDATE_COLUMNS]

    def normal(row) -> tuple:
        return tuple(_aware(v) if isinstance(v, datetime) else (bool(v) if i == len(row) - 1 else v)
                     for i, v in enumerate(row))

    have = {normal(r) for r in (await session.exec(select(*columns).where(
        QuoteCandidate.consultation_id == consultation_id))).all()}
    want = set()
    for query in candidate_selects(Among(consultation_id)):
        want |= {normal(r) for r in (await session.exec(query)).all()}
    return Drift(tallies, sorted(want - have, key=repr), sorted(have - want, key=repr))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def period_edges(start: datetime) -> tuple[int, datetime, datetime]:
    day = day_of(start)
    first = datetime.fromtimestamp(day * DAY, UTC)
    return day, first, first + timedelta(days=1)

