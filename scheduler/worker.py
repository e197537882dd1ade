"""The outbox's delivery worker.

Rows move pending → sending → sent. A row is claimed (marked ``sending``, its attempt counted)
in a short transaction before the platform is called — on PostgreSQL with ``FOR UPDATE SKIP
LOCKED`` so several replicas never claim the same row — and marked ``sent`` after. Failures
are retried with exponential backoff and jitter, a platform's "retry after N seconds" is
honoured, and a row is dead-lettered after the last attempt. A row left ``sending`` by a
crash is checked against the platform (``find_sent``) before it is sent again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, update
from sqlmodel import select

from scheduler.clock import WorkingHours
from scheduler.outbox import PermanentFailure, RetryAfter
from storage.db import Database
from storage.models import OutboxMessage, OutboxState, utcnow

log = logging.getLogger("cyswllt.outbox")

BACKOFF_BASE = 5.0  # seconds before the first retry
BACKOFF_CAP = 3600.0
# Messages per second per channel, by platform (Slack allows about one a second in a channel).
CHANNEL_RATE = {"slack": 1.0, "teams": 2.0}
# Rows claimed in one pass, as a multiple of the messages in flight at once.
CLAIM_ROUNDS = 4
# A platform's "retry after" costs no attempt, until a row has waited this long for its turn.
RATE_LIMIT_PATIENCE = timedelta(hours=6)


def backoff(attempts: int) -> float:
    """Seconds before retry number ``attempts``: exponential, with full jitter around it."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.5, 1.5)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class OutboxWorker:
    def __init__(self, db: Database, senders: dict, settings, *, now: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.senders = senders
        self.settings = settings
        self.now = now
        self.hours = WorkingHours.from_settings(settings)
        self.wake = asyncio.Event()
        self._cooling: dict[tuple[str, str], datetime] = {}  # channel -> when it may have its next message
        self._started = False
        self._warned: dict[str, float] = {}
        self.stopping = False

    # --- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        await self.recover(stale_only=self.db.is_postgres)
        self._started = True
        while not self.stopping:
            try:
                delivered = await self.deliver_due()
                await self.recover(stale_only=True)
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must survive a database hiccup
                log.exception("outbox delivery pass failed")
                delivered = 0
            if delivered:
                continue
            # Nothing to send now: wait for new rows, or until a channel held back by its rate
            # limit may have its next message, whichever is first.
            wait = self.settings.outbox_poll_seconds
            if self._cooling:
                soonest = (min(self._cooling.values()) - self.now()).total_seconds()
                wait = max(0.01, min(wait, soonest))
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=wait)
            except TimeoutError:
                pass
            self.wake.clear()

    async def deliver_due(self, limit: int | None = None) -> int:
        """Claim the rows that are due now, at most one per channel, and deliver them
        ``outbox_concurrency`` at a time; the number handed to a sender. A pass claims a few
        rounds' worth, so the claim's query is paid once per several messages."""
        rows = await self.claim(limit or self.settings.outbox_concurrency * CLAIM_ROUNDS)
        slots = asyncio.Semaphore(self.settings.outbox_concurrency)
        handed: list[OutboxMessage] = []

        async def one(row: OutboxMessage) -> None:
            await self._pace(row)
            async with slots:
                if self.stopping:
                    # Shutting down: a row not yet handed over goes back as it was, costing no attempt.
                    await self._release([row])
                    return
                handed.append(row)
                await self.deliver(row)

        await asyncio.gather(*(one(row) for row in rows))
        return len(handed)

    def stop(self) -> None:
        """Finish the messages in hand, then stop (the service is shutting down)."""
        self.stopping = True
        self.wake.set()

    async def _release(self, rows: list[OutboxMessage]) -> None:
        for row in rows:
            await self._finish(row, state=OutboxState.pending, attempts=row.attempts - 1, claimed_at=None)

    # --- claiming -------------------------------------------------------------------------

    async def claim(self, limit: int) -> list[OutboxMessage]:
        """Mark up to ``limit`` due rows ``sending`` and return them: the oldest due row of each
        channel, leaving out channels that had a message less than their rate allows ago (their
        next row waits for a later pass, so one busy channel never holds the others up)."""
        now = self.now()
        due = (OutboxMessage.state == OutboxState.pending, OutboxMessage.next_attempt_at <= now)
        async with self.db.session() as session:
            if not self.hours.is_working_time(now):
                # Outside working hours a message waits for the next working slot; it is not dropped.
                await session.exec(update(OutboxMessage).where(*due, OutboxMessage.respect_working_hours)
                                   .values(next_attempt_at=self.hours.next_slot(now)))
            # Each channel's oldest due row: one short row per channel, whatever the backlog.
            heads = (await session.exec(
                select(func.min(OutboxMessage.id), func.min(OutboxMessage.next_attempt_at),
                       OutboxMessage.platform, OutboxMessage.channel)
                .where(*due).group_by(OutboxMessage.platform, OutboxMessage.channel))).all()
            self._forget_cooled()
            ready = [row_id for row_id, _, platform, channel in sorted(heads, key=lambda h: (h[1], h[0]))
                     if (platform, channel) not in self._cooling][:limit]
            if ready and self.db.is_postgres:
                # Lock them by primary key; another replica's rows are skipped, not waited for.
                ready = list((await session.exec(
                    select(OutboxMessage.id).where(OutboxMessage.id.in_(ready), *due)
                    .with_for_update(skip_locked=True))).all())
            claimed: list[OutboxMessage] = []
            if ready:
                # Only the rows this UPDATE moved are ours (another worker may have raced us on SQLite).
                mine = (await session.exec(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ready), OutboxMessage.state == OutboxState.pending)
                    .values(state=OutboxState.sending, claimed_at=now, attempts=OutboxMessage.attempts + 1)
                    .returning(OutboxMessage.id))).all()
                ids = [row[0] for row in mine]
                if ids:
                    claimed = list((await session.exec(
                        select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id))).all())
            await session.commit()
            return claimed

    # --- sending --------------------------------------------------------------------------

    async def deliver(self, row: OutboxMessage) -> None:
        sender = self.senders.get(row.platform)
        if sender is None:
            # Once per platform every ten minutes, not once per row per minute.
            if time.monotonic() - self._warned.get(row.platform, -1e9) > 600:
                self._warned[row.platform] = time.monotonic()
                log.warning("no sender for platform %s (not configured?): its messages wait, e.g. outbox row %s",
                            row.platform, row.id)
            await self._finish(row, state=OutboxState.pending, attempts=row.attempts - 1,
                               next_attempt_at=self.now() + timedelta(seconds=60),
                               last_error=f"no sender registered for {row.platform}")
            return
        try:
            external_id = await sender.send(row)
        except RetryAfter as exc:
            log.info("outbox row %s: %s", row.id, exc)
            # A platform's rate limit is not a failure of the message: the attempt is given back,
            # unless the row has been held back so long that it should count towards dead-lettering.
            patient = self.now() - _aware(row.created_at) < RATE_LIMIT_PATIENCE
            if not patient and row.attempts >= self.settings.outbox_max_attempts:
                await self._finish(row, state=OutboxState.dead, last_error=str(exc))
                return
            await self._finish(row, state=OutboxState.pending, attempts=row.attempts - (1 if patient else 0),
                               next_attempt_at=self.now() + timedelta(seconds=exc.seconds), last_error=str(exc))
        except PermanentFailure as exc:
            log.warning("outbox row %s dead: %s", row.id, exc)
            await self._finish(row, state=OutboxState.dead, last_error=str(exc))
        except Exception as exc:  # anything else is worth another try
            if row.attempts >= self.settings.outbox_max_attempts:
                log.warning("outbox row %s dead after %s attempts: %s", row.id, row.attempts, exc)
                await self._finish(row, state=OutboxState.dead, last_error=repr(exc))
            else:
                delay = backoff(row.attempts)
                log.info("outbox row %s failed (attempt %s), retry in %.0fs: %r", row.id, row.attempts, delay, exc)
                await self._finish(row, state=OutboxState.pending, last_error=repr(exc),
                                   next_attempt_at=self.now() + timedelta(seconds=delay))
        else:
            await self._finish(row, state=OutboxState.sent, sent_at=self.now(), external_id=external_id,
                               last_error=None)

    async def _pace(self, row: OutboxMessage) -> None:
        """Keep to the platform's rate for one channel: ``self._cooling[(platform, channel)]`` is
        when the channel may have its next message."""
        rate = CHANNEL_RATE.get(row.platform)
        if not rate:
            return
        key = (row.platform, row.channel)
        if key in self._cooling:
            gap = (self._cooling[key] - self.now()).total_seconds()
            if gap > 0:
                await asyncio.sleep(gap)
        self._cooling[key] = self.now() + timedelta(seconds=1.0 / rate)

    def _forget_cooled(self) -> None:
        moment = self.now()
        for key in [key for key, until in self._cooling.items() if until <= moment]:
            del self._cooling[key]

    async def _finish(self, row: OutboxMessage, **values) -> None:
        async with self.db.session() as session:
            await session.exec(update(OutboxMessage)
                               .where(OutboxMessage.id == row.id, OutboxMessage.state == OutboxState.sending)
                               .values(**values))
            await session.commit()

    # --- after a crash --------------------------------------------------------------------

    async def recover(self, *, stale_only: bool) -> int:
        """Rows left ``sending``: sent if the platform has them, otherwise pending again."""
        now = self.now()
        query = select(OutboxMessage).where(OutboxMessage.state == OutboxState.sending)
        if stale_only:
            query = query.where(OutboxMessage.claimed_at < now - timedelta(seconds=self.settings.outbox_lease_seconds))
        async with self.db.session() as session:
            stuck = (await session.exec(query.limit(100))).all()
        for row in stuck:
            sender = self.senders.get(row.platform)
            found = None
            if sender is not None:
                try:
                    found = await sender.find_sent(row)
                except Exception as exc:
                    log.warning("could not check outbox row %s on %s: %r", row.id, row.platform, exc)
                    continue
            async with self.db.session() as session:
                values = ({"state": OutboxState.sent, "sent_at": now, "external_id": found} if found
                          else {"state": OutboxState.pending, "next_attempt_at": now})
                await session.exec(update(OutboxMessage)
                                   .where(OutboxMessage.id == row.id, OutboxMessage.state == OutboxState.sending,
                                          OutboxMessage.attempts == row.attempts)
                                   .values(**values))
                await session.commit()
            log.info("outbox row %s was left sending: %s", row.id, "already delivered" if found else "sending again")
        return len(stuck)
