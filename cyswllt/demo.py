"""``cyswllt demo``: the demo board and consultation (``storage.demo``), and the consultation's
first responses — 44, in Welsh and English, from four stakeholder groups and from people who gave
none, spread over the last three weeks — stored as paper responses are and analysed at once, so
the first digest, the board page and the reminders have something in them."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from importlib import resources


def responses_csv(now) -> str:
    """The demo's responses as a ``responses import`` file, received over the last three weeks."""
    rows = list(csv.DictReader(io.StringIO(
        (resources.files("storage") / "demo_data" / "responses.csv").read_text(encoding="utf-8"))))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["text", "language", "group", "received_at", "channel"],
                            lineterminator="\n")
    writer.writeheader()
    for n, row in enumerate(rows):
        received = now - timedelta(days=21) + timedelta(hours=11 * n + 3)
        writer.writerow({**row, "received_at": received.isoformat(), "channel": "web" if n % 4 else "paper"})
    return out.getvalue()


async def add_responses(db, now) -> int:
    """The demo consultation's responses, once (none are added if it has any), analysed."""
    from sqlalchemy import func
    from sqlmodel import select

    from engagement.paper import import_responses
    from engagement.worker import AnalysisWorker
    from storage.demo import CONSULTATION
    from storage.models import Consultation, Response

    async with db.session() as session:
        consultation = (await session.exec(select(Consultation).where(Consultation.slug == CONSULTATION))).one()
        had = (await session.exec(select(func.count()).select_from(Response)
                                  .where(Response.consultation_id == consultation.id))).one()
        added = 0
        if not had:
            added = await import_responses(session, CONSULTATION, responses_csv(now))
            await session.commit()
    worker = AnalysisWorker(db)
    while await worker.analyse_pending():
        pass
    return added


def run(settings, args=None) -> int:
    from storage import demo
    from storage.db import Database, run_in_session
    from storage.migrate import upgrade
    from storage.models import utcnow

    upgrade(settings.database_url)
    for line in run_in_session(settings.database_url, demo.load, upgrade_sqlite=False):
        print(f"demo: {line}")

    async def responses() -> int:
        db = Database.from_url(settings.database_url)
        try:
            return await add_responses(db, utcnow())
        finally:
            await db.dispose()

    added = asyncio.run(responses())
    print(f"demo: {added} consultation responses in Welsh and English, analysed" if added
          else "demo: the consultation's responses are already there")
    print("demo: try `cyswllt chat --as chair@demo.cyswllt.cymru`, then `cyswllt serve` and open "
          f"{settings.public_base_url}/consultations")
    return 0
