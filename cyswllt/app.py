"""The one aiohttp application: chat endpoints, the consultation service, admin API, health."""

from __future__ import annotations

import logging
import secrets
import time

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import text

from cyswllt import admin, openapi
from cyswllt.appkeys import DB, METRICS, OPENAPI, SECRET, SENDERS, SETTINGS
from cyswllt.settings import Settings
from storage.db import Database

log = logging.getLogger("cyswllt")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("cyswllt_http_requests", "HTTP requests by route and status",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("cyswllt_http_request_seconds", "HTTP request latency by route",
                                 ["route"], registry=self.registry)


@web.middleware
async def observe(request: web.Request, handler):
    """Count every request; turn anything unexpected into a plain 500 without internals."""
    started = time.perf_counter()
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except RequestPayloadError:  # a body that cannot be read (e.g. gzip that is not gzip) is the client's fault
        status = 400
        raise web.HTTPBadRequest(text="The request body could not be read.")
    except Exception:
        log.exception("unhandled error on %s %s", request.method, route)
        raise web.HTTPInternalServerError(text="Something went wrong on our side. Please try again later.")
    finally:
        metrics: Metrics = request.app[METRICS]
        metrics.requests.labels(route, request.method, str(status)).inc()
        metrics.latency.labels(route).observe(time.perf_counter() - started)


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[DB].engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # the database is the service's one hard dependency
        log.warning("health check failed: %s", exc)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> web.Application:
    settings = settings or Settings()
    # 64 KB is the largest body any form or API call needs; bigger ones get 413.
    app = web.Application(middlewares=[observe], client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[OPENAPI] = {}
    app[SENDERS] = {}
    app[SECRET] = settings.secret_key or secrets.token_hex(32)
    app[DB] = db or Database.from_url(settings.database_url)

    async def database_ctx(app: web.Application):
        yield
        await app[DB].dispose()

    app.cleanup_ctx.append(database_ctx)
    app.router.add_get("/healthz", healthz)

    from cyswllt import metrics as metrics_routes

    metrics_routes.setup(app)
    admin.setup(app)
    openapi.setup(app)
    for area in _areas():
        area.setup(app)
    return app


def _areas():
    """Each part of the product registers its own routes and background work."""
    from bot import console, slack, teams
    from cyswllt import packs
    from engagement import web as engagement_web
    from scheduler import service as scheduler_service

    return [console, slack, teams, engagement_web, packs, scheduler_service]
