"""Database engines and sessions: SQLite (WAL, foreign keys on) by default, PostgreSQL in production."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
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


@dataclass
class Database:
    """One engine and its session factory; created and disposed by the app's lifecycle."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

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

    async def create_all(self) -> None:
        """Create every table (tests and the embedded default; production uses migrations)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def dispose(self) -> None:
        from storage.direct import close_all

        await close_all(self.engine)  # the dedicated connections for hot writes, if any were made
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
