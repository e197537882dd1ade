"""A digest's content from SQL aggregates over the analysis stored at ingest.

Counts come from GROUP BY over sentiment, language, group and hour. Themes come from the stored
response × theme rows (``ResponseTheme``: one per response and theme, with that response's sentiment
toward the theme), merges and hidden themes applied as people left them, counted by distinct response;
quotes are the few best candidates per theme and side, ranked in SQL by a window function, each from the
words where the response named the theme. Nothing is analysed again here. The result is a plain JSON-able
dict, stored on the ``Digest`` row.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, case, distinct, func, literal, or_, select, true
from sqlmodel.ext.asyncio.session import AsyncSession

from engagement.digest import quotes as quoting
from engagement.digest.themes import SIDES, Counted
from engagement.themes import sign_off_state
from storage.models import (
    Answer,
    Consultation,
    ConsultationGroup,
    Digest,
    Question,
    Response,
    ResponseTheme,
    StakeholderGroup,
    Theme,
    ThemeMention,
    ThemePin,
    YouSaidWeDid,
    utcnow,
)

VERSION = 2  # 2: themes from the theme tables (labels, merges, hidden, per-theme sentiment)
WELSH_QUESTION_KEY = "welsh-language"
WELSH_QUESTION_KIND = "welsh_language"
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
    # Read the whole table rather than the (consultation, received) index: cheaper on SQLite, which
    # keeps no statistics, when the consultation holds most of the responses.
    scan: bool = False


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def effective(sentiment, confidence, analysed):
    """The sentiment counted: the stored label, unanalysed rows as 'pending'."""
    return case((~analysed, literal("pending")), (sentiment.is_(None), literal("neutral")), else_=sentiment)


RESPONSE_SENTIMENT = effective(Response.sentiment, Response.confidence, Response.analysis_state == "done")
# What a digest counts: not hidden, not withdrawn, and not a repeat of an earlier response's words
# (repeats are counted apart, so one voice sent twice is not two voices).
VISIBLE = and_(Response.moderation_state != "hidden", Response.withdrawn_at.is_(None),
               Response.duplicate_of_id.is_(None))
# Shown to others in a quote or a summary: not held for review, hidden, withdrawn or a duplicate.
QUOTABLE = and_(Response.moderation_state == "visible", Response.withdrawn_at.is_(None),
                Response.duplicate_of_id.is_(None), Response.analysis_state == "done")


def _in_scope(scope: Scope):
    consultation = Response.consultation_id + 0 if scope.scan else Response.consultation_id
    conditions = [consultation == scope.consultation.id, Response.received_at <= scope.end]
    if scope.group is not None:
        conditions.append(Response.group_id == scope.group.id)
    return and_(*conditions)


# --- counts --------------------------------------------------------------------------------------


async def _counts(session: AsyncSession, scope: Scope) -> list[tuple]:
    """(language, group_id, sentiment, in_period, hidden, withdrawn, n) over the whole consultation."""
    in_period = case((Response.received_at > scope.start, 1), else_=0)
    hidden = case((Response.moderation_state == "hidden", 1), else_=0)
    withdrawn = case((Response.withdrawn_at.is_not(None), 1), else_=0)
    duplicate = case((Response.duplicate_of_id.is_not(None), 1), else_=0)
    query = (select(Response.language.label("d_lang"), Response.group_id.label("d_group"),
                    RESPONSE_SENTIMENT.label("d_sent"), in_period.label("d_period"), hidden.label("d_hidden"),
                    withdrawn.label("d_withdrawn"), duplicate.label("d_duplicate"), func.count().label("n"))
             .where(_in_scope(replace(scope, group=None)))
             .group_by("d_lang", "d_group", "d_sent", "d_period", "d_hidden", "d_withdrawn", "d_duplicate"))
    return list((await session.exec(query)).all())


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
    if session.bind.dialect.name == "postgresql":
        hour = func.to_char(func.timezone("UTC", Response.received_at), "YYYY-MM-DD HH24")
    else:
        hour = func.substr(Response.received_at, 1, 13, type_=String)  # stored as 'YYYY-MM-DD HH:MM:SS'

    rows = (await session.exec(
        select(hour.label("d_hour"), func.count()).where(_in_scope(scope), VISIBLE).group_by("d_hour"))).all()
    days: Counter = Counter()
    for bucket, n in rows:
        moment = datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=UTC)
        days[moment.astimezone(zone).date().isoformat()] += n
    return [{"day": day, "count": days[day]} for day in sorted(days)]


# --- themes and quotes -----------------------------------------------------------------------------


def _since(moment: datetime | None):
    return true() if moment is None else Response.received_at >= moment


def _ranked(union, partition: list) -> Any:
    size = func.length(union.c.body)
    informative = case((and_(size >= quoting.INFORMATIVE, size <= quoting.LONGEST), 0),
                       (size > quoting.LONGEST, 1), else_=2)
    order = [informative, case((size < quoting.INFORMATIVE, -size), else_=size), union.c.confidence.desc(),
             union.c.rid]
    rn = func.row_number().over(partition_by=partition, order_by=order).label("rn")
    ranked = select(union, rn).subquery()
    return select(ranked).where(ranked.c.rn <= QUOTE_POOL)


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
EFFECTIVE_THEME = func.coalesce(Theme.merged_into_id, Theme.id)


def _distinct_if(condition):
    return func.count(distinct(case((condition, ResponseTheme.response_id))))


async def _theme_rows(session: AsyncSession, scope: Scope, question_ids: tuple[int, ...] | None = None) -> list[tuple]:
    """(theme id, responses, positive, negative, Welsh responses, in the period) per theme, merges
    applied, from the stored response × theme rows; ``question_ids`` limits it to mentions in those
    questions' answers."""
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


async def _by_question(session: AsyncSession, scope: Scope, theme_ids: list[int]) -> dict[int, dict[str, int]]:
    """For each shown theme, how many responses raised it in each question's answer (``general``: in a
    general response)."""
    if not theme_ids:
        return {}
    question = func.coalesce(Question.key, literal("general"))
    rows = (await session.exec(
        select(EFFECTIVE_THEME.label("d_theme"), question.label("d_question"),
               func.count(distinct(ResponseTheme.response_id)))
        .select_from(ThemeMention).join(ResponseTheme, ResponseTheme.id == ThemeMention.response_theme_id)
        .join(Theme, Theme.id == ResponseTheme.theme_id).join(Response, Response.id == ResponseTheme.response_id)
        .join(Question, Question.id == ThemeMention.question_id, isouter=True)
        .where(ResponseTheme.consultation_id == scope.consultation.id, ResponseTheme.removed.is_(False),
               EFFECTIVE_THEME.in_(theme_ids), _in_scope(scope), VISIBLE)
        .group_by("d_theme", "d_question"))).all()
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for theme_id, key, n in rows:
        out[theme_id][key] = n
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


async def _theme_quotes(session: AsyncSession, scope: Scope, theme_ids: list[int],
                        since: datetime | None = None, only: list[int] | None = None) -> list[tuple]:
    """The best few quotable texts per (theme, side): the words where the response named the theme
    (its general text, or its answer to an ordinary question), on the side of its sentiment toward that
    theme — only from responses shown to everyone (not held, hidden, withdrawn or duplicate)."""
    if not theme_ids:
        return []
    if since is not None:
        scope = replace(scope, scan=False)  # the (consultation, received) index finds the recent ones
    first = (select(ThemeMention.response_theme_id.label("rt"), func.min(ThemeMention.id).label("mid"))
             .where(or_(ThemeMention.question_id.is_(None), ThemeMention.question_id.in_(scope.ordinary_ids or (-1,))))
             .group_by(ThemeMention.response_theme_id).subquery("first_mention"))
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
                     _in_scope(scope), QUOTABLE, _since(since), body.is_not(None),
                     Response.id.in_(only) if only is not None else true())
              .subquery("pieces"))
    return list((await session.exec(_ranked(pieces, [pieces.c.theme, pieces.c.side]))).all())


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


async def _summary_rows(session: AsyncSession, scope: Scope, theme_ids: list[int]) -> list[tuple]:
    """(theme, side, language, confidence, body, response id, reference) — the best few quotable texts
    per theme, side and language, for summaries drawn from what people wrote."""
    if not theme_ids:
        return []
    first = (select(ThemeMention.response_theme_id.label("rt"), func.min(ThemeMention.id).label("mid"))
             .where(or_(ThemeMention.question_id.is_(None), ThemeMention.question_id.in_(scope.ordinary_ids or (-1,))))
             .group_by(ThemeMention.response_theme_id).subquery("first_mention_s"))
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
    return list((await session.exec(select(ranked).where(ranked.c.rn <= SUMMARY_POOL))).all())


def _sentences_naming(body: str, key: str, language: str) -> list[str]:
    """The sentences of a text that name the theme (all of them when none does by itself, e.g. after
    a person split or renamed the theme)."""
    from engagement.analysis.themes import mentions

    sentences = [s.strip() for s in _SENTENCE.findall(body or "") if len(s.strip()) >= 12]
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


async def _welsh_language(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    sentiment = effective(Answer.sentiment, Answer.confidence, Response.analysis_state == "done")
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
    themes = (await _themes(session, scope, await _theme_rows(session, scope, scope.welsh_ids)))[:5]
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
    scan = False
    if session.bind.dialect.name == "sqlite":
        mine = (await session.exec(select(func.count()).select_from(Response).where(
            Response.consultation_id == consultation.id))).scalar_one()
        everyone = (await session.exec(select(func.max(Response.id)))).scalar_one() or 0
        scan = mine * 4 > everyone
    return Scope(consultation, group, start, end, welsh, ordinary, scan)


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
    by_question = await _by_question(session, scope, ids)
    pins = await _pins(session, scope, ids)
    if pins:
        pinned_rows = await _theme_quotes(session, scope, ids, only=sorted({rid for _, rid in pins}))
        quote_rows = [row for row in pinned_rows if (row[0], row[5]) in pins] + quote_rows
    themes = _themes_section(top_themes, quote_rows, by_question, set(), pins)
    summaries = summarise(await _summary_rows(session, scope, ids), top_themes)
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
        "welsh_language": await _welsh_language(session, scope),
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
