"""The digest's aggregates counted the way they were before totals were kept (``engagement/digest/build.py``
at 1b22f38): every response, response × theme row and mention joined and grouped again for each digest.
Kept as an independent oracle: ``counted_as_before()`` puts these in place of the digest's reads, and a digest
built that way must equal one built from the kept totals and quote candidates, field for field (the digest
tests check it; bench/digest.py times both in one run).

Only the reads are here, with the interfaces the digest calls today; what the digest does with their rows
(folding, labels, quote choice, summaries) is the digest's own code either way."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, case, distinct, func, literal, or_, select, true

from engagement.digest import build
from engagement.digest import quotes as quoting
from engagement.digest.themes import SIDES
from storage.models import Answer, Response, ResponseTheme, Theme, ThemeMention

RESPONSE_SENTIMENT = case((Response.analysis_state != "done", literal("pending")),
                          (Response.sentiment.is_(None), literal("neutral")), else_=Response.sentiment)
VISIBLE = and_(Response.moderation_state != "hidden", Response.withdrawn_at.is_(None),
               Response.duplicate_of_id.is_(None))
QUOTABLE = and_(Response.moderation_state == "visible", Response.withdrawn_at.is_(None),
                Response.duplicate_of_id.is_(None), Response.analysis_state == "done")
EFFECTIVE_THEME = func.coalesce(Theme.merged_into_id, Theme.id)


def _in_scope(scope, group=True):
    conditions = [Response.consultation_id == scope.consultation.id, Response.received_at <= scope.end]
    if group and scope.group is not None:
        conditions.append(Response.group_id == scope.group.id)
    return and_(*conditions)


async def _counts(session, scope) -> list[tuple]:
    in_period = case((Response.received_at > scope.start, 1), else_=0)
    hidden = case((Response.moderation_state == "hidden", 1), else_=0)
    withdrawn = case((Response.withdrawn_at.is_not(None), 1), else_=0)
    duplicate = case((Response.duplicate_of_id.is_not(None), 1), else_=0)
    query = (select(Response.language.label("d_lang"), Response.group_id.label("d_group"),
                    RESPONSE_SENTIMENT.label("d_sent"), in_period.label("d_period"), hidden.label("d_hidden"),
                    withdrawn.label("d_withdrawn"), duplicate.label("d_duplicate"), func.count().label("n"))
             .where(_in_scope(scope, group=False))
             .group_by("d_lang", "d_group", "d_sent", "d_period", "d_hidden", "d_withdrawn", "d_duplicate"))
    return list((await session.exec(query)).all())


async def _timeline(session, scope, zone: ZoneInfo) -> list[dict[str, Any]]:
    if session.bind.dialect.name == "postgresql":
        hour = func.to_char(func.timezone("UTC", Response.received_at), "YYYY-MM-DD HH24")
    else:
        hour = func.substr(Response.received_at, 1, 13, type_=String)
    rows = (await session.exec(
        select(hour.label("d_hour"), func.count()).where(_in_scope(scope), VISIBLE).group_by("d_hour"))).all()
    days: Counter = Counter()
    for bucket, n in rows:
        moment = datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=UTC)
        days[moment.astimezone(zone).date().isoformat()] += n
    return [{"day": day, "count": days[day]} for day in sorted(days)]


def _distinct_if(condition):
    return func.count(distinct(case((condition, ResponseTheme.response_id))))


async def _theme_rows(session, scope, question_ids: tuple[int, ...] | None = None) -> list[tuple]:
    query = (select(EFFECTIVE_THEME.label("d_theme"), func.count(distinct(ResponseTheme.response_id)),
                    _distinct_if(ResponseTheme.sentiment == "positive"),
                    _distinct_if(ResponseTheme.sentiment == "negative"),
                    _distinct_if(Response.language == "cy"),
                    _distinct_if(Response.received_at > scope.start))
             .select_from(ResponseTheme).join(Theme, Theme.id == ResponseTheme.theme_id)
             .join(Response, Response.id == ResponseTheme.response_id)
             .where(ResponseTheme.consultation_id == scope.consultation.id, ResponseTheme.removed.is_(False),
                    _in_scope(scope), VISIBLE))
    if question_ids is not None:
        mentioned = select(ThemeMention.response_theme_id).where(ThemeMention.question_id.in_(question_ids or (-1,)))
        query = query.where(ResponseTheme.id.in_(mentioned))
    return list((await session.exec(query.group_by("d_theme"))).all())


async def _mentioned(session, scope) -> list[tuple]:
    """The old per-question breakdown (grouped by question, every theme) and the old Welsh-language
    question's theme rows, in the shape ``build._mentioned`` gives."""
    question = func.coalesce(ThemeMention.question_id, 0)
    rows = (await session.exec(
        select(EFFECTIVE_THEME.label("d_theme"), question.label("d_question"),
               func.count(distinct(ResponseTheme.response_id)))
        .select_from(ThemeMention).join(ResponseTheme, ResponseTheme.id == ThemeMention.response_theme_id)
        .join(Theme, Theme.id == ResponseTheme.theme_id).join(Response, Response.id == ResponseTheme.response_id)
        .where(ResponseTheme.consultation_id == scope.consultation.id, ResponseTheme.removed.is_(False),
               _in_scope(scope), VISIBLE)
        .group_by("d_theme", "d_question"))).all()
    out = [(theme_id, question_id, n, None, None, None) for theme_id, question_id, n in rows]
    for theme_id, n, positive, negative, welsh, _in_period in await _theme_rows(session, scope, scope.welsh_ids):
        out.append((theme_id, -1, n, positive, negative, welsh))
    return out


def _ranked(union, partition: list) -> Any:
    size = func.length(union.c.body)
    informative = case((and_(size >= quoting.INFORMATIVE, size <= quoting.LONGEST), 0),
                       (size > quoting.LONGEST, 1), else_=2)
    order = [informative, case((size < quoting.INFORMATIVE, -size), else_=size), union.c.confidence.desc(),
             union.c.rid]
    rn = func.row_number().over(partition_by=partition, order_by=order).label("rn")
    ranked = select(union, rn).subquery()
    return select(ranked).where(ranked.c.rn <= build.QUOTE_POOL).order_by(*[ranked.c[c.name] for c in partition],
                                                                           ranked.c.rn)


def _first_mention(scope, name):
    return (select(ThemeMention.response_theme_id.label("rt"), func.min(ThemeMention.id).label("mid"))
            .where(or_(ThemeMention.question_id.is_(None), ThemeMention.question_id.in_(scope.ordinary_ids or (-1,))))
            .group_by(ThemeMention.response_theme_id).subquery(name))


async def _theme_quotes(session, scope, theme_ids: list[int], since: datetime | None = None,
                        only: list[int] | None = None) -> list[tuple]:
    if not theme_ids:
        return []
    first = _first_mention(scope, "first_mention")
    body = case((ThemeMention.question_id.is_(None), Response.redacted_text), else_=Answer.redacted_text)
    pieces = (select(EFFECTIVE_THEME.label("theme"), ResponseTheme.sentiment.label("side"),
                     Response.language.label("lang"), Response.confidence.label("confidence"), body.label("body"),
                     Response.id.label("rid"))
              .select_from(ResponseTheme).join(Theme, Theme.id == ResponseTheme.theme_id)
              .join(Response, Response.id == ResponseTheme.response_id)
              .join(first, first.c.rt == ResponseTheme.id).join(ThemeMention, ThemeMention.id == first.c.mid)
              .join(Answer, and_(Answer.response_id == Response.id, Answer.question_id == ThemeMention.question_id),
                    isouter=True)
              .where(ResponseTheme.consultation_id == scope.consultation.id, ResponseTheme.removed.is_(False),
                     EFFECTIVE_THEME.in_(theme_ids), ResponseTheme.sentiment.in_(("positive", "negative")),
                     _in_scope(scope), QUOTABLE, true() if since is None else Response.received_at >= since,
                     body.is_not(None), Response.id.in_(only) if only is not None else true())
              .subquery("pieces"))
    return list((await session.exec(_ranked(pieces, [pieces.c.theme, pieces.c.side]))).all())


async def _summary_rows(session, scope, theme_ids: list[int], languages=None) -> list[tuple]:
    if not theme_ids:
        return []
    first = _first_mention(scope, "first_mention_s")
    body = case((ThemeMention.question_id.is_(None), Response.redacted_text), else_=Answer.redacted_text)
    pieces = (select(EFFECTIVE_THEME.label("theme"), ResponseTheme.sentiment.label("side"),
                     Response.language.label("lang"), Response.confidence.label("confidence"), body.label("body"),
                     Response.id.label("rid"), Response.reference.label("reference"))
              .select_from(ResponseTheme).join(Theme, Theme.id == ResponseTheme.theme_id)
              .join(Response, Response.id == ResponseTheme.response_id)
              .join(first, first.c.rt == ResponseTheme.id).join(ThemeMention, ThemeMention.id == first.c.mid)
              .join(Answer, and_(Answer.response_id == Response.id, Answer.question_id == ThemeMention.question_id),
                    isouter=True)
              .where(ResponseTheme.consultation_id == scope.consultation.id, ResponseTheme.removed.is_(False),
                     EFFECTIVE_THEME.in_(theme_ids), _in_scope(scope), QUOTABLE, body.is_not(None))
              .subquery("summary_pieces"))
    size = func.length(pieces.c.body)
    rn = func.row_number().over(partition_by=[pieces.c.theme, pieces.c.side, pieces.c.lang],
                                order_by=[case((size > quoting.LONGEST, 1), else_=0), pieces.c.confidence.desc(),
                                          pieces.c.rid]).label("rn")
    ranked = select(pieces, rn).subquery()
    return list((await session.exec(select(ranked).where(ranked.c.rn <= build.SUMMARY_POOL).order_by(
        ranked.c.theme, ranked.c.side, ranked.c.lang, ranked.c.rn))).all())


async def _welsh_language(session, scope, mentioned=None) -> dict[str, Any]:
    sentiment = case((Response.analysis_state != "done", literal("pending")),
                     (Answer.sentiment.is_(None), literal("neutral")), else_=Answer.sentiment)
    base = (select().select_from(Answer).join(Response, Response.id == Answer.response_id)
            .where(Answer.question_id.in_(scope.welsh_ids or (-1,)), _in_scope(scope), VISIBLE,
                   Answer.text.is_not(None), Answer.text != ""))
    rows = (await session.exec(base.add_columns(Answer.language.label("d_lang"), sentiment.label("d_sent"),
                                                   func.count()).group_by("d_lang", "d_sent"))).all()
    split = dict.fromkeys(SIDES, 0)
    languages: Counter = Counter()
    pending = count = 0
    for lang, sent, n in rows:
        count += n
        languages[lang or "unknown"] += n
        if sent == "pending":
            pending += n
        else:
            split[sent] += n
    themes = (await build._themes(session, scope, await _theme_rows(session, scope, scope.welsh_ids)))[:5]
    pieces = (base.add_columns(literal("").label("phrase"), Answer.sentiment.label("side"),
                               Answer.language.label("lang"), Answer.confidence.label("confidence"),
                               Answer.redacted_text.label("body"), Response.id.label("rid"))
              .where(Answer.redacted_text.is_not(None), Response.analysis_state == "done", QUOTABLE,
                     Answer.sentiment.in_(("positive", "negative")))
              .subquery("welsh_pieces"))
    quote_rows = (await session.exec(_ranked(pieces, [pieces.c.side]))).all()
    candidates = [quoting.Candidate("", side, lang or "en", quoting.clean(body), conf or 0.0, rid)
                  for _p, side, lang, conf, body, rid, _rn in quote_rows if quoting.clean(body)]
    return {"count": count, "pending": pending, "by_language": dict(sorted(languages.items())), "sentiment": split,
            "themes": [{"key": t.key, "label_en": t.label_en, "label_cy": t.label_cy, "count": t.count,
                        "sentiment": t.sentiment} for t in themes],
            "quotes": quoting.pick(candidates)}


READS = ("_counts", "_timeline", "_theme_rows", "_mentioned", "_theme_quotes", "_summary_rows", "_welsh_language")


@contextmanager
def counted_as_before():
    """Within the block, digests are built with these reads instead of the kept totals and candidates."""
    kept = {name: getattr(build, name) for name in READS}
    for name in READS:
        setattr(build, name, globals()[name])
    try:
        yield
    finally:
        for name, read in kept.items():
            setattr(build, name, read)
