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
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import select

from scheduler.clock import WorkingHours
from scheduler.messages import BUNDLED_KINDS, MAX_BUNDLE
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
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def bundle(rows: list[OutboxMessage]) -> OutboxMessage:
    """What the sender is given for one message: the row itself, or for several of a person's
    rows a message standing for them all, under the first row's key with the others' keys in
    ``payload["keys"]`` (Slack keeps them in the message's metadata, for ``find_sent``)."""
    if len(rows) == 1:
        return rows[0]
    head = rows[0]
    return OutboxMessage(id=head.id, idempotency_key=head.idempotency_key, platform=head.platform,
                         channel=head.channel, recipient_id=head.recipient_id, language=head.language,
                         kind=head.kind, state=head.state, attempts=head.attempts, created_at=head.created_at,
                         payload={"bundle": [row.payload for row in rows],
                                  "keys": [row.idempotency_key for row in rows[1:]]})


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
        """Claim the messages that are due now, at most one per channel, and deliver them
        ``outbox_concurrency`` at a time; the number of rows handed to a sender. A pass claims a
        few rounds' worth, so the claim's queries are paid once per several messages."""
        rows = await self.claim(limit or self.settings.outbox_concurrency * CLAIM_ROUNDS)
        messages: dict[tuple[str, str], list[OutboxMessage]] = {}
        for row in rows:  # a channel's rows claimed together are one message (see claim)
            messages.setdefault((row.platform, row.channel), []).append(row)
        slots = asyncio.Semaphore(self.settings.outbox_concurrency)
        handed = 0

        async def one(message: list[OutboxMessage]) -> None:
            nonlocal handed
            async with slots:
                if self.stopping:
                    # Shutting down: rows not yet handed over go back as they were, costing no attempt.
                    await self._release(message)
                    return
                await self._pace(message[0])
                handed += len(message)
                try:
                    await self.deliver(message)
                finally:
                    self._rest(message[0])

        await asyncio.gather(*(one(message) for message in messages.values()))
        return handed

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
        channel, leaving out channels that had a message less than their rate allows ago or have
        one on its way now (their next row waits for a later pass, so one busy channel never holds
        the others up, and two replicas never send to one channel at once)."""
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
            # A channel with a message on its way (from this worker or another replica) waits.
            busy = set((await session.exec(select(OutboxMessage.platform, OutboxMessage.channel).distinct()
                                           .where(OutboxMessage.state == OutboxState.sending))).all())
            self._forget_cooled()
            heads = sorted(heads, key=lambda head: (head[1], head[0]))
            ready = [row_id for row_id, _, platform, channel in heads
                     if (platform, channel) not in self._cooling and (platform, channel) not in busy][:limit]
            if ready:
                ready += await self._bundled_with(session, ready, due)
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

    async def _bundled_with(self, session, heads: list[int], due) -> list[int]:
        """Rows that go in one message with these heads: a reminder or escalation at the head of
        a channel takes the ones queued right after it for the same person in the same language,
        up to MAX_BUNDLE in all, so a member is not sent a string of messages a second apart."""
        chosen = (await session.exec(select(OutboxMessage.platform, OutboxMessage.channel)
                                     .where(OutboxMessage.id.in_(heads),
                                            OutboxMessage.kind.in_(BUNDLED_KINDS)))).all()
        if not chosen:
            return []
        place = func.row_number().over(partition_by=(OutboxMessage.platform, OutboxMessage.channel),
                                       order_by=OutboxMessage.id).label("place")
        queued = (select(OutboxMessage.id, OutboxMessage.platform, OutboxMessage.channel, OutboxMessage.kind,
                         OutboxMessage.language, place)
                  .where(*due, OutboxMessage.channel.in_({channel for _, channel in chosen})).subquery())
        rows = (await session.exec(select(*queued.c).where(queued.c.place <= MAX_BUNDLE)
                                   .order_by(queued.c.platform, queued.c.channel, queued.c.place))).all()
        wanted, extra = set(chosen), []
        head = None
        for row in rows:
            if (row.platform, row.channel) not in wanted:
                continue
            if row.place == 1:
                head = row
            elif (head is not None and (head.platform, head.channel) == (row.platform, row.channel)
                  and row.kind in BUNDLED_KINDS and row.language == head.language):
                extra.append(row.id)
            else:
                head = None  # something else is next in this channel: the bundle ends here
        return extra

    # --- sending --------------------------------------------------------------------------

    async def deliver(self, rows: list[OutboxMessage]) -> None:
        """Send one message: a row, or a bundle of a person's rows (each row settled the same way)."""
        row = rows[0]
        sender = self.senders.get(row.platform)
        if sender is None:
            # Once per platform every ten minutes, not once per row per minute.
            if time.monotonic() - self._warned.get(row.platform, -1e9) > 600:
                self._warned[row.platform] = time.monotonic()
                log.warning("no sender for platform %s (not configured?): its messages wait, e.g. outbox row %s",
                            row.platform, row.id)
            for each in rows:
                await self._finish(each, state=OutboxState.pending, attempts=each.attempts - 1,
                                   next_attempt_at=self.now() + timedelta(seconds=60),
                                   last_error=f"no sender registered for {row.platform}")
            return
        try:
            external_id = await sender.send(bundle(rows))
        except RetryAfter as exc:
            log.info("outbox row %s: %s", row.id, exc)
            for each in rows:
                # A platform's rate limit is not a failure of the message: the attempt is given back,
                # unless the row has been held back so long that it should count towards dead-lettering.
                patient = self.now() - _aware(each.created_at) < RATE_LIMIT_PATIENCE
                if not patient and each.attempts >= self.settings.outbox_max_attempts:
                    await self._finish(each, state=OutboxState.dead, last_error=str(exc))
                else:
                    await self._finish(each, state=OutboxState.pending,
                                       attempts=each.attempts - (1 if patient else 0),
                                       next_attempt_at=self.now() + timedelta(seconds=exc.seconds),
                                       last_error=str(exc))
        except PermanentFailure as exc:
            log.warning("outbox row %s dead: %s", row.id, exc)
            for each in rows:
                await self._finish(each, state=OutboxState.dead, last_error=str(exc))
        except Exception as exc:  # anything else is worth another try
            for each in rows:
                if each.attempts >= self.settings.outbox_max_attempts:
                    log.warning("outbox row %s dead after %s attempts: %s", each.id, each.attempts, exc)
                    await self._finish(each, state=OutboxState.dead, last_error=repr(exc))
                else:
                    delay = backoff(each.attempts)
                    log.info("outbox row %s failed (attempt %s), retry in %.0fs: %r", each.id, each.attempts,
                             delay, exc)
                    await self._finish(each, state=OutboxState.pending, last_error=repr(exc),
                                       next_attempt_at=self.now() + timedelta(seconds=delay))
        else:
            for each in rows:
                await self._finish(each, state=OutboxState.sent, sent_at=self.now(), external_id=external_id,
                                   last_error=None)

    async def _pace(self, row: OutboxMessage) -> None:
        """Wait, if need be, until the channel may have its next message."""
        until = self._cooling.get((row.platform, row.channel))
        if until is not None:
            gap = (until - self.now()).total_seconds()
            if gap > 0:
                await asyncio.sleep(gap)

    def _rest(self, row: OutboxMessage) -> None:
        """The platform has answered: the channel's next message may go a second later (counted
        from the answer, so the platform sees them a second apart however long each took)."""
        rate = CHANNEL_RATE.get(row.platform)
        if rate:
            self._cooling[(row.platform, row.channel)] = self.now() + timedelta(seconds=1.0 / rate)

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
