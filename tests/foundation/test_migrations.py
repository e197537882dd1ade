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
