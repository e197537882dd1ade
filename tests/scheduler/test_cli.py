"""The operators' commands, run as the installed CLI would be: jobs list|run, outbox list|retry."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage, utcnow
from tests.scheduler.conftest import seed_plan


@pytest.fixture
async def migrated(database_url):
    await asyncio.to_thread(upgrade, database_url)
    db = Database.from_url(database_url)
    await seed_plan(db, utcnow())
    yield database_url, db
    await db.dispose()


def cli(url, *args):
    env = {**os.environ, "CYSWLLT_DATABASE_URL": url}
    # The installed console script, as operators run it.
    return subprocess.run([str(Path(sys.executable).parent / "cyswllt"), *args], env=env, capture_output=True,
                          text=True, timeout=120)


async def test_jobs_and_outbox_commands(migrated):
    url, db = migrated
    listed = cli(url, "jobs", "list")
    assert listed.returncode == 0 and "action-reminders" in listed.stdout and "next 20" in listed.stdout

    ran = await asyncio.to_thread(cli, url, "jobs", "run", "action-reminders")
    assert ran.returncode == 0, ran.stderr
    assert "queued 3 message(s)" in ran.stdout
    assert {ref for ref in ("A-1", "A-2", "A-3") if ref in ran.stdout} == {"A-1", "A-2", "A-3"}
    again = await asyncio.to_thread(cli, url, "jobs", "run", "action-reminders")
    assert "queued 0 message(s)" in again.stdout

    unknown = cli(url, "jobs", "run", "nope")
    assert unknown.returncode == 2 and "no job called" in unknown.stderr

    async with db.session() as s:
        dead = (await s.exec(select(OutboxMessage).order_by(OutboxMessage.id))).first()
        dead.state, dead.last_error, dead.attempts = "dead", "Slack refused: channel_not_found", 8
        s.add(dead)
        await s.commit()
    failed = await asyncio.to_thread(cli, url, "outbox", "list", "--failed")
    lines = [line for line in failed.stdout.splitlines() if line.strip()][1:]  # under the header
    assert len(lines) == 1 and "dead" in lines[0] and "channel_not_found" in lines[0]

    retried = await asyncio.to_thread(cli, url, "outbox", "retry", str(dead.id))
    assert retried.returncode == 0, retried.stderr
    async with db.session() as s:
        row = await s.get(OutboxMessage, dead.id)
        assert row.state == "pending" and row.attempts == 0
    missing = cli(url, "outbox", "retry", "999999")
    assert missing.returncode == 2 and "no outbox message 999999" in missing.stderr
