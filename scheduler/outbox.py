"""The outbox: every outbound message is a row first, then delivered by a worker.

``enqueue`` adds a row in the caller's transaction (so a message exists exactly when the
change that caused it was committed) and does nothing when a row with the same
idempotency key exists already.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage, OutboxState, utcnow


class RetryAfter(Exception):
    """The platform asked us to wait (HTTP 429 Retry-After, or the platform's own rate-limit error)."""

    def __init__(self, seconds: float, reason: str = "rate limited", *, scope: str = "channel") -> None:
        super().__init__(f"{reason}; retry after {seconds}s")
        self.seconds = float(seconds)
        self.scope = scope  # "channel", or "platform" when the platform says the limit is global


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

    # Optional: ``can_find(message) -> bool``, False when the platform cannot be asked what it
    # received (see each sender's ``can_find``). A row of such a platform left ``sending`` by a
    # crash is sent again, and may arrive twice: once at most per crash (decision 0017).


def can_find(sender: Any, message: OutboxMessage) -> bool:
    check = getattr(sender, "can_find", None)
    return True if check is None else bool(check(message))


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


async def known_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these idempotency keys are queued already (so a sweep builds only new messages)."""
    found: set[str] = set()
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # One array parameter: a long IN list costs asyncpg a slow statement per chunk.
        wanted = bindparam("keys", value=keys, type_=ARRAY(String))
        rows = await session.exec(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key == any_(wanted)))
        return set(rows.all())
    for start in range(0, len(keys), 900):
        chunk = keys[start:start + 900]
        rows = await session.exec(select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(chunk)))
        found.update(rows.all())
    return found


async def enqueue_many(session: AsyncSession, rows: list[dict[str, Any]], *, known: set[str] | None = None) -> int:
    """Queue many messages in one prepared statement; keys known already are skipped (and a race
    with another replica is settled by the unique key). Each row has ``enqueue``'s arguments.
    Returns how many were new."""
    if not rows:
        return 0
    keys = [r["key"][:300] for r in rows]
    if known is None:  # a caller that looked the keys up already passes what it found
        known = await known_keys(session, keys)
    now = utcnow()
    values = [dict(idempotency_key=key, platform=r["platform"], channel=r["channel"],
                   payload=r["payload"], language=r.get("language", "en"), kind=r.get("kind", "message"),
                   recipient_id=r.get("recipient_id"), state=OutboxState.pending, attempts=0,
                   next_attempt_at=r.get("not_before") or now, respect_working_hours=r.get("working_hours", False),
                   created_at=now) for key, r in zip(keys, rows) if key not in known]
    if not values:
        return 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
    connection = await session.connection()
    await connection.execute(stmt, values)
    return len(values)
