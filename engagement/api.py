"""The public JSON API for consultations and responses (admin routes are in ``admin_api``)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from pydantic import ValidationError

from cyswllt.appkeys import DB, SETTINGS
from cyswllt.i18n import t
from cyswllt.openapi import ADDRESS, NOT_BLANK, RATE_LIMITED, describe, json_body
from cyswllt.openapi import problem as documented
from engagement import admin_api, ratelimit, service, worker
from engagement.schemas import ResponseIn
from engagement.service import ConsultationClosed, ConsultationNotFound, ConsultationView, InvalidResponse
from engagement.writer import writer_for
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
    # Every attempt counts towards the limit, stored or refused; a valid one is counted with its response.
    rate = await ratelimit.with_write(request)
    if rate is None:
        await ratelimit.check_rate(request, language)
    response = await _submit(request, body, language, rate)
    if rate is not None:
        await ratelimit.count_alone(request, language, rate)  # (not stored: counted on its own)
    return response


async def _submit(request: web.Request, body: Any, language: str, rate: ratelimit.WithWrite | None) -> web.Response:
    if not isinstance(body, dict):
        return problem(400, t(language, "consultation.invalid_fields"))
    try:
        data = ResponseIn.model_validate(body)
    except ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "code": e["type"], "message": e["msg"]}
                   for e in exc.errors(include_url=False, include_input=False)]
        return problem(400, t(language, "consultation.invalid_fields"), errors=details)
    try:
        submitted = await service.submit(request.app[DB], request.match_info["slug"], data, channel="api",
                                         client_hash=await ratelimit.client_of(request), now=utcnow(), rate=rate)
    except ratelimit.RateLimited as exc:
        raise ratelimit.too_many(request, language, ratelimit.SUBMIT, exc.wait) from None
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
    # Both values are ours and plain (letters, digits, - and _): no escaping to do.
    body = f'{{"reference": "{submitted.reference}", "withdrawal_token": "{submitted.withdrawal_token}"}}'
    return web.Response(body=body.encode(), status=201, content_type="application/json")


async def withdraw_response(request: web.Request) -> web.Response:
    # Every attempt counts, right or wrong: codes cannot be guessed in bulk.
    await ratelimit.check_rate(request, request_language(request), bucket=ratelimit.WITHDRAW)
    token = request.headers.get("X-Withdrawal-Token", "")
    async with request.app[DB].session() as session:
        withdrawn = await service.withdraw(session, request.match_info["reference"], token)
    if not withdrawn:
        return problem(404, t(request_language(request), "consultation.withdraw_failed"))
    return web.Response(status=204)


BILINGUAL = {"type": "object", "required": ["en", "cy"],
             "properties": {"en": {"type": "string"}, "cy": {"type": "string"}}}
MAYBE_BILINGUAL = {"type": "object", "properties": {"en": {"type": ["string", "null"]},
                                                    "cy": {"type": ["string", "null"]}}}
CONSULTATION = {
    "type": "object", "required": ["slug", "title", "summary", "opens", "closes", "open", "questions",
                                   "stakeholder_groups"],
    "properties": {
        "slug": {"type": "string"}, "title": BILINGUAL, "summary": BILINGUAL, "executive_summary": MAYBE_BILINGUAL,
        "opens": {"type": "string", "format": "date-time"}, "closes": {"type": "string", "format": "date-time"},
        "open": {"type": "boolean"},
        "questions": {"type": "array", "items": {"type": "object", "required": ["id", "text"], "properties": {
            "id": {"type": "string", "description": "The key to use in a response's answers"},
            "kind": {"type": "string"}, "text": BILINGUAL, "hint": MAYBE_BILINGUAL}}},
        "stakeholder_groups": {"type": "array", "items": {"type": "object", "required": ["id", "name"], "properties": {
            "id": {"type": "string", "description": "The value to use as a response's group"},
            "name": BILINGUAL}}},
    },
}
RESPONSE_BODY = {
    "type": "object", "additionalProperties": False,
    "description": "At least one of text (a general response) or answers (by question id) must hold words. "
                   "An email address needs contact_consent, and contact_consent needs an email address.",
    "properties": {
        "text": {"type": ["string", "null"], "maxLength": service.TEXT_LIMIT, "description": "A general response"},
        "answers": {"type": "object", "additionalProperties": {"type": "string", "maxLength": service.TEXT_LIMIT},
                    "description": "Answers by question id (the consultation's questions[].id); "
                                   "an id the consultation does not have is a 422"},
        "language": {"type": ["string", "null"], "enum": ["en", "cy", None],
                     "description": "The language it is written in; null or absent: worked out from the words"},
        "group": {"type": ["string", "null"], "description": "A stakeholder group id of this consultation "
                                                              "(its stakeholder_groups[].id); empty or null: none"},
        "anonymous": {"type": "boolean", "default": True},
        "name": {"type": ["string", "null"], "maxLength": service.NAME_LIMIT},
        "email": {**ADDRESS, "description": "For news of the outcome (with contact_consent); empty or null: none"},
        "contact_consent": {"type": "boolean", "default": False,
                            "description": "May we email you about the outcome? (needs email)"},
        "quote_consent": {"type": "boolean", "default": False,
                          "description": "The respondent's words may be quoted anonymously in what is published"},
    },
    "anyOf": [
        {"required": ["text"], "properties": {"text": {"type": "string", "pattern": NOT_BLANK}}},
        {"required": ["answers"], "properties": {"answers": {
            "minProperties": 1, "additionalProperties": {"type": "string", "pattern": NOT_BLANK}}}},
    ],
    "allOf": [
        {"if": {"required": ["email"], "properties": {"email": {"type": "string", "pattern": NOT_BLANK}}},
         "then": {"required": ["contact_consent"], "properties": {"contact_consent": {"const": True}}}},
        {"if": {"required": ["contact_consent"], "properties": {"contact_consent": {"const": True}}},
         "then": {"required": ["email"], "properties": {"email": {"type": "string", "pattern": NOT_BLANK}}}},
    ],
}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}


def setup(app: web.Application) -> None:
    ratelimit.setup(app)
    worker.setup(app)
    if app[SETTINGS].workers > 1 and not app[DB].is_postgres:  # several processes write one SQLite file
        writer_for(app[DB].engine).under_way = 1
    app.router.add_get("/api/v1/consultations", list_consultations)
    app.router.add_get("/api/v1/consultations/{slug}", get_consultation)
    app.router.add_post("/api/v1/consultations/{slug}/responses", submit_response)
    app.router.add_delete("/api/v1/responses/{reference}", withdraw_response)
    describe(app, "/api/v1/consultations", "get", {
        "summary": "Open consultations", "operationId": "listConsultations", "tags": ["consultations"],
        "responses": {"200": json_body({"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": CONSULTATION}}}, "The open consultations")}})
    describe(app, "/api/v1/consultations/{slug}", "get", {
        "summary": "One consultation: bilingual texts, dates, questions with ids, stakeholder groups, and the "
                   "number of responses shown in public (hidden and withdrawn ones are not counted)",
        "operationId": "getConsultation", "tags": ["consultations"], "parameters": [SLUG],
        "responses": {"200": json_body({**CONSULTATION, "properties": {
            **CONSULTATION["properties"], "responses": {"type": "integer", "minimum": 0}}}, "The consultation"),
            "404": documented("No consultation with that slug")}})
    describe(app, "/api/v1/consultations/{slug}/responses", "post", {
        "summary": "Respond to a consultation (stored before the reply; analysed afterwards)",
        "operationId": "submitResponse", "tags": ["consultations"], "parameters": [SLUG],
        "requestBody": {"required": True, "content": {"application/json": {"schema": RESPONSE_BODY}}},
        "responses": {
            "201": {**json_body({"type": "object", "required": ["reference", "withdrawal_token"], "properties": {
                "reference": {"type": "string", "description": "CY-XXXX-XXXX"},
                "withdrawal_token": {"type": "string", "description": "Shown once: needed to withdraw"}}},
                "Stored (committed before this answer)"),
                "links": {"withdraw": {"operationId": "withdrawResponse", "parameters": {
                    "reference": "$response.body#/reference",
                    "header.X-Withdrawal-Token": "$response.body#/withdrawal_token"}}}},
            "400": documented("Not JSON, not UTF-8, not an object, or a field of the wrong type"),
            "404": documented("No consultation with that slug"),
            "409": documented("The consultation is not open"),
            "413": documented("The body is over 64 KB"),
            "422": documented("Not accepted: no words, an unknown question or group, an answer too long, an email "
                           "that is not an address, or consent without an email"),
            "429": RATE_LIMITED}})
    describe(app, "/api/v1/responses/{reference}", "delete", {
        "summary": "Withdraw a response (its words and personal data are deleted); attempts are rate-limited",
        "operationId": "withdrawResponse", "tags": ["consultations"],
        "parameters": [{"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "X-Withdrawal-Token", "in": "header", "required": True, "schema": {"type": "string"}}],
        "responses": {"204": {"description": "Withdrawn"},
                      "404": documented("No response with that reference and token, or it is withdrawn already"),
                      "429": RATE_LIMITED}})
    admin_api.setup(app)
