from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from storage.db import sync_url
from storage.migrate import upgrade


def test_migrations_produce_the_models_schema(database_url):
    upgrade(database_url)
    upgrade(database_url)  # a second run is a no-op
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"the migrations and the models differ: {diff}"


def test_db_upgrade_command_creates_the_schema(sqlite_url):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from sqlalchemy import inspect

    cyswllt = str(Path(sys.executable).with_name("cyswllt"))
    done = subprocess.run([cyswllt, "db", "upgrade"], env={**os.environ, "CYSWLLT_DATABASE_URL": sqlite_url},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    engine = create_engine(sync_url(sqlite_url))
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables and "alembic_version" in tables
