"""Database engines and sessions: SQLite (WAL, foreign keys on) by default, PostgreSQL in production."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)

T = TypeVar("T")


def async_url(url: str) -> str:
    """The async driver URL for a contract URL (``sqlite:///x.db``, ``postgresql://…``)."""
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The blocking driver URL, for migrations and the CLI's one-shot work."""
    u = make_url(url)
    if u.drivername.startswith("sqlite"):
        u = u.set(drivername="sqlite")
    elif u.drivername.startswith("postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def is_postgres(url_or_engine) -> bool:
    name = url_or_engine.dialect.name if hasattr(url_or_engine, "dialect") else make_url(url_or_engine).get_backend_name()
    return name == "postgresql"


def is_sqlite_file(url) -> bool:
    """Whether ``url`` is an SQLite database in a file of its own (not in memory, not a ``file:`` URI):
    one that other connections, threads and processes can open by its path."""
    database = url.database
    return url.get_backend_name() == "sqlite" and bool(database) and database != ":memory:" \
        and not database.startswith("file:")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, **kwargs) -> AsyncEngine:
    aurl = async_url(url)
    if aurl.startswith("sqlite"):
        engine = create_async_engine(aurl, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_async_engine(aurl, **kwargs)
    return engine


class BlockingSession:
    """What storage code awaits of an ``AsyncSession``, done at once by a blocking ``Session``: a coroutine
    that awaits nothing but its session then runs to its end in one step (``Database.run``)."""

    def __init__(self, session: Session) -> None:
        self.sync_session = session

    def __getattr__(self, name: str) -> Any:  # add, add_all, bind, info, no_autoflush, ...
        return getattr(self.sync_session, name)

    async def exec(self, *args, **kwargs) -> Any:
        return self.sync_session.exec(*args, **kwargs)

    async def execute(self, *args, **kwargs) -> Any:
        return self.sync_session.execute(*args, **kwargs)

    async def get(self, *args, **kwargs) -> Any:
        return self.sync_session.get(*args, **kwargs)

    async def flush(self, *args, **kwargs) -> None:
        self.sync_session.flush(*args, **kwargs)

    async def commit(self) -> None:
        self.sync_session.commit()

    async def rollback(self) -> None:
        self.sync_session.rollback()

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[Any]:
        with self.sync_session.begin_nested() as savepoint:
            yield savepoint


def _to_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine whose every await completes at once (see ``BlockingSession``)."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError("work given to Database.run may await only its session")


@dataclass
class Database:
    """One engine and its session factory; created and disposed by the app's lifecycle."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # SQLite's blocking engine and the one thread it is used on (``run``), made on first use.
    _blocking: Engine | None = field(default=None, repr=False)
    _thread: ThreadPoolExecutor | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str, **kwargs) -> Database:
        engine = make_engine(url, **kwargs)
        return cls(engine, async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False))

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``work(session)`` from start to end, for work of many small statements (the analysis of a
        response). On an SQLite file it runs on a thread of its own with the blocking driver, in one hop:
        through aiosqlite each statement was several hops to the connection's thread and back, about
        0.5 ms, against 0.1 ms here. Elsewhere it runs in an ``AsyncSession`` as usual. Either way ``work``
        must await nothing but its session, and commits what it keeps."""
        if not is_sqlite_file(self.engine.url):
            async with self.session() as session:
                return await work(session)
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database")
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run_blocking, work)

    def _run_blocking(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        if self._blocking is None:
            self._blocking = create_engine(sync_url(self.engine.url.render_as_string(hide_password=False)))
            event.listen(self._blocking, "connect", _sqlite_pragmas)
        with Session(self._blocking, expire_on_commit=False) as session:
            return _to_end(work(BlockingSession(session)))  # type: ignore[arg-type]

    async def create_all(self) -> None:
        """Create every table (tests and the embedded default; production uses migrations)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def dispose(self) -> None:
        from storage.direct import close_all

        await close_all(self.engine)  # the dedicated connections for hot writes, if any were made
        if self._thread is not None:
            await asyncio.to_thread(self._thread.shutdown)  # what runs there finishes first
            self._thread = None
        if self._blocking is not None:
            self._blocking.dispose()
            self._blocking = None
        await self.engine.dispose()


def run_once(url: str, work: Callable[[Database], Awaitable[T]], *, upgrade_sqlite: bool = True) -> T:
    """For one-shot commands: bring an embedded SQLite schema up to date (a shared PostgreSQL is
    upgraded on purpose, with ``cyswllt db upgrade``), run ``work(db)`` and close the engine."""
    if upgrade_sqlite and make_url(url).get_backend_name() == "sqlite":
        from storage.migrate import upgrade

        upgrade(url)

    async def main() -> T:
        db = Database.from_url(url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


def run_in_session(url: str, work: Callable[[AsyncSession], Awaitable[T]], **kwargs) -> T:
    """``run_once`` with one session: ``work(session)``'s changes are committed when it returns."""
    async def in_session(db: Database) -> T:
        async with db.session() as session:
            outcome = await work(session)
            await session.commit()
            return outcome

    return run_once(url, in_session, **kwargs)
