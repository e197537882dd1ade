"""``cyswllt serve``: run the app until SIGINT/SIGTERM, then shut down gracefully.

Logs are plain text by default; ``--log-format json`` (or ``CYSWLLT_LOG_FORMAT=json``) writes one
JSON object a line, with an access line per request, for log collectors.
"""

from __future__ import annotations

import gc
import json
import logging
import os
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from sqlalchemy.engine import make_url

from cyswllt.app import create_app
from cyswllt.settings import Settings

log = logging.getLogger("cyswllt")

# Attributes every LogRecord has; anything else on a record was passed as ``extra`` and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, any ``extra`` fields, the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class AccessLogger(AbstractAccessLogger):
    """A line per request with its route, status and duration (the path only: query strings may hold tokens)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s", request.method, request.path, response.status, extra={
            "method": request.method, "path": request.path, "status": response.status,
            "duration_ms": round(time * 1000, 1), "remote": request.remote,
        })


class ProtocolNoise(logging.Filter):
    """A request that is not HTTP at all (a NUL in a header, a request line over 8 KB) is answered 400
    by aiohttp, which also logs its traceback at ERROR: anyone could fill the log that way."""

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, HttpProcessingError) or getattr(error, "code", 400) >= 500


def use_json_logs() -> None:
    formatter = JsonFormatter()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(formatter)


async def settle(app: web.Application) -> None:
    """Start-up is over: what it loaded (modules, catalogues, the app) lives as long as the
    process, so it is frozen out of the collector's way. Full collections then scan only what
    requests and sweeps make, instead of pausing for ~50 ms over everything loaded."""
    gc.freeze()


def run(settings: Settings, args=None) -> int:
    from storage.migrate import upgrade

    logging.getLogger("aiohttp.server").addFilter(ProtocolNoise())
    log_format = getattr(args, "log_format", None) or os.environ.get("CYSWLLT_LOG_FORMAT", "text")
    if log_format.lower() == "json":
        use_json_logs()
    if settings.database_url.startswith("sqlite"):
        # The embedded default is a single instance: bring its schema up to date on start.
        upgrade(settings.database_url)
    app = create_app(settings)

    async def announce(app: web.Application):
        log.info("serving on http://%s:%s", settings.host, settings.port,
                 extra={"database": make_url(settings.database_url).render_as_string(hide_password=True)})
        yield
        log.info("stopped")

    app.cleanup_ctx.insert(0, announce)
    app.on_startup.append(settle)  # after every cleanup context has started
    access = logging.getLogger("cyswllt.access") if log_format.lower() == "json" else None
    # run_app stops on SIGINT and SIGTERM: it stops accepting, lets requests in flight finish (up to
    # the timeout), then runs every cleanup_ctx in reverse, so workers stop and the database closes.
    web.run_app(app, host=settings.host, port=settings.port, print=None, shutdown_timeout=10,
                access_log=access, access_log_class=AccessLogger)
    return 0
