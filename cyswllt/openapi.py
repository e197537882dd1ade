"""``GET /api/v1/openapi.json``: assembled from the operations each part of the app declares."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cyswllt.appkeys import OPENAPI

BEARER = [{"adminToken": []}]


def describe(app: web.Application, path: str, method: str, operation: dict[str, Any]) -> None:
    app[OPENAPI].setdefault(path, {})[method.lower()] = operation


def document(app: web.Application) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Cyswllt API", "version": "1"},
        "components": {
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
        "paths": dict(sorted(app[OPENAPI].items())),
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document(request.app))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/openapi.json", openapi_json)
