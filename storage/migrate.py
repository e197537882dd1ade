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


def run_recount(settings, args) -> int:
    """``cyswllt db recount [--consultation SLUG] [--check]``: compare the digest totals and quote
    candidates kept as analysis lands with a count from the responses, and (without --check) count them
    again. Exit code 1 when --check finds a difference."""
    from sqlalchemy import select

    from cyswllt.cli import CommandError
    from storage import tallies
    from storage.db import run_once
    from storage.models import Consultation

    async def work(db) -> int:
        async with db.session() as session:
            query = select(Consultation.id, Consultation.slug).order_by(Consultation.id)
            if args.consultation:
                query = query.where(Consultation.slug == args.consultation)
            found = (await session.exec(query)).all()
        if args.consultation and not found:
            raise CommandError(f"there is no consultation “{args.consultation}”")
        drifted = 0
        for consultation_id, slug in found:
            async with db.session() as session:
                stale = await tallies.stale(session, consultation_id)
                drift = None if stale else await tallies.check(session, consultation_id)
                if stale:
                    state = "waiting to be counted (stored before the totals were kept)"
                elif drift:
                    state = (f"{len(drift.tallies)} total(s) and "
                             f"{len(drift.candidates_missing) + len(drift.candidates_extra)} quote candidate(s) differ")
                else:
                    state = "right"
                drifted += bool(stale or drift)
                if not args.check and (stale or drift):
                    await tallies.recount(session, consultation_id)
                    await session.commit()
                    state += "; counted again"
            print(f"{slug}: {state}")
        return 1 if args.check and drifted else 0

    return run_once(settings.database_url, work)
