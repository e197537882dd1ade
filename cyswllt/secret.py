"""The service's secret, for CSRF tokens, signed form stamps and the salted hash of client addresses.

``CYSWLLT_SECRET_KEY`` when it is set. Otherwise one is made once and kept in the database
(``servicesecret``): every process and replica reads the same one, and a restart keeps it, so a
form loaded before a restart, or served by another replica, is still accepted when it is sent.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from storage.db import Database
from storage.models import ServiceSecret, utcnow

log = logging.getLogger("cyswllt")

NAME = "service"


async def load_or_create(db: Database, name: str = NAME) -> str:
    """The stored secret called ``name``, made now if there is none. Replicas starting together may
    each make one: only the first to be stored is kept, and every one of them reads that one back."""
    table = ServiceSecret.__table__
    query = select(table.c.value).where(table.c.name == name)
    async with db.engine.begin() as conn:
        value = (await conn.execute(query)).scalar_one_or_none()
        if value:
            return value
        dialect = postgresql if db.is_postgres else sqlite
        await conn.execute(dialect.insert(table).values(name=name, value=secrets.token_hex(32), created_at=utcnow())
                           .on_conflict_do_nothing(index_elements=["name"]))
    async with db.engine.connect() as conn:
        value = (await conn.execute(query)).scalar_one()
    log.info("CYSWLLT_SECRET_KEY is not set: using the secret kept in the database")
    return value


class SecretKey:
    """The secret, read from the database on first use when it is not configured (and again after a
    failure: a database that is down at start-up does not stop the service starting)."""

    def __init__(self, db: Database, configured: str | None = None) -> None:
        self.db = db
        self.value = configured or None
        self._lock: asyncio.Lock | None = None

    async def get(self) -> str:
        if self.value is not None:
            return self.value
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.value is None:
                self.value = await load_or_create(self.db)
        return self.value
