"""Shared fixtures: a real SQLite file and a real PostgreSQL server for every storage test."""

from __future__ import annotations

import uuid

import pytest

from storage.db import Database
from tests.pgserver import PostgresServer

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A fresh, empty database URL: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cyswllt.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = "t_" + uuid.uuid4().hex[:12]
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'cyswllt.db'}"


@pytest.fixture
async def db(database_url):
    """A Database with every table created, on SQLite and on PostgreSQL. After the test, the digest
    totals kept as analysis lands must equal a count from the responses: whatever the test changed went
    through their upkeep (storage.tallies), so no change anywhere leaves them drifting unnoticed."""
    database = Database.from_url(database_url)
    await database.create_all()
    try:
        yield database
        await assert_no_drift(database)
    finally:
        await database.dispose()


async def assert_no_drift(database: Database) -> None:
    from sqlalchemy import select

    from storage import tallies
    from storage.models import Consultation

    async with database.session() as session:
        for consultation_id in (await session.exec(select(Consultation.id))).scalars().all():
            if await tallies.stale(session, consultation_id):
                continue
            drift = await tallies.check(session, consultation_id)
            assert not drift, (f"consultation {consultation_id}: the digest totals drifted from a recount: "
                               f"{drift.tallies[:5]}, quote candidates missing {drift.candidates_missing[:3]}, "
                               f"extra {drift.candidates_extra[:3]}")
