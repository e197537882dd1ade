"""A dedicated driver connection for the hottest writes (responses as they are submitted, rate counts),
beside the engine's pool.

Why: through SQLAlchemy's async layer each statement is a greenlet switch and, with aiosqlite, a hop
to the connection's thread and back; a batch of responses took about a dozen such hops. Here a whole
SQLite transaction runs in one hop, on a thread of its own with the standard library's driver, and a
whole PostgreSQL batch is one statement on an asyncpg connection of its own. Values are converted
exactly as SQLAlchemy would (each column's own bind processor), and driver errors are raised as
SQLAlchemy's (``IntegrityError``, ``OperationalError``), so callers see what they always saw.

A connection that fails is dropped and made again on next use, so a database that comes back after
an outage is used again without a restart. ``storage.db.Database.dispose`` closes them.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


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


class Direct:
    """One dedicated connection (SQLite: with a thread of its own; PostgreSQL: asyncpg)."""

    def __init__(self, engine: AsyncEngine, purpose: str, setup: tuple[str, ...] = ()) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.purpose = purpose
        self.setup = setup  # statements run on each new connection (e.g. session settings)
        url = make_url(str(engine.url.render_as_string(hide_password=False)))
        self.kind = url.get_backend_name()
        self._url = url
        self._sqlite: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._pg = None
        self._connecting: asyncio.Lock | None = None
        self._using: asyncio.Lock | None = None

    @classmethod
    def supports(cls, engine: AsyncEngine) -> bool:
        url = engine.url
        if url.get_backend_name() == "sqlite":
            return bool(url.database) and url.database != ":memory:" and not url.database.startswith("file:")
        return url.get_backend_name() == "postgresql"

    # --- SQLite -------------------------------------------------------------------------------------

    def _sqlite_connection(self) -> sqlite3.Connection:
        if self._sqlite is None:
            conn = sqlite3.connect(self._url.database, isolation_level=None, check_same_thread=False,
                                   timeout=10.0)
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=10000",
                           *self.setup):
                conn.execute(f"PRAGMA {pragma}")
            self._sqlite = conn
        return self._sqlite

    async def sqlite(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(connection)`` on this connection's own thread: a whole transaction in one hop."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"direct-{self.purpose}")

        def run() -> T:
            conn = self._sqlite_connection()
            try:
                return work(conn)
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise driver_error(exc) from exc

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

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
        if self._executor is not None:
            executor, self._executor = self._executor, None
            if self._sqlite is not None:
                conn, self._sqlite = self._sqlite, None
                await asyncio.get_running_loop().run_in_executor(executor, conn.close)
            executor.shutdown(wait=False)


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
    direct = per_engine.get(purpose)
    if direct is None:
        direct = per_engine[purpose] = Direct(engine, purpose, setup)
    return direct


async def close_all(engine: AsyncEngine) -> None:
    for direct in _direct.pop(engine, {}).values():
        await direct.close()
