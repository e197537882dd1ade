"""The outbox: every outbound message is a row first, then delivered by a worker.

``enqueue`` adds a row in the caller's transaction (so a message exists exactly when the
change that caused it was committed) and does nothing when a row with the same
idempotency key exists already.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage, OutboxState, utcnow


class RetryAfter(Exception):
    """The platform asked us to wait (HTTP 429 Retry-After, Slack's ``ratelimited``)."""

    def __init__(self, seconds: float, reason: str = "rate limited") -> None:
        super().__init__(f"{reason}; retry after {seconds}s")
        self.seconds = float(seconds)


class PermanentFailure(Exception):
    """Sending can never succeed (unknown channel, revoked token): dead-letter at once."""


class Sender(Protocol):
    """Delivers one outbox row on one platform.

    ``payload`` conventions: ``{"reply": Reply.to_dict()}`` for chat messages, optionally with
    ``"files": [{"filename", "title", "alt_text", "content_b64"}]`` (e.g. a digest chart);
    ``{"subject", "body", "to"}`` for mail. Raise ``RetryAfter`` / ``PermanentFailure``; any
    other exception is retried with backoff.
    """

    async def send(self, message: OutboxMessage) -> str | None:
        """Send; return the platform's id for the message when it gives one."""
        ...

    async def find_sent(self, message: OutboxMessage) -> str | None:
        """After a crash: the id of this row's message if the platform already has it, else None."""
        ...


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    platform: str,
    channel: str,
    payload: dict[str, Any],
    language: str = "en",
    kind: str = "message",
    recipient_id: int | None = None,
    not_before: datetime | None = None,
    working_hours: bool = False,
) -> bool:
    """Queue a message; True when a new row was added, False when the key was known."""
    values = dict(
        idempotency_key=key[:300],
        platform=platform,
        channel=channel,
        payload=payload,
        language=language,
        kind=kind,
        recipient_id=recipient_id,
        state=OutboxState.pending,
        attempts=0,
        next_attempt_at=not_before or utcnow(),
        respect_working_hours=working_hours,
        created_at=utcnow(),
    )
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"])
    result = await session.exec(stmt)  # type: ignore[call-overload]
    return bool(result.rowcount)


async def enqueue_many(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Queue many messages in one statement; rows whose key is known already are skipped.
    Each row has the keyword arguments of ``enqueue``. Returns how many were new."""
    if not rows:
        return 0
    now = utcnow()
    values = [dict(idempotency_key=r["key"][:300], platform=r["platform"], channel=r["channel"],
                   payload=r["payload"], language=r.get("language", "en"), kind=r.get("kind", "message"),
                   recipient_id=r.get("recipient_id"), state=OutboxState.pending, attempts=0,
                   next_attempt_at=r.get("not_before") or now, respect_working_hours=r.get("working_hours", False),
                   created_at=now) for r in rows]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    added = 0
    for start in range(0, len(values), 500):
        stmt = insert(OutboxMessage).values(values[start:start + 500]).on_conflict_do_nothing(
            index_elements=["idempotency_key"])
        added += (await session.exec(stmt)).rowcount or 0  # type: ignore[call-overload]
    return added
