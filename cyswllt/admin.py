"""The admin API's authentication and its board and action reads."""

from __future__ import annotations

import hmac

from aiohttp import web
from sqlmodel import select

from cyswllt.appkeys import DB, SETTINGS
from cyswllt.openapi import ADDRESS, ADMIN_DISABLED, BEARER, UNAUTHORISED, describe, json_body, problem
from engagement.schemas import plain_text
from storage.models import Action, Board
from storage.queries import action_json, leads_for, ref_number
from storage.reach import MAIL, addresses_of, boards_addresses, is_address, set_address


def is_admin(request: web.Request) -> bool:
    """Whether the request carries the admin token as its bearer token (never, with no token configured)."""
    expected = request.app[SETTINGS].admin_token
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                                                 expected.encode())


def require_admin(request: web.Request) -> None:
    """Refuse unless the request carries the admin token; with no token configured, refuse all."""
    if not request.app[SETTINGS].admin_token:
        raise web.HTTPForbidden(text='{"error": "the admin API is disabled: CYSWLLT_ADMIN_TOKEN is not set"}',
                                content_type="application/json")
    if not is_admin(request):
        raise web.HTTPUnauthorized(text='{"error": "a valid admin bearer token is required"}',
                                   content_type="application/json",
                                   headers={"WWW-Authenticate": "Bearer"})


async def list_boards(request: web.Request) -> web.Response:
    require_admin(request)
    async with request.app[DB].session() as s:
        boards = (await s.exec(select(Board).order_by(Board.name))).all()
        addresses = await boards_addresses(s, [b.id for b in boards])
    return web.json_response({"items": [board_json(b, addresses.get(b.id, {})) for b in boards]})


def board_json(board: Board, addresses: dict[str, str]) -> dict:
    return {"id": board.id, "name": board.name, "name_cy": board.name_cy, "slug": board.slug,
            "published": board.published, "email": addresses.get(MAIL)}


BOARD_FIELDS = ("name_cy", "published", "email")


async def change_board(request: web.Request) -> web.Response:
    """``PATCH /api/v1/boards/{slug}``: the board's Welsh name, whether its public pages are served, and the
    email address its notices go to (a clerk's or a members' list; "" or null removes it)."""
    import json

    require_admin(request)
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return web.json_response({"error": "the body is not valid JSON"}, status=400)
    if not isinstance(body, dict) or not body:
        return web.json_response({"error": "send a JSON object with name_cy, published and/or email"}, status=400)
    unknown = sorted(set(body) - set(BOARD_FIELDS))
    if unknown:
        return web.json_response({"error": f"unknown fields: {', '.join(unknown)}; "
                                           f"the fields are {', '.join(BOARD_FIELDS)}"}, status=400)
    if "published" in body and not isinstance(body["published"], bool):
        return web.json_response({"error": "published must be true or false"}, status=400)
    name_cy = body.get("name_cy")
    if isinstance(name_cy, str):
        name_cy = plain_text(name_cy)  # NUL dropped; None when not text at all
    if body.get("name_cy") is not None and (not isinstance(name_cy, str) or len(name_cy.strip()) > 200):
        return web.json_response({"error": "name_cy must be text of up to 200 characters, or null"}, status=400)
    email = body.get("email")
    if isinstance(email, str):
        email = plain_text(email)
    if body.get("email") is not None:
        if not isinstance(email, str) or (email.strip() and not is_address(email.strip())):
            return web.json_response({"error": "email must be an email address such as clerc@example.cymru, "
                                               "or \"\" or null to remove it"}, status=400)
    async with request.app[DB].session() as s:
        board = (await s.exec(select(Board).where(Board.slug == request.match_info["slug"]))).first()
        if board is None:
            return web.json_response({"error": "there is no board with that slug"}, status=404)
        if "published" in body:
            board.published = body["published"]
        if "name_cy" in body:
            board.name_cy = " ".join(name_cy.split()) or None if isinstance(name_cy, str) else None
        s.add(board)
        if "email" in body:
            await set_address(s, board, MAIL, (email or "").strip() or None)
        await s.commit()
        return web.json_response(board_json(board, await addresses_of(s, board)))


async def list_actions(request: web.Request) -> web.Response:
    require_admin(request)
    try:
        board_id = int(request.match_info["board_id"])
    except ValueError:
        raise web.HTTPNotFound(text='{"error": "no such board"}', content_type="application/json")
    async with request.app[DB].session() as s:
        if not 0 < board_id < 2**31 or await s.get(Board, board_id) is None:  # ids are positive 32-bit integers
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
    app.router.add_patch("/api/v1/boards/{slug}", change_board)
    board_schema = {"type": "object", "required": ["id", "name", "name_cy", "slug", "published"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "name_cy": {"type": ["string", "null"]},
        "slug": {"type": "string"}, "published": {"type": "boolean"},
        "email": {"type": ["string", "null"], "description": "where the board's notices go by email"}}}
    describe(app, "/api/v1/boards/{slug}", "patch", {
        "summary": "Change a board's Welsh name, whether its public pages are published, or its email address",
        "security": BEARER,
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
                "name_cy": {"type": ["string", "null"], "maxLength": 200}, "published": {"type": "boolean"},
                "email": {**ADDRESS, "description": "where the board's notices go by email; \"\" or null removes it"}}}}}},
        "responses": {"200": {"description": "The board", "content": {"application/json": {"schema": board_schema}}},
                      "400": {"description": "Invalid body"}, "401": {"description": "No or wrong token"},
                      "404": {"description": "No such board"}}})
    describe(app, "/api/v1/boards", "get", {
        "summary": "List boards", "operationId": "listBoards", "tags": ["admin"], "security": BEARER,
        "responses": {"200": json_body({"type": "object", "required": ["items"], "properties": {"items": {
            "type": "array", "items": {
                "type": "object", "required": ["id", "name", "slug", "published"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                               "name_cy": {"type": ["string", "null"], "description": "the board's name in Welsh"},
                               "slug": {"type": "string", "description": "the board's public address, /boards/{slug}"},
                               "published": {"type": "boolean",
                                             "description": "whether the board's public pages are served"},
                               "email": {"type": ["string", "null"],
                                         "description": "where the board's notices go by email"}}}}}}, "Boards"),
            "401": UNAUTHORISED, "403": ADMIN_DISABLED},
    })
    describe(app, "/api/v1/boards/{board_id}/actions", "get", {
        "summary": "List a board's actions", "operationId": "listBoardActions", "tags": ["admin"], "security": BEARER,
        "parameters": [{"name": "board_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": json_body({"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": _ACTION_SCHEMA}}}, "Actions"),
            "401": UNAUTHORISED, "403": ADMIN_DISABLED, "404": problem("No such board")},
    })
