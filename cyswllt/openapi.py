"""``GET /api/v1/openapi.json``: assembled from the operations each part of the app declares.

Each part calls ``describe`` for its operations and ``schema_for`` for a pydantic model (whose nested
models become ``#/components/schemas/…``, so every ``$ref`` resolves). The document fills in what every
operation shares: an ``operationId`` and a tag when none is given, and the 503 a request gets while
the database cannot be reached.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from cyswllt.appkeys import OPENAPI

BEARER = [{"adminToken": []}]
SCHEMAS = web.AppKey("openapi_schemas", dict)
COMPONENT = "#/components/schemas/{model}"

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong, in the reader's language"},
        "errors": {"type": "array", "description": "Each field that was not accepted", "items": {
            "type": "object", "properties": {"field": {"type": "string"}, "code": {"type": "string"},
                                             "message": {"type": "string"}}}},
        "retry_after": {"type": "integer", "description": "Seconds to wait (as in the Retry-After header)"},
    },
}
# "Holds a character that is not white space", with Python's idea of white space (str.strip, which the
# server uses), spelt out so that a JSON Schema (ECMA-262) regex means exactly the same.
SPACE = ("\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f"
         "\\u3000")  # the inside of a character class
NOT_BLANK = f"[^{SPACE}]"
BLANK = f"^[{SPACE}]*$"
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again",
                               "schema": {"type": "integer", "minimum": 1}}}


def problem(description: str, *, retry: bool = False) -> dict[str, Any]:
    """A documented error response: ``{"error": …}`` in JSON."""
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Error"}}}}
    if retry:
        response["headers"] = RETRY_AFTER
    return response


UNAVAILABLE = problem("The database cannot be reached just now; try again after Retry-After seconds", retry=True)
RATE_LIMITED = problem("Too many requests from this client; try again after Retry-After seconds", retry=True)
UNAUTHORISED = problem("No admin token, or the wrong one")
ADMIN_DISABLED = problem("The admin API is disabled (CYSWLLT_ADMIN_TOKEN is not set)")


def json_body(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def describe(app: web.Application, path: str, method: str, operation: dict[str, Any]) -> None:
    app[OPENAPI].setdefault(path, {})[method.lower()] = operation


def schema_for(app: web.Application, model) -> dict[str, Any]:
    """A pydantic model's JSON schema with its nested models kept as shared components."""
    schema = model.model_json_schema(ref_template=COMPONENT)
    app[SCHEMAS].update(schema.pop("$defs", {}))
    return schema


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[{}]", "", path.removeprefix("/api/v1")).replace(".", "_")
    return method + "".join(part.title() for part in re.split(r"[/_\-]+", words) if part)


def _tag(path: str) -> str:
    if path.startswith("/api/v1/admin/") or path.startswith("/api/v1/boards"):
        return "admin"
    if path.startswith("/api/v1/"):
        return "consultations"
    if path.startswith("/digests"):
        return "digests"
    if path.startswith("/api/messages"):
        return "chat"
    return "service"


def _no_nul(parameter: dict[str, Any]) -> dict[str, Any]:
    """An address with a NUL in it is refused (400): say so of every text in the path and query."""
    schema = parameter.get("schema", {})
    if parameter.get("in") in ("path", "query") and schema.get("type") == "string" and "pattern" not in schema \
            and "enum" not in schema:
        return {**parameter, "schema": {**schema, "pattern": "^[^\\u0000]*$"}}
    return parameter


def document(app: web.Application) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, operations in sorted(app[OPENAPI].items()):
        paths[path] = {}
        for method, operation in operations.items():
            operation = {"operationId": _operation_id(method, path), "tags": [_tag(path)], **operation}
            if "parameters" in operation:
                operation["parameters"] = [_no_nul(p) for p in operation["parameters"]]
            responses = dict(operation.get("responses", {}))
            if operation.get("security") == BEARER:  # the admin API's own refusals
                responses.setdefault("401", UNAUTHORISED)
                responses.setdefault("403", ADMIN_DISABLED)
            if path.startswith("/api/v1/"):  # the API explains every refusal in JSON
                responses = {status: problem(answer.get("description", "")) if status.startswith("4")
                             and "content" not in answer else answer for status, answer in responses.items()}
            # The HTTP layer refuses a request it cannot read (a request line or header over 8 KB) before
            # any handler sees it, in plain text.
            unreadable = responses.get("400", problem("The request could not be read"))
            responses["400"] = {**unreadable, "content": {**unreadable.get("content", {}), "text/plain": {
                "schema": {"type": "string"}}}}
            if path != "/api/v1/openapi.json":
                responses.setdefault("503", UNAVAILABLE)
            operation["responses"] = responses
            paths[path][method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Cyswllt API", "version": "1",
                 "description": "Public consultations and responses, and the admin API (bearer token)."},
        "tags": [{"name": "consultations", "description": "Public: consultations, responding, withdrawing"},
                 {"name": "admin", "description": "Admin API: Authorization: Bearer $CYSWLLT_ADMIN_TOKEN"},
                 {"name": "digests", "description": "Digest counts and charts (admin token or a signed link)"},
                 {"name": "boards", "description": "Boards' meeting packs (admin token or a signed link)"},
                 {"name": "chat", "description": "Chat platforms' endpoints"},
                 {"name": "service", "description": "Health and this document"}],
        "components": {
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA, **dict(sorted(app[SCHEMAS].items()))},
        },
        "paths": paths,
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document(request.app))


def setup(app: web.Application) -> None:
    app.setdefault(SCHEMAS, {})
    app.router.add_get("/api/v1/openapi.json", openapi_json)
    describe(app, "/api/v1/openapi.json", "get", {
        "summary": "This document", "operationId": "getOpenapi", "tags": ["service"],
        "responses": {"200": json_body({"type": "object"}, "The OpenAPI 3.1 document")}})
    describe(app, "/healthz", "get", {
        "summary": "Health: whether the database answers", "operationId": "getHealth", "tags": ["service"],
        "responses": {"200": json_body({"type": "object", "properties": {
            "status": {"const": "ok"}, "database": {"const": "ok"}}}, "Healthy"),
            "503": {"description": "The database does not answer", "headers": RETRY_AFTER,
                    "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "status": {"const": "unavailable"}, "database": {"const": "unreachable"}}}}}}}})


# The server's own rule for an email address (storage.reach.EMAIL), surrounding white space allowed: it is
# trimmed. An address given, or blank (or null) for none: respondents', boards' and groups' addresses.
EMAIL_PATTERN = f"^[{SPACE}]*[^@{SPACE}<>,;]+@[^@{SPACE}<>,;]+\\.[^@{SPACE}<>,;]+[{SPACE}]*$"
ADDRESS = {"anyOf": [{"type": "string", "maxLength": 320, "pattern": EMAIL_PATTERN},
                     {"type": "string", "pattern": BLANK}, {"type": "null"}]}
