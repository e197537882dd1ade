"""A dedicated driver connection for the hottest writes (responses as they are submitted, rate counts),
beside the engine's pool.

Why: through SQLAlchemy's async layer each statement is a greenlet switch and, with aiosqlite, a hop
to the connection's thread and back; a batch of responses took about a dozen such hops. Here a whole
SQLite transaction is one message to a writer process of this process's own, which runs it with the
standard library's driver (one such writer a process, whose rate counts and responses share
transactions; writers take turns on a lock file, and the log is checkpointed beside them), and a whole
PostgreSQL batch is one statement on an asyncpg connection of its own. Values are converted exactly
as SQLAlchemy would (each column's own bind processor), and driver errors are raised as SQLAlchemy's
(``IntegrityError``, ``OperationalError``), so callers see what they always saw.

A connection (or writer process) that fails is dropped and made again on next use, so a database that
comes back after an outage is used again without a restart. ``storage.db.Database.dispose`` closes
them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import functools
import json
import logging
import os
import pickle
import socket
import sqlite3
import struct
import subprocess
import sys
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import is_sqlite_file

T = TypeVar("T")
log = logging.getLogger("cyswllt.storage")
CHECKPOINT_EVERY = 0.25  # seconds: at most this long between checkpoints while responses are written
LOG_KEPT = 16 * 1024 * 1024  # bytes of the write-ahead log's file kept when the log begins again


class Shape:
    """How rows of a table go to the driver: which columns, in which order, with which defaults, and each
    value converted by the column type's own bind processor for this dialect."""

    def __init__(self, table: Table, dialect, given: tuple[str, ...]) -> None:
        columns = [c for c in table.columns if not c.primary_key and (
            c.name in given or (c.default is not None and c.default.is_scalar and c.default.arg is not None))]
        self.names = [c.name for c in columns]
        self.defaults = [_plain(c.default.arg) if c.default is not None and c.default.is_scalar else None
                         for c in columns]
        # As SQLAlchemy converts: the dialect's own implementation of each type (a TypeDecorator's too).
        self.processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
        self.types = [c.type.compile(dialect=dialect) for c in columns]

    def values(self, row: dict[str, Any]) -> list[Any]:
        out = []
        for name, default, process in zip(self.names, self.defaults, self.processors):
            value = row.get(name, default)
            out.append(process(value) if process is not None and value is not None else value)
        return out


def _plain(value: Any) -> Any:
    """An enum member's value (drivers take plain strings)."""
    return value.value if isinstance(value, Enum) else value


def driver_error(exc: Exception, statement: str = "") -> Exception:
    """A driver's error as SQLAlchemy would raise it (what callers catch and classify)."""
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return sa_exc.DBAPIError.instance(statement, None, exc, sqlite3.Error)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return exc
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return sa_exc.IntegrityError(statement, None, exc)
    if isinstance(exc, asyncpg.PostgresError) and not isinstance(exc, asyncpg.PostgresConnectionError):
        sqlstate = getattr(exc, "sqlstate", "") or ""
        kind = sa_exc.OperationalError if sqlstate[:2] in ("08", "53", "57") else sa_exc.DBAPIError
        return kind(statement, None, exc)
    return exc  # lost connections and refused connects: outage errors as they are


class Turns:
    """An SQLite connection that writes in turns: run in the writer process (``storage.writer_process``)."""

    def __init__(self, path: str, setup: tuple[str, ...] = (), checkpoint_every: float = CHECKPOINT_EVERY,
                 purpose: str = "writer") -> None:
        self.path = path
        self.setup = setup
        self.checkpoint_every = checkpoint_every
        self.purpose = purpose
        self._conn: sqlite3.Connection | None = None
        self._turn: int | None = None  # the writers' turn file, see ``run``
        self._rest_due = False  # the checkpoint beside caught up: the writer copies the rest (``_copy_rest``)
        self._checkpointer: ThreadPoolExecutor | None = None
        self._checkpoints: sqlite3.Connection | None = None
        self._checkpointed_at = 0.0
        self._checkpoint_due = False

    def connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
            # wal_autocheckpoint=0: this writer does not copy the log back into the database while it holds
            # the write lock (that, with its fsync, was half of each COMMIT); ``_checkpoint`` does it beside,
            # and the writer copies only the few frames left once that has caught up (``_copy_rest``).
            # temp_store=MEMORY: a statement that may need undoing (a many-row INSERT into a table with unique
            # keys) keeps its journal in memory, not in a file made and removed for each statement (that
            # was a tenth of the writer's time). journal_size_limit: a log grown in a burst is cut back
            # when it next begins again.
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=10000",
                           "wal_autocheckpoint=0", "temp_store=MEMORY", f"journal_size_limit={LOG_KEPT}",
                           *self.setup):
                conn.execute(f"PRAGMA {pragma}")
            self._conn = conn
        return self._conn

    def _checkpoint_soon(self) -> None:
        """Copy the write-ahead log into the database every so often, on a thread and connection of its
        own, outside the writers' turn: a passive checkpoint never blocks a writer or a reader."""
        if self._checkpoint_due or time.monotonic() - self._checkpointed_at < self.checkpoint_every:
            return
        self._checkpoint_due = True
        if self._checkpointer is None:
            self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"checkpoint-{self.purpose}")
        self._checkpointer.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        """Copy the log into the database beside the writers. When that caught up with the log as it
        was, the writer copies what was written meanwhile at the end of its next turn (``_copy_rest``):
        only a log copied to its last frame is begun again from its start by the next writer. Without
        that second, short step, a log written to without pause was never wholly copied, and grew
        without end (600 MB in ten seconds of submissions), each commit writing to new pages of the file."""
        try:
            if self._checkpoints is None:
                self._checkpoints = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                                    timeout=10.0)
            busy, frames, copied = self._checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self._rest_due = not busy and frames > 0 and copied == frames
        except sqlite3.Error as exc:  # busy, or the file went away: the next one tries again
            log.debug("checkpoint not done: %r", exc)
        finally:
            self._checkpointed_at = time.monotonic()
            self._checkpoint_due = False

    def _copy_rest(self, conn: sqlite3.Connection) -> None:
        """In the writer's turn, after its COMMIT: copy the few frames written since the checkpoint beside
        it caught up, so the next turn begins the log again. (Taken by the checkpoint's own thread, the
        turn could wait behind a writer taking its turns back to back, and the log grew meanwhile.) It
        syncs the files, so the turn it ends takes 20-30 ms longer, once a checkpoint at most."""
        self._rest_due = False
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:  # another process's checkpoint is under way: it copies them
            log.debug("the rest of the log not copied: %r", exc)

    def _take_turn(self) -> None:
        if self._turn is None:
            self._turn = os.open(self.path + "-writers", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._turn, fcntl.LOCK_EX)

    def run(self, works: list[Callable[[sqlite3.Connection], Any]]) -> list[tuple[bool, Any]]:
        """One transaction for every work given, each in a savepoint of its own (when there are several):
        ``(True, what it returned)`` or ``(False, what it raised)`` for each. Raises when BEGIN or COMMIT
        fails (nothing in the turn was stored).

        The writers, in this process and in any other writing the same file, take turns on a lock file
        before ``BEGIN IMMEDIATE``. Waiting in the kernel for that lock wakes the next writer the moment
        the last one commits; SQLite's own busy handler polls, sleeping 1, 2, 5, 10… ms between tries,
        which with several processes writing left them idle about a third of the time."""
        conn = self.connection()
        self._take_turn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            if len(works) == 1:
                outcomes = [(True, works[0](conn))]
            else:
                outcomes = [self._in_savepoint(conn, work) for work in works]
            conn.execute("COMMIT")
            if self._rest_due and not self._checkpoint_due:
                self._copy_rest(conn)
            return outcomes
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            fcntl.flock(self._turn, fcntl.LOCK_UN)
            self._checkpoint_soon()

    @staticmethod
    def _in_savepoint(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], Any]) -> tuple[bool, Any]:
        conn.execute("SAVEPOINT work")
        try:
            value = work(conn)
        except Exception as exc:
            conn.execute("ROLLBACK TO work")
            conn.execute("RELEASE work")
            return False, exc
        conn.execute("RELEASE work")
        return True, value

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.shutdown(wait=True)  # (a checkpoint under way finishes first)
            self._checkpointer = None
        for conn in (self._conn, self._checkpoints):
            if conn is not None:
                conn.close()
        self._conn = self._checkpoints = None
        if self._turn is not None:
            os.close(self._turn)
            self._turn = None


class WriterProcess:
    """The SQLite writer of this process, in a process of its own, spoken to over a socket pair.

    Why a process and not a thread: a thread gives up the interpreter's lock for every statement it runs
    and has to wait to get it back while the event loop runs, and the loop waits in turn for it; with
    both on the same interpreter a batch of 17 responses took 4.5 ms to write for 1.8 ms of work, and the
    loop lost a third of its time to the hand-overs. In a process of its own the writer's statements run
    beside the loop, which only sends a batch and reads back its ids (``docs/decisions/0020``).

    Turns go one after another, without waiting for the answers to the one before; answers come back in
    the same order. If the process stops (killed, or out of memory), the turns in hand fail as an outage
    (whether their last COMMIT happened is not known, so no caller is told they were stored) and the
    next turn starts a new process. It stops itself when this process goes (its socket closes)."""

    def __init__(self, process: asyncio.subprocess.Process, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.process = process
        self.reader = reader
        self.writer = writer
        self.answers: collections.deque[asyncio.Future] = collections.deque()
        self.reading: asyncio.Task | None = None
        self.lost: BaseException | None = None

    @classmethod
    async def start(cls, path: str, setup: tuple[str, ...], purpose: str) -> WriterProcess:
        ours, theirs = socket.socketpair()
        try:
            # (-P: not the working directory's packages, which could hold a ``storage`` of their own)
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")]))}
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-P", "-m", "storage.writer_process", path, str(theirs.fileno()), str(CHECKPOINT_EVERY),
                json.dumps(list(setup)), purpose, pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours, limit=2**26)
        return cls(process, reader, writer)

    @property
    def alive(self) -> bool:
        """False once the process has stopped, whether or not a turn was in hand."""
        return (self.lost is None and self.process.returncode is None and not self.reader.at_eof()
                and not self.writer.is_closing())

    def send(self, works: list[Callable[[sqlite3.Connection], Any]]) -> asyncio.Future:
        """Hand a turn over; the future gets its outcomes (see ``Turns.run``)."""
        body = pickle.dumps(works, protocol=pickle.HIGHEST_PROTOCOL)
        answer = asyncio.get_running_loop().create_future()
        self.writer.write(FRAME.pack(len(body)) + body)
        self.answers.append(answer)
        if self.reading is None or self.reading.done():
            self.reading = asyncio.create_task(self._read(), name="sqlite-writer-answers")
        return answer

    async def _read(self) -> None:
        try:
            while self.answers:
                (size,) = FRAME.unpack(await self.reader.readexactly(FRAME.size))
                kind, value = pickle.loads(await self.reader.readexactly(size))
                answer = self.answers.popleft()
                if answer.done():
                    continue
                if kind == "done":
                    answer.set_result(value)
                else:
                    answer.set_exception(value)
        except Exception as exc:  # it stopped, or what came back cannot be read: either way it is done with
            self.lost = ConnectionError(f"the SQLite writer process stopped (exit code {self.process.returncode}): "
                                        f"{exc!r}")
            log.error("%s", self.lost)
            if self.process.returncode is None:
                self.process.kill()
            while self.answers:
                answer = self.answers.popleft()
                if not answer.done():
                    answer.set_exception(self.lost)

    async def close(self) -> None:
        """Let the process finish the turns in hand (their answers are read), then stop: it stops when it
        reads the end of its socket."""
        with contextlib.suppress(OSError, RuntimeError):
            self.writer.write_eof()
        try:
            await asyncio.wait_for(self.process.wait(), timeout=10)
        except TimeoutError:
            log.warning("the SQLite writer process did not stop: killing it")
            self.process.kill()
            await self.process.wait()
        if self.reading is not None and not self.reading.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reading, timeout=1)
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


FRAME = struct.Struct("!I")  # each message: its length, then the pickle
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # where ``storage`` is found


class Direct:
    """One dedicated connection (SQLite: in a writer process of its own; PostgreSQL: asyncpg)."""

    def __init__(self, engine: AsyncEngine, purpose: str, setup: tuple[str, ...] = ()) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.purpose = purpose
        self.setup = setup  # statements run on each new connection (e.g. session settings)
        url = make_url(str(engine.url.render_as_string(hide_password=False)))
        self.kind = url.get_backend_name()
        self._url = url
        self._works: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future, bool]] = []
        self._turns: asyncio.Task | None = None
        self._process: WriterProcess | None = None
        self._starting: asyncio.Lock | None = None
        self._pg = None
        self._connecting: asyncio.Lock | None = None
        self._using: asyncio.Lock | None = None

    @classmethod
    def supports(cls, engine: AsyncEngine) -> bool:
        return is_sqlite_file(engine.url) or engine.url.get_backend_name() == "postgresql"

    # --- SQLite -------------------------------------------------------------------------------------

    async def writer_process(self) -> WriterProcess:
        if self._process is not None and self._process.alive:
            return self._process
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._process is None or not self._process.alive:
                if self._process is not None:
                    await self._process.close()
                try:
                    self._process = await WriterProcess.start(self._url.database, self.setup, self.purpose)
                except OSError as exc:  # out of processes or memory just now: an outage, not a fault
                    raise ConnectionError(f"the SQLite writer process could not be started: {exc!r}") from exc
        return self._process

    async def sqlite(self, work: Callable[[sqlite3.Connection], T], *, ends_turn: bool = False) -> T:
        """Run ``work(connection)`` inside a write transaction in the writer process, and return what it
        returns once that transaction has committed. ``work`` goes there by pickle: a function of a module
        (``functools.partial`` for its arguments), not a closure; what it returns comes back the same way.

        Works that wait together share one transaction (one turn), each in a savepoint of its own: a work
        that raises is rolled back alone and its caller gets the error, the others commit. So the rate
        counts and the responses of a burst cost one transaction between them, not one each.

        ``ends_turn``: no work queued after this one joins its turn; they go in the next. (A caller with a
        second batch ready has it handed over while the first is written.)"""
        done = asyncio.get_running_loop().create_future()
        self._works.append((work, done, ends_turn))
        if self._turns is None or self._turns.done():
            self._turns = asyncio.create_task(self._take_turns(), name=f"direct-{self.purpose}")
        return await done

    async def _take_turns(self) -> None:
        """Hand the turns queued so far to the writer process, in order; each turn's callers are settled
        as its answer comes back (the process answers in order: ``WriterProcess``). Works queued after
        this pass start a pass of their own, so a turn is never held back waiting for an earlier answer."""
        while self._works:
            end = next((i + 1 for i, (_, _, ends) in enumerate(self._works) if ends), len(self._works))
            turn, self._works = self._works[:end], self._works[end:]
            try:
                process = await self.writer_process()
                answer = process.send([work for work, _, _ in turn])
            except Exception as exc:  # no process, or a work that cannot be sent: nothing was stored
                _settle_turn(turn, [(False, exc)] * len(turn))
                continue
            answer.add_done_callback(functools.partial(_answered, turn))

    # --- PostgreSQL ---------------------------------------------------------------------------------

    async def pg(self):
        """The asyncpg connection, made (again) if there is none."""
        if self._pg is not None and not self._pg.is_closed():
            return self._pg
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._pg is None or self._pg.is_closed():
                import asyncpg

                dsn = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
                conn = await asyncpg.connect(dsn, timeout=10)
                for statement in self.setup:
                    await conn.execute(statement)
                self._pg = conn
        return self._pg

    async def pg_run(self, work: Callable[[Any], Any]) -> Any:
        """``await work(connection)``, one at a time (a connection runs one thing at once); a connection
        that fails on the way is dropped for a new one."""
        if self._using is None:
            self._using = asyncio.Lock()
        async with self._using:
            return await self._pg_run(work)

    async def _pg_run(self, work: Callable[[Any], Any]) -> Any:
        conn = await self.pg()
        try:
            return await work(conn)
        except Exception as exc:
            if conn.is_closed() or not isinstance(exc, _postgres_errors()):
                self._pg = None
                if not conn.is_closed():
                    conn.terminate()
            raise driver_error(exc) from exc

    async def close(self) -> None:
        if self._pg is not None:
            try:
                await asyncio.wait_for(self._pg.close(), timeout=5)
            except Exception:
                self._pg.terminate()
            self._pg = None
        if self._process is not None:
            process, self._process = self._process, None
            await process.close()


def _answered(turn: list, answer: asyncio.Future) -> None:
    if answer.cancelled():
        _settle_turn(turn, [(False, ConnectionError("the SQLite writer process was stopped"))] * len(turn))
    elif answer.exception() is not None:  # BEGIN or COMMIT failed, or the process stopped: nothing stored
        _settle_turn(turn, [(False, answer.exception())] * len(turn))
    else:
        _settle_turn(turn, answer.result())


def _settle_turn(turn: list, outcomes: list[tuple[bool, Any]]) -> None:
    for (_, done, _), (ok, value) in zip(turn, outcomes):
        if done.done():  # the caller went away; what it wrote stays written
            continue
        if ok:
            done.set_result(value)
        else:
            done.set_exception(driver_error(value) if isinstance(value, sqlite3.Error) else value)


def _postgres_errors() -> tuple[type, ...]:
    import asyncpg

    return (asyncpg.PostgresError,)


_direct: weakref.WeakKeyDictionary[AsyncEngine, dict[str, Direct]] = weakref.WeakKeyDictionary()


def direct_for(engine: AsyncEngine, purpose: str, setup: tuple[str, ...] = ()) -> Direct | None:
    """The dedicated connection for ``purpose`` on this engine (None where there is no direct path,
    e.g. an in-memory SQLite database: callers then use the engine)."""
    if not Direct.supports(engine):
        return None
    per_engine = _direct.setdefault(engine, {})
    if engine.url.get_backend_name() == "sqlite":
        purpose = "writer"  # one writer a process: its works share turns (see ``Direct.sqlite``)
    direct = per_engine.get(purpose)
    if direct is None:
        direct = per_engine[purpose] = Direct(engine, purpose, setup)
    return direct


async def close_all(engine: AsyncEngine) -> None:
    for direct in _direct.pop(engine, {}).values():
        await direct.close()
