"""Alembic migrations, run from code so no alembic.ini is needed at run time."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config

from storage.db import sync_url


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("storage") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> list[int]:
    """Bring the schema to ``revision``; at the head, also count the digest totals of consultations
    stored before they were kept. Returns those consultations' ids."""
    command.upgrade(alembic_config(url), revision)
    return recount_stale(url) if revision == "head" else []


def recount_stale(url: str) -> list[int]:
    """Count the digest totals of every consultation marked stale (data stored before they were kept, see
    revision i17_01_digest_tallies), each in its own transaction. Returns their ids."""
    from sqlalchemy import create_engine, select

    from storage import tallies
    from storage.models import DigestTallyState

    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            stale = list(conn.execute(select(DigestTallyState.consultation_id).where(DigestTallyState.stale)
                                      .order_by(DigestTallyState.consultation_id)).scalars())
        for consultation_id in stale:
            with engine.begin() as conn:
                tallies.recount_sync(conn, consultation_id)
    finally:
        engine.dispose()
    return stale


def run_upgrade(settings, args=None) -> int:
    counted = upgrade(settings.database_url)
    if counted:
        print(f"counted the digest totals of {len(counted)} consultation(s) stored before they were kept")
    print("database is at the latest schema")
    return 0

