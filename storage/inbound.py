"""The ledger of chat requests a platform delivered (``InboundRequest``).

A request is written here before it is acknowledged, under a key the platform repeats when it
sends the same request again (Slack's event id, trigger id or view, else its signature; a Teams
activity id). The key is unique, so a retry or a replay — to any replica, after a restart — finds
the row and is not run again. Work that answers after the acknowledgement marks its row ``done``
in the same transaction as its change and its answer, so a row still ``received`` a while later
means the process died in between: it is run again, once (see ``unfinished``). Rows are kept a
day (at least the five minutes in which Slack accepts a signed request) and then deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboundRequest, utcnow

KEEP = timedelta(days=1)
RECEIVED = "received"
DONE = "done"
EXPIRED = "expired"


async def remember(db, platform: str, key: str, work: dict[str, Any] | None, *, now: datetime | None = None) -> int | None:
    """Record a request; its row id, or None when the same request was recorded before (a retry
    or a replay). ``work`` is what to run again if the process dies before the work is done;
    None records the request as done at once (nothing to run again)."""
    now = now or utcnow()
    values = dict(platform=platform, key=key[:300], received_at=now, claimed_at=now, attempts=1,
                  state=RECEIVED if work is not None else DONE, work=work)
    insert = pg_insert if db.is_postgres else sqlite_insert
    stmt = insert(InboundRequest).values(**values).on_conflict_do_nothing(index_elements=["platform", "key"]) \
        .returning(InboundRequest.id)
    async with db.session() as session:
        found = (await session.exec(stmt)).first()  # type: ignore[call-overload]
        await session.commit()
    return found[0] if found else None


async def take_over(db, platform: str, key: str, *, now: datetime, older_than: timedelta) -> int | None:
    """A request seen before whose work was never finished and started longer ago than
    ``older_than`` (the process that took it died): claimed for this process; its row id, or None
    when it is done or still being worked on."""
    async with db.session() as session:
        moved = await session.exec(update(InboundRequest).where(
            InboundRequest.platform == platform, InboundRequest.key == key[:300], InboundRequest.state == RECEIVED,
            InboundRequest.claimed_at < now - older_than).values(claimed_at=now, attempts=InboundRequest.attempts + 1)
            .returning(InboundRequest.id))
        found = moved.first()
        await session.commit()
    return found[0] if found else None


async def mark_done(db, request_id: int) -> None:
    async with db.session() as session:
        await done(session, request_id)
        await session.commit()


async def done(session: AsyncSession, request_id: int | None) -> None:
    """Mark a request's work finished, in the caller's transaction (with the change and its answer)."""
    if request_id is not None:
        await session.exec(update(InboundRequest).where(InboundRequest.id == request_id)
                           .values(state=DONE, work=None))


async def unfinished(db, platform: str, *, now: datetime, lease: timedelta, window: timedelta,
                     max_attempts: int = 3) -> list[InboundRequest]:
    """Requests whose work was started more than ``lease`` ago and never finished, received within
    ``window`` (older ones are given up): each claimed for this process by moving its lease, so
    of several replicas one runs it."""
    claimed: list[InboundRequest] = []
    async with db.session() as session:
        stale = (await session.exec(select(InboundRequest).where(
            InboundRequest.platform == platform, InboundRequest.state == RECEIVED,
            InboundRequest.claimed_at < now - lease).order_by(InboundRequest.id).limit(50))).all()
        for row in stale:
            too_old = row.received_at < now - window or row.attempts >= max_attempts
            moved = await session.exec(update(InboundRequest).where(
                InboundRequest.id == row.id, InboundRequest.state == RECEIVED,
                InboundRequest.claimed_at == row.claimed_at).values(
                **({"state": EXPIRED, "work": None} if too_old else
                   {"claimed_at": now, "attempts": InboundRequest.attempts + 1})))
            if moved.rowcount and not too_old:
                claimed.append(row)
        await session.commit()
    return claimed


async def forget_old(db, *, now: datetime) -> int:
    async with db.session() as session:
        result = await session.exec(delete(InboundRequest).where(InboundRequest.received_at < now - KEEP))
        await session.commit()
    return result.rowcount or 0
