"""When the database cannot be reached: answer 503 with Retry-After (JSON on the API, a page in the
reader's language elsewhere), log one line when an outage starts and one when it ends — never a
traceback per request — and notice the database is back without a restart.

Nothing is lost: a response is acknowledged only after its COMMIT, so a submission that meets the
outage gets 503 and its sender (or the form, which keeps their words) tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from storage.db import Database

log = logging.getLogger("cyswllt")

# Seconds a client is asked to wait; the probe looks again every PROBE_SECONDS.
RETRY_AFTER = 10
PROBE_SECONDS = 1.0
# SQLSTATE classes: connection exception, insufficient resources, operator intervention (shutdown).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57")


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached or cannot serve just now (not a bug,
    and not bad input)."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
            return True
        exc = exc.orig or exc
    if isinstance(exc, (sa_exc.TimeoutError, sa_exc.DisconnectionError)):  # pool exhausted, connection lost
        return True
    if isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror)):
        return True
    sqlstate = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate[:2] in _UNAVAILABLE_SQLSTATES:
        return True
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    return isinstance(exc, (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError))


def _reason(exc: BaseException) -> str:
    described = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {described[0] if described else ''}"[:300]


class DatabaseHealth:
    """Whether the database is known to be down: set by the first failure, cleared by a probe that
    runs only during an outage and finds the database answering again."""

    def __init__(self, db: Database, *, probe_seconds: float = PROBE_SECONDS) -> None:
        self.db = db
        self.probe_seconds = probe_seconds
        self.down_since: float | None = None
        self.refused = 0
        self._probe: asyncio.Task | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: BaseException) -> None:
        self.refused += 1
        if self.down_since is not None:
            return
        self.down_since = time.monotonic()
        log.error("database unavailable (%s): answering 503 until it is back", _reason(exc))
        try:
            self._probe = asyncio.get_running_loop().create_task(self._watch(), name="database-probe")
        except RuntimeError:  # no loop (a one-shot caller): the next request looks again
            pass

    async def _watch(self) -> None:
        while self.down_since is not None:
            await asyncio.sleep(self.probe_seconds)
            try:
                async with self.db.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            except Exception as exc:
                if not is_unavailable(exc):
                    log.warning("database probe failed: %s", _reason(exc))
                continue
            self.recovered()

    def recovered(self) -> None:
        if self.down_since is None:
            return
        log.info("database reachable again after %.1f s; %s requests were answered 503 meanwhile",
                 time.monotonic() - self.down_since, self.refused)
        self.down_since, self.refused = None, 0

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe


HEALTH = web.AppKey("database_health", DatabaseHealth)
# A renderer for the page a person sees instead (registered by the consultation pages): (request) -> Response.
PAGE = web.AppKey("unavailable_page", Callable)


def wants_json(request: web.Request) -> bool:
    if request.path.startswith(("/api/", "/slack/")) or request.path in ("/healthz", "/metrics"):
        return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and "html" not in accept


def unavailable(request: web.Request) -> web.Response:
    """The 503 answer for a request that met the outage."""
    from cyswllt.i18n import t

    headers = {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
    page = request.app.get(PAGE)
    if not wants_json(request) and page is not None:
        response = page(request)
        response.headers.update(headers)
        return response
    lang = "cy" if (request.query.get("lang") == "cy" or (request.query.get("lang") != "en" and request.headers.get(
        "Accept-Language", "").lower().startswith("cy"))) else "en"
    body = {"error": t(lang, "web.unavailable_body_api", seconds=RETRY_AFTER), "retry_after": RETRY_AFTER}
    return web.Response(text=json.dumps(body, ensure_ascii=False), status=503, content_type="application/json",
                        headers=headers)
