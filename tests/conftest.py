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
    """A Database with every table created, on SQLite and on PostgreSQL."""
    database = Database.from_url(database_url)
    await database.create_all()
    try:
        yield database
    finally:
        await database.dispose()
