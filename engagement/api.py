"""The public JSON API for consultations and responses (admin routes are in ``admin_api``)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from pydantic import ValidationError

from cyswllt.appkeys import DB
from cyswllt.i18n import t
from cyswllt.openapi import describe
from engagement import admin_api, ratelimit, service, worker
from engagement.schemas import ResponseIn
from engagement.service import ConsultationClosed, ConsultationNotFound, ConsultationView, InvalidResponse
from storage.models import utcnow


def problem(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def request_language(request: web.Request, body: dict | None = None) -> str:
    if body and body.get("language") in ("en", "cy"):
        return body["language"]
    if request.query.get("lang") in ("en", "cy"):
        return request.query["lang"]
    accept = request.headers.get("Accept-Language", "")
    return "cy" if accept.lower().startswith("cy") else "en"


async def read_json(request: web.Request, language: str) -> Any:
    """The body as JSON, or a clear 4xx: too large, not UTF-8, not JSON."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise web.HTTPRequestEntityTooLarge(max_size=request.app._client_max_size, actual_size=request.content_length or 0,
                                            text=json.dumps({"error": t(language, "consultation.too_large")}),
                                            content_type="application/json")
    except RequestPayloadError:  # e.g. Content-Encoding: gzip on a body that is not gzip
        raise web.HTTPBadRequest(text=json.dumps({"error": t(language, "consultation.invalid_encoding")}),
                                 content_type="application/json")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise web.HTTPBadRequest(text=json.dumps({"error": t(language, "consultation.invalid_body")}),
                                 content_type="application/json")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to be a response
        raise web.HTTPBadRequest(text=json.dumps({"error": t(language, "consultation.invalid_json")}),
                                 content_type="application/json")


def consultation_json(view: ConsultationView) -> dict[str, Any]:
    c = view.consultation
    return {
        "slug": c.slug,
        "title": {"en": c.title_en, "cy": c.title_cy},
        "summary": {"en": c.summary_en, "cy": c.summary_cy},
        "executive_summary": {"en": c.executive_summary_en, "cy": c.executive_summary_cy},
        "opens": c.opens_at.isoformat(),
        "closes": c.closes_at.isoformat(),
        "open": view.is_open,
        "questions": [{"id": q.key, "kind": q.kind, "text": {"en": q.text_en, "cy": q.text_cy},
                       "hint": {"en": q.hint_en, "cy": q.hint_cy}} for q in view.questions],
        "stakeholder_groups": [{"id": g.slug, "name": {"en": g.name_en, "cy": g.name_cy}} for g in view.groups],
    }


def field_errors(errors: list[service.FieldError], language: str) -> list[dict[str, str]]:
    return [{"field": e.field, "code": e.code, "message": t(language, f"consultation.{e.message_key}", **e.params)}
            for e in errors]


async def list_consultations(request: web.Request) -> web.Response:
    async with request.app[DB].session() as session:
        views = await service.list_open(session, utcnow())
    return web.json_response({"items": [consultation_json(v) for v in views]})


async def get_consultation(request: web.Request) -> web.Response:
    language = request_language(request)
    async with request.app[DB].session() as session:
        try:
            view = await service.get_view(session, request.match_info["slug"], utcnow())
        except ConsultationNotFound:
            return problem(404, t(language, "consultation.not_found"))
        counts = await service.public_counts(session, view.consultation.id)
    # Only responses anyone may see are counted in public: never hidden or withdrawn ones.
    return web.json_response({**consultation_json(view), "responses": counts["visible"]})


async def submit_response(request: web.Request) -> web.Response:
    language = request_language(request)
    body = await read_json(request, language)
    language = request_language(request, body if isinstance(body, dict) else None)
    await ratelimit.check_rate(request, language)
    if not isinstance(body, dict):
        return problem(400, t(language, "consultation.invalid_fields"))
    try:
        data = ResponseIn.model_validate(body)
    except ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "code": e["type"], "message": e["msg"]}
                   for e in exc.errors(include_url=False, include_input=False)]
        return problem(400, t(language, "consultation.invalid_fields"), errors=details)
    async with request.app[DB].session() as session:
        try:
            submitted = await service.submit(session, request.match_info["slug"], data, channel="api",
                                             client_hash=ratelimit.client_of(request), now=utcnow())
        except ConsultationNotFound:
            return problem(404, t(language, "consultation.not_found"))
        except ConsultationClosed as exc:
            from babel.dates import format_date

            from cyswllt.i18n import babel_locale

            moment = exc.consultation.opens_at if exc.not_yet_open else exc.consultation.closes_at
            key = "consultation.not_open" if exc.not_yet_open else "consultation.closed"
            return problem(409, t(language, key, date=format_date(moment, format="long", locale=babel_locale(language))))
        except InvalidResponse as exc:
            return problem(422, t(language, "consultation.invalid_fields"), errors=field_errors(exc.errors, language))
    worker.wake_analysis(request.app)
    return web.json_response({"reference": submitted.reference, "withdrawal_token": submitted.withdrawal_token},
                             status=201)


async def withdraw_response(request: web.Request) -> web.Response:
    token = request.headers.get("X-Withdrawal-Token", "")
    async with request.app[DB].session() as session:
        withdrawn = await service.withdraw(session, request.match_info["reference"], token)
    if not withdrawn:
        return problem(404, t(request_language(request), "consultation.withdraw_failed"))
    return web.Response(status=204)


RESPONSE_BODY = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "maxLength": service.TEXT_LIMIT, "description": "A general response"},
        "answers": {"type": "object", "additionalProperties": {"type": "string", "maxLength": service.TEXT_LIMIT},
                    "description": "Answers by question id"},
        "language": {"type": "string", "enum": ["en", "cy"]},
        "group": {"type": "string", "description": "A stakeholder group id of this consultation"},
        "anonymous": {"type": "boolean", "default": True},
        "name": {"type": "string", "maxLength": service.NAME_LIMIT},
        "email": {"type": "string", "format": "email"},
        "contact_consent": {"type": "boolean", "default": False},
        "quote_consent": {"type": "boolean", "default": False,
                          "description": "The respondent's words may be quoted anonymously in what is published"},
    },
}
ERROR = {"description": "A problem, explained", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"}, "errors": {"type": "array"}}}}}}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}


def setup(app: web.Application) -> None:
    ratelimit.setup(app)
    worker.setup(app)
    app.router.add_get("/api/v1/consultations", list_consultations)
    app.router.add_get("/api/v1/consultations/{slug}", get_consultation)
    app.router.add_post("/api/v1/consultations/{slug}/responses", submit_response)
    app.router.add_delete("/api/v1/responses/{reference}", withdraw_response)
    describe(app, "/api/v1/consultations", "get", {
        "summary": "Open consultations", "responses": {"200": {"description": "{items: [consultation]}"}}})
    describe(app, "/api/v1/consultations/{slug}", "get", {
        "summary": "One consultation: bilingual texts, dates, questions with ids, stakeholder groups, and the "
                   "number of responses shown in public (hidden and withdrawn ones are not counted)",
        "parameters": [SLUG], "responses": {"200": {"description": "The consultation"}, "404": ERROR}})
    describe(app, "/api/v1/consultations/{slug}/responses", "post", {
        "summary": "Respond to a consultation (stored before the reply; analysed afterwards)",
        "parameters": [SLUG],
        "requestBody": {"required": True, "content": {"application/json": {"schema": RESPONSE_BODY}}},
        "responses": {
            "201": {"description": "Stored", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"reference": {"type": "string"},
                                                 "withdrawal_token": {"type": "string"}}}}}},
            "400": ERROR, "404": ERROR, "409": ERROR, "413": ERROR, "422": ERROR, "429": ERROR}})
    describe(app, "/api/v1/responses/{reference}", "delete", {
        "summary": "Withdraw a response (its words and personal data are deleted)",
        "parameters": [{"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "X-Withdrawal-Token", "in": "header", "required": True, "schema": {"type": "string"}}],
        "responses": {"204": {"description": "Withdrawn"}, "404": ERROR}})
    admin_api.setup(app)
