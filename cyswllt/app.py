"""The one aiohttp application: chat endpoints, the consultation service, admin API, health."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import text

from cyswllt import admin, openapi, outage
from cyswllt.appkeys import DB, METRICS, OPENAPI, SECRET, SENDERS, SETTINGS
from cyswllt.clients import TRUSTED, parse_proxies
from cyswllt.outage import HEALTH, DatabaseHealth
from cyswllt.secret import SecretKey
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
        # Each label set's child, found once: looking one up costs more than counting with it.
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[str, Any] = {}
        # Requests being answered now: background work in this process gives way while there are any.
        self.in_flight = 0

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        counted = self._counted.get((route, method, status))
        if counted is None:
            counted = self._counted[(route, method, status)] = self.requests.labels(route, method, str(status))
        counted.inc()
        timed = self._timed.get(route)
        if timed is None:
            timed = self._timed[route] = self.latency.labels(route)
        timed.observe(seconds)

    def busy(self) -> bool:
        return self.in_flight > 0


@web.middleware
async def observe(request: web.Request, handler):
    """Count every request; a database that cannot be reached is a 503 with Retry-After (logged once
    per outage); anything else unexpected is a plain 500 without internals."""
    started = time.perf_counter()
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    metrics: Metrics = request.app[METRICS]
    metrics.in_flight += 1
    status = 500
    try:
        if "%00" in request.raw_path or "\x00" in request.raw_path:
            # No address of ours holds a NUL, and no database keeps one in text.
            status = 400
            raise web.HTTPBadRequest(text="The address holds a NUL character.")
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        if status >= 400 and exc.content_type == "text/plain" and request.path.startswith("/api/v1/"):
            # No route (404), or not this method (405): the API answers in JSON like the rest of it.
            exc.content_type = "application/json"
            exc.text = json.dumps({"error": exc.reason})
        raise
    except RequestPayloadError:  # a body that cannot be read (e.g. gzip that is not gzip) is the client's fault
        status = 400
        raise web.HTTPBadRequest(text="The request body could not be read.")
    except Exception as exc:
        if outage.is_unavailable(exc):
            request.app[HEALTH].failed(exc)
            status = 503
            return outage.unavailable(request)
        log.exception("unhandled error on %s %s", request.method, route)
        raise web.HTTPInternalServerError(text="Something went wrong on our side. Please try again later.")
    finally:
        metrics.in_flight -= 1
        metrics.observe(route, request.method, status, time.perf_counter() - started)


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[DB].engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # the database is the service's one hard dependency
        if not outage.is_unavailable(exc):
            log.warning("health check failed: %r", exc)
        request.app[HEALTH].failed(exc)  # logged once an outage, however often the check is polled
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503,
                                 headers={"Retry-After": str(outage.RETRY_AFTER)})
    from scheduler.service import health

    return web.json_response({"status": "ok", "database": "ok", **await health(request.app)})


# On every response: JSON, static files, default 404s, /healthz and /metrics as well as pages.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
# Anything that is not a page of ours (which sets its own policy) loads nothing and is never framed.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    headers.setdefault("Content-Security-Policy", DEFAULT_CSP)


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> web.Application:
    settings = settings or Settings()
    # 64 KB is the largest body any form or API call needs; bigger ones get 413.
    app = web.Application(middlewares=[observe], client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[OPENAPI] = {}
    app[openapi.SCHEMAS] = {}
    app[SENDERS] = {}
    app[TRUSTED] = parse_proxies(settings.trusted_proxies)
    app[DB] = db or Database.from_url(settings.database_url)
    app[SECRET] = SecretKey(app[DB], settings.secret_key)
    app[HEALTH] = DatabaseHealth(app[DB])
    app.on_response_prepare.append(security_headers)

    async def database_ctx(app: web.Application):
        try:
            await app[SECRET].get()  # read (or made) now, so the first form served has it
        except Exception as exc:  # the service starts anyway; the secret is read on first use
            if outage.is_unavailable(exc):
                app[HEALTH].failed(exc)
            else:
                log.error("could not read the service secret (%r); is the schema up to date? "
                          "(cyswllt db upgrade)", exc)
        yield
        await app[HEALTH].close()
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
    from cyswllt.platforms import platforms
    from engagement import web as engagement_web
    from handlers import packs
    from scheduler import service as scheduler_service

    return [*platforms(), engagement_web, packs, scheduler_service]
