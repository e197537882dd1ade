"""The admin API's authentication and its board and action reads."""

from __future__ import annotations

import hmac

from aiohttp import web
from sqlmodel import select

from cyswllt.appkeys import DB, SETTINGS
from cyswllt.openapi import BEARER, describe
from storage.models import Action, Board
from storage.queries import action_json, leads_for, ref_number


def require_admin(request: web.Request) -> None:
    """Refuse unless the request carries the admin token; with no token configured, refuse all."""
    expected = request.app[SETTINGS].admin_token
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if not expected:
        raise web.HTTPForbidden(text='{"error": "the admin API is disabled: CYSWLLT_ADMIN_TOKEN is not set"}',
                                content_type="application/json")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise web.HTTPUnauthorized(text='{"error": "a valid admin bearer token is required"}',
                                   content_type="application/json",
                                   headers={"WWW-Authenticate": "Bearer"})


async def list_boards(request: web.Request) -> web.Response:
    require_admin(request)
    async with request.app[DB].session() as s:
        boards = (await s.exec(select(Board).order_by(Board.name))).all()
    return web.json_response({"items": [{"id": b.id, "name": b.name, "slug": b.slug, "published": b.published}
                                        for b in boards]})


async def list_actions(request: web.Request) -> web.Response:
    require_admin(request)
    try:
        board_id = int(request.match_info["board_id"])
    except ValueError:
        raise web.HTTPNotFound(text='{"error": "no such board"}', content_type="application/json")
    async with request.app[DB].session() as s:
        if board_id > 2**31 or await s.get(Board, board_id) is None:
            raise web.HTTPNotFound(text='{"error": "no such board"}', content_type="application/json")
        actions = (await s.exec(select(Action).where(Action.board_id == board_id))).all()
        leads = await leads_for(s, [a.id for a in actions])
    actions = sorted(actions, key=lambda a: ref_number(a.ref))
    return web.json_response({"items": [action_json(a, leads.get(a.id, [])) for a in actions]})


_ACTION_SCHEMA = {
    "type": "object",
    "properties": {
        "ref": {"type": "string"}, "title": {"type": "string"},
        "lead": {"type": "array", "items": {"type": "string"}},
        "owner_email": {"type": ["string", "null"]},
        "due": {"type": ["string", "null"], "format": "date"},
        "due_text": {"type": ["string", "null"]},
        "rag": {"type": ["string", "null"], "enum": ["red", "amber", "green", "complete", None]},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/boards", list_boards)
    app.router.add_get("/api/v1/boards/{board_id}/actions", list_actions)
    describe(app, "/api/v1/boards", "get", {
        "summary": "List boards", "security": BEARER,
        "responses": {"200": {"description": "Boards", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"items": {"type": "array", "items": {
                "type": "object", "required": ["id", "name", "slug", "published"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                               "slug": {"type": "string", "description": "the board's public address, /boards/{slug}"},
                               "published": {"type": "boolean",
                                             "description": "whether the board's public pages are served"}}}}}}}}},
            "401": {"description": "No or wrong token"}, "403": {"description": "Admin API disabled"}},
    })
    describe(app, "/api/v1/boards/{board_id}/actions", "get", {
        "summary": "List a board's actions", "security": BEARER,
        "parameters": [{"name": "board_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "Actions", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"items": {"type": "array", "items": _ACTION_SCHEMA}}}}}},
            "401": {"description": "No or wrong token"}, "404": {"description": "No such board"}},
    })
