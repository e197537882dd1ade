"""``cyswllt serve``: run the app until SIGINT/SIGTERM, then shut down gracefully.

Logs are plain text by default; ``--log-format json`` (or ``CYSWLLT_LOG_FORMAT=json``) writes one
JSON object a line, with an access line per request, for log collectors.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from sqlalchemy.engine import make_url

from cyswllt.app import create_app
from cyswllt.appkeys import SETTINGS
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
    requests and sweeps make, instead of pausing for ~50 ms over everything loaded. The analysers,
    loaded in the background, are frozen too once they are."""
    gc.freeze()
    from engagement.worker import ANALYSER

    analyser = app.get(ANALYSER)
    if analyser is not None and app[SETTINGS].analysis_enabled:
        async def when_warm() -> None:
            await analyser.warmed.wait()
            gc.freeze()

        _FREEZING.add(task := asyncio.create_task(when_warm(), name="freeze-analysers"))
        task.add_done_callback(_FREEZING.discard)
    _FREEZING.add(task := asyncio.create_task(_ready_to_write(app), name="writer-ready"))
    task.add_done_callback(_FREEZING.discard)


async def _ready_to_write(app: web.Application) -> None:
    """On an SQLite file, the writer process is started now, with what it runs loaded, rather than by
    the first submission (which would wait about a second for it)."""
    from cyswllt.appkeys import DB
    from engagement.writer import writer_for

    try:
        await writer_for(app[DB].engine).warm()
    except Exception as exc:  # the database is not there yet: the first submission starts it
        log.warning("the writer could not be readied: %r", exc)


_FREEZING: set[asyncio.Task] = set()


def run(settings: Settings, args=None) -> int:
    from storage.migrate import upgrade

    logging.getLogger("aiohttp.server").addFilter(ProtocolNoise())
    log_format = (getattr(args, "log_format", None) or os.environ.get("CYSWLLT_LOG_FORMAT", "text")).lower()
    if log_format == "json":
        use_json_logs()
    index = os.environ.get(WORKER_INDEX)
    if index is not None:  # one of several workers: the supervisor has upgraded the schema
        inherited = os.environ.get(WORKER_FD)
        sock = (socket.socket(fileno=int(inherited)) if inherited is not None
                else _listen(settings.host, settings.port, own=True))
        return _serve(settings, log_format, sock=sock, index=int(index))
    workers = getattr(args, "workers", None) or settings.workers
    if settings.database_url.startswith("sqlite"):
        # The embedded default is a single instance: bring its schema up to date on start.
        upgrade(settings.database_url)
    if workers > 1:
        return Supervisor(settings, workers, log_format).run()
    return _serve(settings, log_format)


def _serve(settings: Settings, log_format: str, sock: socket.socket | None = None, index: int | None = None) -> int:
    app = create_app(settings)
    who = f"worker {index} ({'with' if index == 0 else 'without'} the background work) " if index is not None else ""

    async def announce(app: web.Application):
        log.info("%sserving on http://%s:%s", who, settings.host, settings.port,
                 extra={"database": make_url(settings.database_url).render_as_string(hide_password=True)})
        yield
        log.info("%sstopped", who)

    app.cleanup_ctx.insert(0, announce)
    if index is not None:
        app.cleanup_ctx.append(_orphan_watch)
    app.on_startup.append(settle)  # after every cleanup context has started
    access = logging.getLogger("cyswllt.access") if log_format == "json" else None
    # run_app stops on SIGINT and SIGTERM: it stops accepting, lets requests in flight finish (up to
    # the timeout), then runs every cleanup_ctx in reverse, so workers stop and the database closes.
    if sock is not None:
        web.run_app(app, sock=sock, print=None, shutdown_timeout=10, access_log=access,
                    access_log_class=AccessLogger)
    else:
        web.run_app(app, host=settings.host, port=settings.port, print=None, shutdown_timeout=10,
                    access_log=access, access_log_class=AccessLogger)
    return 0


async def _orphan_watch(app: web.Application):
    """A worker whose supervisor has gone (killed outright) stops too, rather than serve on alone."""
    parent = os.getppid()

    async def watch() -> None:
        # Nothing tells a process that its parent died: look once a second.
        while os.getppid() == parent:  # noqa: ASYNC110
            await asyncio.sleep(1.0)
        log.warning("the supervisor (pid %s) has gone: stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    task = asyncio.create_task(watch(), name="orphan-watch")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


# --- several processes on one port ---------------------------------------------------------------------

WORKER_FD = "CYSWLLT_WORKER_FD"  # a listening socket shared from the supervisor (no SO_REUSEPORT here)
WORKER_INDEX = "CYSWLLT_WORKER_INDEX"  # 0 is the primary: the one that runs the background work
RESTART_AFTER = (0.5, 1.0, 2.0, 5.0, 10.0)  # seconds before restarting a worker that keeps failing
REUSE_PORT = hasattr(socket, "SO_REUSEPORT")


def _listen(host: str, port: int, *, own: bool = False, listen: bool = True) -> socket.socket:
    """A socket on host:port. ``own``: one of several (SO_REUSEPORT), each worker with its own, among
    which the kernel spreads new connections evenly; a worker that is busy or gone takes none."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if own:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(1024)
    return sock


class Supervisor:
    """``cyswllt serve --workers N``: N processes accepting on one port. The first (the primary) runs
    the scheduler, the outbox and the analysis worker; the others only answer requests. A worker that
    dies is started again (the primary as the primary), so exactly one runs the background work."""

    def __init__(self, settings: Settings, workers: int, log_format: str) -> None:
        self.settings, self.count, self.log_format = settings, workers, log_format
        # With SO_REUSEPORT each worker listens on a socket of its own; the supervisor's is bound but never
        # listens (it takes no connections), so the port stays ours while a worker restarts and a port
        # in use is one clear error here. Without it, the workers share this one listening socket.
        self.sock = _listen(settings.host, settings.port, own=REUSE_PORT, listen=not REUSE_PORT)
        self.children: dict[int, subprocess.Popen] = {}
        self.started_at: dict[int, float] = {}
        self.failures: dict[int, int] = {}
        self.stopping = False

    def spawn(self, index: int) -> None:
        env = {**os.environ, WORKER_INDEX: str(index), "CYSWLLT_WORKERS": str(self.count),
               "CYSWLLT_LOG_FORMAT": self.log_format}
        env.pop(WORKER_FD, None)
        if not REUSE_PORT:
            self.sock.set_inheritable(True)
            env[WORKER_FD] = str(self.sock.fileno())
        if index != 0:  # background work runs once, in the primary
            env.update({"CYSWLLT_SCHEDULER": "0", "CYSWLLT_OUTBOX": "0", "CYSWLLT_ANALYSIS": "0",
                        "CYSWLLT_OUTBOX_ANSWERS": "1"})  # but the answers to the commands it takes go at once
        child = subprocess.Popen([sys.executable, "-m", "cyswllt.cli", "serve"], env=env,
                                 pass_fds=() if REUSE_PORT else (self.sock.fileno(),))
        self.children[index] = child
        self.started_at[index] = time.monotonic()

    def stop(self, signum, _frame) -> None:
        self.stopping = True
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info("serving on http://%s:%s with %s worker processes", self.settings.host, self.settings.port,
                 self.count)
        for index in range(self.count):
            self.spawn(index)
        try:
            while not self.stopping:
                for index, child in list(self.children.items()):
                    code = child.poll()
                    if code is None or self.stopping:
                        continue
                    lived = time.monotonic() - self.started_at[index]
                    failures = self.failures[index] = 0 if lived > 30 else self.failures.get(index, 0) + 1
                    wait = RESTART_AFTER[min(failures, len(RESTART_AFTER)) - 1] if failures else 0.0
                    log.warning("worker %s (pid %s) exited with %s after %.0f s; starting it again%s", index,
                                child.pid, code, lived, f" in {wait:.1f} s" if wait else "")
                    time.sleep(wait)
                    if not self.stopping:
                        self.spawn(index)
                time.sleep(0.1)
        finally:
            deadline = time.monotonic() + 15
            for child in self.children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            self.sock.close()
            log.info("stopped")
        return 0
