"""The admin theme API: a consultation's themes with their counts and sentiment, and the edits a person
makes before anything is reported — rename, hide, merge, split, pin a quote, reassign a response's themes,
sign the theme set off. Every edit is kept in ``ThemeEdit`` with who made it and when, and survives
reanalysis (see ``engagement.themes``).

Who: the admin token (``Authorization: Bearer``); the person's name and email come from the
``X-Cyswllt-Actor-Name`` and ``X-Cyswllt-Actor-Email`` headers, or the workbench's signed-in session.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import case, distinct, func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cyswllt.admin import require_admin
from cyswllt.appkeys import DB
from cyswllt.openapi import BEARER, describe, schema_for
from engagement import themes as edits
from engagement.admin_api import _body, _error
from engagement.schemas import PlainText
from engagement.themes import sign_off_state
from storage.models import Consultation, Response, ResponseTheme, Theme

LABEL_MAX = 200


class Labels(PlainText):
    model_config = ConfigDict(extra="forbid")
    en: str = Field(min_length=1, max_length=LABEL_MAX)
    cy: str = Field(min_length=1, max_length=LABEL_MAX)

    @field_validator("en", "cy")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("must not be blank")
        return value


class ThemePatch(PlainText):
    model_config = ConfigDict(extra="forbid")
    label: Labels | None = None
    hidden: bool | None = None


class MergeIn(PlainText):
    model_config = ConfigDict(extra="forbid")
    into: int = Field(ge=1, le=2**31 - 1)


class SplitIn(PlainText):
    model_config = ConfigDict(extra="forbid")
    responses: list[str] = Field(min_length=1, max_length=1000)
    label: Labels


class PinIn(PlainText):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1, max_length=20)


class ReassignIn(PlainText):
    model_config = ConfigDict(extra="forbid")
    themes: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(max_length=100)  # ids are 32-bit


def actor(request: web.Request) -> tuple[str | None, str | None]:
    name = request.headers.get("X-Cyswllt-Actor-Name", "").strip()[:200] or None
    email = request.headers.get("X-Cyswllt-Actor-Email", "").strip()[:320] or None
    return name, email


def _theme_id(request: web.Request) -> int | None:
    raw = request.match_info.get("id", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


EFFECTIVE = func.coalesce(Theme.merged_into_id, Theme.id)


async def theme_items(session: AsyncSession, consultation: Consultation) -> list[dict[str, Any]]:
    """Every theme of the consultation not merged into another, most raised first, with its counts
    (responses shown to others: not hidden or withdrawn) and sentiment split."""
    counts = {row[0]: row[1:] for row in (await session.exec(
        select(EFFECTIVE.label("d_theme"), func.count(distinct(ResponseTheme.response_id)),
               func.count(distinct(case((ResponseTheme.sentiment == "positive", ResponseTheme.response_id)))),
               func.count(distinct(case((ResponseTheme.sentiment == "negative", ResponseTheme.response_id)))))
        .select_from(ResponseTheme).join(Theme, Theme.id == ResponseTheme.theme_id)
        .join(Response, Response.id == ResponseTheme.response_id)
        .where(ResponseTheme.consultation_id == consultation.id, ResponseTheme.removed.is_(False),
               Response.moderation_state != "hidden", Response.withdrawn_at.is_(None))
        .group_by("d_theme"))).all()}
    state = await sign_off_state(session, consultation.id)
    themes = (await session.exec(select(Theme).where(Theme.consultation_id == consultation.id,
                                                     Theme.merged_into_id.is_(None)))).all()
    items = []
    for theme in themes:
        count, positive, negative = counts.get(theme.id, (0, 0, 0))
        items.append({"id": theme.id, "key": theme.key, "label": {"en": theme.label("en"), "cy": theme.label("cy")},
                      "responses": count,
                      "sentiment": {"positive": positive, "neutral": max(0, count - positive - negative),
                                    "negative": negative},
                      "hidden": theme.hidden, "signed_off": state["signed_off"], "origin": theme.origin})
    items.sort(key=lambda i: (-i["responses"], i["label"]["en"].lower()))
    return items


async def _consultation(session: AsyncSession, slug: str) -> Consultation | None:
    return (await session.exec(select(Consultation).where(Consultation.slug == slug[:120]))).first()


async def list_themes(request: web.Request) -> web.Response:
    require_admin(request)
    async with request.app[DB].session() as session:
        consultation = await _consultation(session, request.match_info["slug"])
        if consultation is None:
            return _error(request, 404, "no_consultation")
        items = await theme_items(session, consultation)
        state = await sign_off_state(session, consultation.id)
    return web.json_response({"items": items, **state})


def _theme_json(theme: Theme) -> dict[str, Any]:
    return {"id": theme.id, "key": theme.key, "label": {"en": theme.label("en"), "cy": theme.label("cy")},
            "hidden": theme.hidden, "merged_into": theme.merged_into_id, "origin": theme.origin}


async def _edit(request: web.Request, model: type[BaseModel] | None, work, status: int = 200) -> web.Response:
    """Validate the body, find the theme, make the edit (``work(session, theme, data)``), commit, answer
    with its JSON — or a 4xx with the reason in the reader's language."""
    require_admin(request)
    data = None
    if model is not None:
        data = await _body(request, model)
        if isinstance(data, web.Response):
            return data
    async with request.app[DB].session() as session:
        theme_id = _theme_id(request)
        theme = await session.get(Theme, theme_id) if theme_id else None
        if theme is None:
            return _error(request, 404, "no_theme")
        try:
            result = await work(session, theme, data)
        except edits.EditRefused as refused:
            await session.rollback()
            return _error(request, refused.status, refused.key, **refused.params)
        await session.commit()
        return web.json_response(result, status=status)


async def patch_theme(request: web.Request) -> web.Response:
    async def work(session, theme, data):
        if data.label is not None:
            await edits.rename(session, actor(request), theme, data.label.en, data.label.cy)
        if data.hidden is not None:
            await edits.set_hidden(session, actor(request), theme, data.hidden)
        return _theme_json(theme)
    return await _edit(request, ThemePatch, work)


async def merge_theme(request: web.Request) -> web.Response:
    async def work(session, theme, data):
        return _theme_json(await edits.merge(session, actor(request), theme, data.into))
    return await _edit(request, MergeIn, work)


async def split_theme(request: web.Request) -> web.Response:
    async def work(session, theme, data):
        return _theme_json(await edits.split(session, actor(request), theme, data.responses, data.label.en,
                                             data.label.cy))
    return await _edit(request, SplitIn, work, status=201)


async def pin_quote(request: web.Request) -> web.Response:
    async def work(session, theme, data):
        response = await edits.pin(session, actor(request), theme, data.reference)
        return {"theme": theme.id, "reference": response.reference}
    return await _edit(request, PinIn, work, status=201)


async def reassign(request: web.Request) -> web.Response:
    require_admin(request)
    data = await _body(request, ReassignIn)
    if isinstance(data, web.Response):
        return data
    async with request.app[DB].session() as session:
        response = (await session.exec(select(Response).where(
            func.upper(Response.reference) == request.match_info["reference"].strip().upper()[:20]))).first()
        if response is None:
            return _error(request, 404, "no_response")
        try:
            await edits.reassign(session, actor(request), response, set(data.themes))
        except edits.EditRefused as refused:
            await session.rollback()
            return _error(request, refused.status, refused.key, **refused.params)
        await session.commit()
        return web.json_response({"reference": response.reference, "themes": sorted(set(data.themes))})


async def sign_off(request: web.Request) -> web.Response:
    require_admin(request)
    async with request.app[DB].session() as session:
        consultation = await _consultation(session, request.match_info["slug"])
        if consultation is None:
            return _error(request, 404, "no_consultation")
        await edits.sign_off(session, actor(request), consultation.id)
        await session.commit()
        state = await sign_off_state(session, consultation.id)
    return web.json_response(state, status=201)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/admin/consultations/{slug}/themes", list_themes)
    r.add_post("/api/v1/admin/consultations/{slug}/themes/sign-off", sign_off)
    r.add_patch("/api/v1/admin/themes/{id}", patch_theme)
    r.add_post("/api/v1/admin/themes/{id}/merge", merge_theme)
    r.add_post("/api/v1/admin/themes/{id}/split", split_theme)
    r.add_post("/api/v1/admin/themes/{id}/pin", pin_quote)
    r.add_put("/api/v1/admin/responses/{reference}/themes", reassign)
    slug = [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}]
    theme = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    reference = [{"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}]
    actor_headers = [{"name": "X-Cyswllt-Actor-Name", "in": "header", "required": False, "schema": {"type": "string"}},
                     {"name": "X-Cyswllt-Actor-Email", "in": "header", "required": False,
                      "schema": {"type": "string"}}]
    ok = {"200": {"description": "OK"}, "401": {"description": "No or wrong token"},
          "403": {"description": "Admin API disabled"}, "404": {"description": "No such consultation, theme or "
                                                                               "response"},
          "422": {"description": "A body that does not fit"}}

    def body(model) -> dict:
        return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema_for(app, model)}}}}

    for path, method, summary, extra in [
        ("/api/v1/admin/consultations/{slug}/themes", "get", "A consultation's themes: id, key, label (en, cy), "
         "responses, sentiment split, hidden, signed_off", {"parameters": slug}),
        ("/api/v1/admin/consultations/{slug}/themes/sign-off", "post", "Sign the theme set off (digests stop "
         "saying draft until something changes)", {"parameters": slug + actor_headers}),
        ("/api/v1/admin/themes/{id}", "patch", "Rename a theme (English and Welsh labels) or hide it",
         {"parameters": theme + actor_headers, **body(ThemePatch)}),
        ("/api/v1/admin/themes/{id}/merge", "post", "Merge a theme into another of the same consultation",
         {"parameters": theme + actor_headers, **body(MergeIn)}),
        ("/api/v1/admin/themes/{id}/split", "post", "Move chosen responses to a new theme",
         {"parameters": theme + actor_headers, **body(SplitIn)}),
        ("/api/v1/admin/themes/{id}/pin", "post", "Pin a response as this theme's quote",
         {"parameters": theme + actor_headers, **body(PinIn)}),
        ("/api/v1/admin/responses/{reference}/themes", "put", "Set a response's themes",
         {"parameters": reference + actor_headers, **body(ReassignIn)}),
    ]:
        answers = {**ok, "201": ok["200"]} if path.endswith("/sign-off") else ok
        if path.endswith("/sign-off"):
            answers.pop("200")
        describe(app, path, method, {"summary": summary, "security": BEARER, "responses": answers, **extra})
