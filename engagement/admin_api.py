"""The admin API for consultations: create and edit them and their stakeholder groups, list and
export responses with personal data redacted, and moderate (hide or restore, with a reason)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func
from sqlmodel import delete, select

from cyswllt.admin import require_admin
from cyswllt.appkeys import DB
from cyswllt.i18n import t
from cyswllt.openapi import ADDRESS, ADMIN_DISABLED, BEARER, UNAUTHORISED, describe, json_body, problem, schema_for
from engagement.schemas import PlainText
from engagement.service import WELSH_LANGUAGE_KEY, forget, public_counts
from engagement.spreadsheet import cell
from storage import tallies
from storage.models import (
    Answer,
    Consultation,
    ConsultationGroup,
    GroupCoordinator,
    ModerationState,
    Person,
    Question,
    Response,
    StakeholderGroup,
    utcnow,
)
from storage.reach import addresses_of, groups_addresses, is_address, set_address

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
MIN_WEEKS, DEFAULT_WEEKS = 8, 12

WELSH_LANGUAGE_QUESTION = dict(
    key=WELSH_LANGUAGE_KEY, kind="welsh_language",
    text_en="What effects do you think the proposals would have on the Welsh language, and on opportunities for "
            "people to use Welsh? How could they be more positive, or less adverse?",
    text_cy="Pa effeithiau ydych chi'n meddwl y byddai'r cynigion yn eu cael ar y Gymraeg, ac ar gyfleoedd i bobl "
            "ddefnyddio'r Gymraeg? Sut gellid eu gwneud yn fwy cadarnhaol, neu'n llai andwyol?",
)


class QuestionIn(PlainText):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    text_en: str = Field(min_length=1, max_length=2000)
    text_cy: str = Field(min_length=1, max_length=2000)
    hint_en: str | None = Field(None, max_length=1000)
    hint_cy: str | None = Field(None, max_length=1000)


class ConsultationIn(PlainText):
    model_config = ConfigDict(extra="forbid")
    slug: str | None = Field(None, pattern=SLUG.pattern)
    title_en: str | None = Field(None, min_length=1, max_length=300)
    title_cy: str | None = Field(None, min_length=1, max_length=300)
    summary_en: str | None = Field(None, min_length=1, max_length=20000)
    summary_cy: str | None = Field(None, min_length=1, max_length=20000)
    executive_summary_en: str | None = Field(None, max_length=20000)
    executive_summary_cy: str | None = Field(None, max_length=20000)
    opens: datetime | None = None
    closes: datetime | None = None
    short_period_reason: str | None = Field(None, max_length=5000)
    questions: list[QuestionIn] | None = None
    groups: list[str] | None = None

    @field_validator("opens", "closes")
    @classmethod
    def aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a timezone, e.g. 2026-12-01T09:00:00+00:00")
        if value is not None and not 2000 <= value.year <= 2100:
            raise ValueError("give a date between the years 2000 and 2100")
        return value

    @field_validator("questions")
    @classmethod
    def distinct(cls, value: list[QuestionIn] | None) -> list[QuestionIn] | None:
        repeated = sorted({q.id for q in value or [] if [p.id for p in value].count(q.id) > 1})
        if repeated:
            raise ValueError(f"each question needs its own id; repeated: {', '.join(repeated)}")
        return value


class GroupIn(PlainText):
    model_config = ConfigDict(extra="forbid")
    slug: str | None = Field(None, pattern=SLUG.pattern)
    name_en: str | None = Field(None, min_length=1, max_length=200)
    name_cy: str | None = Field(None, min_length=1, max_length=200)
    slack_channel_id: str | None = Field(None, max_length=64)
    teams_conversation_id: str | None = Field(None, max_length=300)
    language: str | None = Field(None, pattern=r"^(en|cy|both)$")
    digest_schedule: str | None = Field(None, max_length=100)
    # Where the group's digests go by email (a coordinator's address or a mailing list); "" removes it.
    email: str | None = Field(None, max_length=320, json_schema_extra=ADDRESS)
    # Emails of people already known to the service (cyswllt import members); replaces the list.
    coordinators: list[str] | None = Field(None, max_length=50)

    @field_validator("email")
    @classmethod
    def address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if value and not is_address(value):
            raise ValueError("give an email address such as pobl-ifanc@example.cymru, or \"\" to remove it")
        return value

    @field_validator("coordinators")
    @classmethod
    def emails(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted({e.strip().lower() for e in value if e.strip()})

    @field_validator("digest_schedule")
    @classmethod
    def cron(cls, value: str | None) -> str | None:
        if value:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise ValueError(f"not a five-field cron expression: {exc}") from exc
        return value


def _language(request: web.Request) -> str:
    if request.query.get("lang") in ("en", "cy"):
        return request.query["lang"]
    return "cy" if request.headers.get("Accept-Language", "").lower().startswith("cy") else "en"


def _error(request: web.Request, status: int, key: str, extra: dict | None = None, **params) -> web.Response:
    """A JSON problem whose message is from the catalogue, in English or Welsh (?lang=cy, Accept-Language)."""
    message = t(_language(request), f"consultation.admin_{key}", **params)
    return web.json_response({"error": message, **(extra or {})}, status=status)


async def _body(request: web.Request, model: type[BaseModel]) -> BaseModel | web.Response:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(request, 413, "too_large")
    except RequestPayloadError:  # e.g. Content-Encoding: gzip on a body that is not gzip
        return _error(request, 400, "unreadable")
    try:
        data = model.model_validate_json(raw)
    except ValidationError as exc:
        return _error(request, 422, "invalid_fields", {"errors": [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)]})
    return data


def _consultation_json(c: Consultation, counts: dict[str, int] | None = None) -> dict[str, Any]:
    data = {"slug": c.slug, "title_en": c.title_en, "title_cy": c.title_cy, "opens": c.opens_at.isoformat(),
            "closes": c.closes_at.isoformat(), "short_period_reason": c.short_period_reason}
    if counts is not None:
        data["responses"] = counts
    return data


async def _set_questions(session, consultation: Consultation, questions: list[QuestionIn]) -> list[str]:
    """Make the questions these, in this order (updated in place by id, so answers stay with their
    question). Returns the ids of questions that would be removed but have answers (nothing changed)."""
    existing = {q.key: q for q in (await session.exec(select(Question).where(
        Question.consultation_id == consultation.id, Question.kind != "welsh_language"))).all()}
    wanted = [q for q in questions if q.id != WELSH_LANGUAGE_KEY]
    dropped = [q for key, q in existing.items() if key not in {w.id for w in wanted}]
    if dropped:
        answered = (await session.exec(select(Question.key).join(Answer, Answer.question_id == Question.id)
                                       .where(Question.id.in_([q.id for q in dropped])).distinct())).all()
        if answered:
            return sorted(answered)
        for question in dropped:
            await session.delete(question)
    for position, q in enumerate(wanted):
        question = existing.get(q.id) or Question(consultation_id=consultation.id, key=q.id)
        question.position, question.text_en, question.text_cy = position, q.text_en, q.text_cy
        question.hint_en, question.hint_cy = q.hint_en, q.hint_cy
        session.add(question)
    has_welsh = (await session.exec(select(Question).where(Question.consultation_id == consultation.id,
                                                           Question.kind == "welsh_language"))).first()
    if has_welsh is None:
        session.add(Question(consultation_id=consultation.id, position=1000, **WELSH_LANGUAGE_QUESTION))
    return []


async def _set_groups(session, consultation: Consultation, slugs: list[str]) -> list[str]:
    groups = (await session.exec(select(StakeholderGroup).where(StakeholderGroup.slug.in_(slugs)))).all()
    missing = sorted(set(slugs) - {g.slug for g in groups})
    if missing:
        return missing
    await session.exec(delete(ConsultationGroup).where(ConsultationGroup.consultation_id == consultation.id))
    for group in groups:
        session.add(ConsultationGroup(consultation_id=consultation.id, group_id=group.id))
    return []


def _period_problem(opens: datetime, closes: datetime, reason: str | None) -> str | None:
    """The catalogue key of what is wrong with the period, if anything (seed 001, 9.3: never under 8 weeks
    without a recorded reason)."""
    if closes <= opens:
        return "closes_before_opens"
    if closes - opens < timedelta(weeks=MIN_WEEKS) and not (reason or "").strip():
        return "too_short"
    return None


async def create_consultation(request: web.Request) -> web.Response:
    require_admin(request)
    data = await _body(request, ConsultationIn)
    if isinstance(data, web.Response):
        return data
    needed = [f for f in ("slug", "title_en", "title_cy", "summary_en", "summary_cy") if not getattr(data, f)]
    if needed:
        return _error(request, 422, "required", fields=", ".join(needed))
    opens = data.opens or utcnow()
    closes = data.closes or opens + timedelta(weeks=DEFAULT_WEEKS)
    if problem := _period_problem(opens, closes, data.short_period_reason):
        return _error(request, 422, problem, weeks=MIN_WEEKS, normal=DEFAULT_WEEKS)
    async with request.app[DB].session() as session:
        if (await session.exec(select(Consultation).where(Consultation.slug == data.slug))).first():
            return _error(request, 409, "consultation_exists", slug=data.slug)
        consultation = Consultation(
            slug=data.slug, title_en=data.title_en, title_cy=data.title_cy, summary_en=data.summary_en,
            summary_cy=data.summary_cy, executive_summary_en=data.executive_summary_en,
            executive_summary_cy=data.executive_summary_cy, opens_at=opens, closes_at=closes,
            short_period_reason=data.short_period_reason)
        session.add(consultation)
        await session.flush()
        await _set_questions(session, consultation, data.questions or [])
        if data.groups and (missing := await _set_groups(session, consultation, data.groups)):
            await session.rollback()
            return _error(request, 422, "unknown_groups", groups=", ".join(missing))
        await session.commit()
        forget(session, consultation.slug)
        return web.json_response(_consultation_json(consultation), status=201)


async def edit_consultation(request: web.Request) -> web.Response:
    require_admin(request)
    data = await _body(request, ConsultationIn)
    if isinstance(data, web.Response):
        return data
    async with request.app[DB].session() as session:
        consultation = (await session.exec(select(Consultation).where(
            Consultation.slug == request.match_info["slug"]))).first()
        if consultation is None:
            return _error(request, 404, "no_consultation")
        for name in ("title_en", "title_cy", "summary_en", "summary_cy", "executive_summary_en",
                     "executive_summary_cy", "short_period_reason"):
            if getattr(data, name) is not None:
                setattr(consultation, name, getattr(data, name))
        consultation.opens_at = data.opens or consultation.opens_at
        consultation.closes_at = data.closes or consultation.closes_at
        if problem := _period_problem(consultation.opens_at, consultation.closes_at, consultation.short_period_reason):
            return _error(request, 422, problem, weeks=MIN_WEEKS, normal=DEFAULT_WEEKS)
        session.add(consultation)
        if data.questions is not None and (answered := await _set_questions(session, consultation, data.questions)):
            await session.rollback()
            return _error(request, 422, "answered_questions", questions=", ".join(answered))
        if data.groups is not None and (missing := await _set_groups(session, consultation, data.groups)):
            await session.rollback()
            return _error(request, 422, "unknown_groups", groups=", ".join(missing))
        await session.commit()
        forget(session, consultation.slug)
        return web.json_response(_consultation_json(consultation))


async def list_consultations(request: web.Request) -> web.Response:
    require_admin(request)
    async with request.app[DB].session() as session:
        rows = (await session.exec(select(Consultation).order_by(Consultation.opens_at.desc()))).all()
        items = [_consultation_json(c, await public_counts(session, c.id)) for c in rows]
    return web.json_response({"items": items})


def _response_json(r: Response, group: str | None, answers: dict[str, str | None] | None = None) -> dict[str, Any]:
    return {"reference": r.reference, "received_at": r.received_at.isoformat(), "channel": r.channel,
            "language": r.language, "group": group, "text": r.redacted_text if r.analysis_state == "done" else None,
            "analysis_state": r.analysis_state, "sentiment": r.sentiment, "polarity": r.polarity,
            "confidence": r.confidence, "themes": r.themes or [], "moderation_state": r.moderation_state,
            "moderation_reason": r.moderation_reason, "duplicate": r.duplicate_of_id is not None,
            "withdrawn": r.withdrawn_at is not None, "answers": answers or {}}


Rows = list[tuple[Response, str | None]]
FILTERS = {"analysis_state": Response.analysis_state, "moderation_state": Response.moderation_state,
           "language": Response.language, "sentiment": Response.sentiment, "channel": Response.channel}


async def _responses(request: web.Request) -> tuple[Consultation | None, Rows, list[str], dict[int, dict]]:
    """The consultation, its responses (filtered; a page of them unless CSV), its question ids and the
    answers by response — redacted text only, and only once analysed."""
    try:
        offset = min(2**31 - 1, max(0, int(request.query.get("offset", 0))))
        limit = min(1000, max(1, int(request.query.get("limit", 100))))
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"error": t(_language(request), "consultation.admin_page_numbers")}),
                                 content_type="application/json")
    async with request.app[DB].session() as session:
        consultation = (await session.exec(select(Consultation).where(
            Consultation.slug == request.match_info["slug"]))).first()
        if consultation is None:
            return None, [], [], {}
        query = (select(Response, StakeholderGroup.slug)
                 .join(StakeholderGroup, StakeholderGroup.id == Response.group_id, isouter=True)
                 .where(Response.consultation_id == consultation.id).order_by(Response.id))
        for name, column in FILTERS.items():
            if value := request.query.get(name):
                query = query.where(column == value[:20])
        if group := request.query.get("group"):
            query = query.where(StakeholderGroup.slug == group[:80])
        if request.path.endswith(".csv"):
            rows = (await session.exec(query)).all()
        else:
            rows = (await session.exec(query.offset(offset).limit(limit))).all()
        keys = list((await session.exec(select(Question.key).where(Question.consultation_id == consultation.id)
                                        .order_by(Question.kind == "welsh_language", Question.position))).all())
        answers: dict[int, dict[str, str | None]] = {}
        analysed = [r.id for r, _ in rows if r.analysis_state == "done"]
        for start in range(0, len(analysed), 500):
            for response_id, key, text in (await session.exec(
                    select(Answer.response_id, Question.key, Answer.redacted_text)
                    .join(Question, Question.id == Answer.question_id)
                    .where(Answer.response_id.in_(analysed[start:start + 500])))).all():
                answers.setdefault(response_id, {})[key] = text
        return consultation, list(rows), keys, answers


async def list_responses(request: web.Request) -> web.Response:
    require_admin(request)
    consultation, rows, _, answers = await _responses(request)
    if consultation is None:
        return _error(request, 404, "no_consultation")
    return web.json_response({"items": [_response_json(r, g, answers.get(r.id)) for r, g in rows]})


CSV_COLUMNS = ["reference", "received_at", "channel", "language", "group", "text", "sentiment", "polarity",
               "confidence", "themes", "analysis_state", "moderation_state", "withdrawn"]


async def export_responses(request: web.Request) -> web.Response:
    require_admin(request)
    consultation, rows, keys, answers = await _responses(request)
    if consultation is None:
        return _error(request, 404, "no_consultation")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS + [f"answer:{k}" for k in keys], extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for response, group in rows:
        row = _response_json(response, group)
        row["themes"] = "; ".join(row["themes"])
        row.update({f"answer:{k}": v for k, v in answers.get(response.id, {}).items()})
        writer.writerow({k: cell(v) for k, v in row.items()})  # never name, email or unredacted text
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{consultation.slug}-responses.csv"'})



class ModerationIn(PlainText):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


async def moderate(request: web.Request) -> web.Response:
    require_admin(request)
    data = await _body(request, ModerationIn)
    if isinstance(data, web.Response):
        return data
    hide = request.match_info["action"] == "hide"
    async with request.app[DB].session() as session:
        response = (await session.exec(select(Response).where(
            Response.reference == request.match_info["reference"].upper()))).first()
        if response is None:
            return _error(request, 404, "no_response")
        async with tallies.keeping(session, response.consultation_id, [response.id]):  # the digest's totals follow
            response.moderation_state = ModerationState.hidden if hide else ModerationState.visible
            response.moderation_reason = data.reason
            response.reviewed_at = utcnow()  # a person decided: reanalysis will not hold or release it again
            session.add(response)
        await session.commit()
        return web.json_response({"reference": response.reference, "moderation_state": response.moderation_state,
                                  "moderation_reason": response.moderation_reason})


# A group's channels in the API, by their contract names ("<platform>_..."); stored as its addresses.
GROUP_CHANNELS = ("slack_channel_id", "teams_conversation_id", "email")  # address fields, by platform


def _platform(field: str) -> str:
    return field.partition("_")[0]


def _group_json(g: StakeholderGroup, coordinators: list[str], channels: dict[str, str]) -> dict[str, Any]:
    return {"slug": g.slug, "name_en": g.name_en, "name_cy": g.name_cy,
            **{name: channels.get(_platform(name)) for name in GROUP_CHANNELS}, "language": g.language,
            "digest_schedule": g.digest_schedule, "coordinators": coordinators}


async def _coordinators(session, group_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if group_ids:
        for group_id, email in (await session.exec(
                select(GroupCoordinator.group_id, Person.email).join(Person, Person.id == GroupCoordinator.person_id)
                .where(GroupCoordinator.group_id.in_(group_ids)).order_by(Person.email))).all():
            found.setdefault(group_id, []).append(email)
    return found


async def _set_coordinators(session, group: StakeholderGroup, emails: list[str]) -> list[str]:
    """Make these people the group's coordinators; returns the emails nobody has (nothing changed)."""
    people = (await session.exec(select(Person).where(func.lower(Person.email).in_(emails)))).all() if emails else []
    unknown = sorted(set(emails) - {p.email.lower() for p in people})
    if unknown:
        return unknown
    await session.exec(delete(GroupCoordinator).where(GroupCoordinator.group_id == group.id))
    for person in people:
        session.add(GroupCoordinator(group_id=group.id, person_id=person.id))
    return []


async def list_groups(request: web.Request) -> web.Response:
    require_admin(request)
    async with request.app[DB].session() as session:
        groups = (await session.exec(select(StakeholderGroup).order_by(StakeholderGroup.slug))).all()
        coordinators = await _coordinators(session, [g.id for g in groups])
        channels = await groups_addresses(session, [g.id for g in groups])
    return web.json_response({"items": [_group_json(g, coordinators.get(g.id, []), channels.get(g.id, {}))
                                        for g in groups]})


async def save_group(request: web.Request) -> web.Response:
    require_admin(request)
    data = await _body(request, GroupIn)
    if isinstance(data, web.Response):
        return data
    slug = request.match_info.get("slug") or data.slug
    async with request.app[DB].session() as session:
        group = (await session.exec(select(StakeholderGroup).where(StakeholderGroup.slug == slug))).first() if slug else None
        creating = "slug" not in request.match_info
        if creating:
            if not (data.slug and data.name_en and data.name_cy):
                return _error(request, 422, "required", fields="slug, name_en, name_cy")
            if group is not None:
                return _error(request, 409, "group_exists", slug=slug)
            group = StakeholderGroup(slug=data.slug, name_en=data.name_en, name_cy=data.name_cy)
        elif group is None:
            return _error(request, 404, "no_group")
        for name in ("name_en", "name_cy", "language", "digest_schedule"):
            if getattr(data, name) is not None:
                setattr(group, name, getattr(data, name))
        session.add(group)
        await session.flush()
        for name in GROUP_CHANNELS:
            if getattr(data, name) is not None:  # "" unlinks the channel
                await set_address(session, group, _platform(name), getattr(data, name))
        if data.coordinators is not None and (unknown := await _set_coordinators(session, group, data.coordinators)):
            await session.rollback()
            return _error(request, 422, "unknown_people", emails=", ".join(unknown))
        await session.commit()
        forget(session)  # group names show in every consultation that lists the group
        coordinators = (await _coordinators(session, [group.id])).get(group.id, [])
        channels = await addresses_of(session, group)
        return web.json_response(_group_json(group, coordinators, channels), status=201 if creating else 200)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/admin/consultations", list_consultations)
    r.add_post("/api/v1/admin/consultations", create_consultation)
    r.add_patch("/api/v1/admin/consultations/{slug}", edit_consultation)
    r.add_get("/api/v1/admin/consultations/{slug}/responses", list_responses)
    r.add_get("/api/v1/admin/consultations/{slug}/responses.csv", export_responses)
    r.add_post("/api/v1/admin/responses/{reference}/{action:hide|restore}", moderate)
    r.add_get("/api/v1/admin/groups", list_groups)
    r.add_post("/api/v1/admin/groups", save_group)
    r.add_patch("/api/v1/admin/groups/{slug}", save_group)
    _describe(app)


COUNTS = {"type": "object", "properties": {name: {"type": "integer", "minimum": 0}
                                            for name in ("received", "visible", "hidden", "withdrawn")}}
ADMIN_CONSULTATION = {
    "type": "object", "required": ["slug", "title_en", "title_cy", "opens", "closes"],
    "properties": {"slug": {"type": "string"}, "title_en": {"type": "string"}, "title_cy": {"type": "string"},
                   "opens": {"type": "string", "format": "date-time"},
                   "closes": {"type": "string", "format": "date-time"},
                   "short_period_reason": {"type": ["string", "null"]}, "responses": COUNTS},
}
NULLABLE = {"type": ["string", "null"]}
ADMIN_RESPONSE = {
    "type": "object", "required": ["reference", "received_at", "channel", "analysis_state", "moderation_state"],
    "properties": {
        "reference": {"type": "string"}, "received_at": {"type": "string", "format": "date-time"},
        "channel": {"type": "string"}, "language": NULLABLE, "group": NULLABLE,
        "text": {**NULLABLE, "description": "Redacted, once analysed"}, "analysis_state": {"type": "string"},
        "sentiment": NULLABLE, "polarity": {"type": ["number", "null"]}, "confidence": {"type": ["number", "null"]},
        "themes": {"type": "array", "items": {"type": "string"}}, "moderation_state": {"type": "string"},
        "moderation_reason": NULLABLE, "duplicate": {"type": "boolean"}, "withdrawn": {"type": "boolean"},
        "answers": {"type": "object", "additionalProperties": NULLABLE, "description": "Redacted, by question id"},
    },
}
GROUP = {
    "type": "object", "required": ["slug", "name_en", "name_cy"],
    "properties": {"slug": {"type": "string"}, "name_en": {"type": "string"}, "name_cy": {"type": "string"},
                   "slack_channel_id": NULLABLE, "teams_conversation_id": NULLABLE,
                   "email": {**NULLABLE, "description": "where the group's digests go by email"}, "language": NULLABLE,
                   "digest_schedule": NULLABLE, "coordinators": {"type": "array", "items": {"type": "string"}}},
}


def _items(schema: dict) -> dict:
    return {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": schema}}}


def _describe(app: web.Application) -> None:
    slug = [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}]
    query = lambda name, kind="string": {"name": name, "in": "query", "required": False, "schema": {"type": kind}}  # noqa: E731
    page = [query("offset", "integer"), query("limit", "integer")]
    filters = [query(name) for name in (*FILTERS, "group")]
    auth = {"401": UNAUTHORISED, "403": ADMIN_DISABLED}
    body_errors = {"400": problem("The body could not be read"), "413": problem("The body is over 64 KB"),
                   "422": problem("Not valid: see errors")}

    def body(model, required: tuple[str, ...] = ()) -> dict:
        schema = schema_for(app, model)
        if required:  # creating: these must be given, and not as null
            schema = {**schema, "required": list(required), "properties": {
                name: (next(s for s in prop["anyOf"] if s.get("type") != "null")
                       if name in required and "anyOf" in prop else prop)
                for name, prop in schema["properties"].items()}}
        return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}

    for path, method, operation_id, summary, extra, responses in [
        ("/api/v1/admin/consultations", "get", "listAdminConsultations", "All consultations with response counts",
         {}, {"200": json_body(_items(ADMIN_CONSULTATION))}),
        ("/api/v1/admin/consultations", "post", "createConsultation", "Create a consultation (12 weeks by default; "
         "under 8 needs a reason; the Welsh-language question is always added)",
         body(ConsultationIn, ("slug", "title_en", "title_cy", "summary_en", "summary_cy")),
         {"201": json_body(ADMIN_CONSULTATION, "Created"), "409": problem("A consultation with that slug exists"),
          **body_errors}),
        ("/api/v1/admin/consultations/{slug}", "patch", "editConsultation", "Edit a consultation",
         {"parameters": slug, **body(ConsultationIn)},
         {"200": json_body(ADMIN_CONSULTATION), "404": problem("No such consultation"), **body_errors}),
        ("/api/v1/admin/consultations/{slug}/responses", "get", "listAdminResponses", "Responses with analysis and "
         "moderation state and answers by question id (redacted text only; never names or emails)",
         {"parameters": slug + page + filters},
         {"200": json_body(_items(ADMIN_RESPONSE)), "400": problem("offset and limit must be whole numbers"),
          "404": problem("No such consultation")}),
        ("/api/v1/admin/consultations/{slug}/responses.csv", "get", "exportResponses", "Responses as CSV, personal "
         "data redacted; one answer:<question id> column per question", {"parameters": slug + filters},
         {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
          "404": problem("No such consultation")}),
        ("/api/v1/admin/responses/{reference}/{action}", "post", "moderateResponse", "Hide or restore a response, "
         "with a reason",
         {"parameters": [{"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}},
                         {"name": "action", "in": "path", "required": True,
                          "schema": {"type": "string", "enum": ["hide", "restore"]}}], **body(ModerationIn)},
         {"200": json_body({"type": "object", "required": ["reference", "moderation_state"], "properties": {
             "reference": {"type": "string"}, "moderation_state": {"type": "string", "enum": ["visible", "hidden"]},
             "moderation_reason": {"type": "string"}}}), "404": problem("No such response"), **body_errors}),
        ("/api/v1/admin/groups", "get", "listGroups", "Stakeholder groups", {}, {"200": json_body(_items(GROUP))}),
        ("/api/v1/admin/groups", "post", "createGroup", "Create a stakeholder group",
         body(GroupIn, ("slug", "name_en", "name_cy")),
         {"201": json_body(GROUP, "Created"), "409": problem("A group with that slug exists"), **body_errors}),
        ("/api/v1/admin/groups/{slug}", "patch", "editGroup", "Edit a stakeholder group",
         {"parameters": slug, **body(GroupIn)},
         {"200": json_body(GROUP), "404": problem("No such group"), **body_errors}),
    ]:
        describe(app, path, method, {"summary": summary, "operationId": operation_id, "tags": ["admin"],
                                     "security": BEARER, **extra, "responses": {**responses, **auth}})
