"""The outbox's delivery worker.

Rows move pending → sending → sent. A row is claimed (marked ``sending``, its attempt counted)
in a short transaction before the platform is called — on PostgreSQL with ``FOR UPDATE SKIP
LOCKED`` so several replicas never claim the same row — and marked ``sent`` after.

Order is kept within a channel: only a channel's oldest due row is ever claimed, and a failure
never moves a row back in the queue. Instead the *channel* is held (``OutboxHold``, shared by
every replica): until the platform's Retry-After has passed, or after an error for an exponential
backoff with jitter, while other channels go on. Two channels rate-limited at once mean a
platform-wide limit, and hold the whole platform. A row is given up (``dead``) when it has been
failing for ``CYSWLLT_OUTBOX_GIVE_UP_HOURS`` (a day), not after a number of tries, so a platform's
outage of an hour loses nothing. A row left ``sending`` by a crash is checked against the
platform (``find_sent``) before it is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select

from scheduler.clock import WorkingHours
from scheduler.messages import BUNDLED_KINDS, MAX_BUNDLE
from scheduler.outbox import PermanentFailure, RetryAfter, can_find
from storage.db import Database
from storage.models import OutboxHold, OutboxMessage, OutboxState, utcnow

log = logging.getLogger("cyswllt.outbox")

BACKOFF_BASE = 5.0  # seconds before the first retry
BACKOFF_CAP = 600.0  # a channel that keeps failing is tried again at least every ten minutes
# Rows claimed in one pass, as a multiple of the messages in flight at once.
CLAIM_ROUNDS = 4
# While a platform has no sender (not configured), its messages wait and it is looked at again after this.
NO_SENDER_WAIT = timedelta(seconds=60)
RATE_LIMITED = "rate limited"
PLATFORM = ""  # the ``channel`` of a hold on a whole platform
ANSWER_KINDS = ("answer",)
CRASHED = "left sending by a crash"  # a member's own answers, sent in their own lane


def backoff(failures: int) -> float:
    """Seconds to hold a channel after ``failures`` failures in a row: exponential, with jitter."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, failures - 1))
    return delay * random.uniform(0.5, 1.5)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def bundle(rows: list[OutboxMessage]) -> OutboxMessage:
    """What the sender is given for one message: the row itself, or for several of a person's
    rows a message standing for them all, under the first row's key with the others' keys in
    ``payload["keys"]`` (a platform that can be asked keeps them with the message, for ``find_sent``)."""
    if len(rows) == 1:
        return rows[0]
    head = rows[0]
    return OutboxMessage(id=head.id, idempotency_key=head.idempotency_key, platform=head.platform,
                         channel=head.channel, recipient_id=head.recipient_id, language=head.language,
                         kind=head.kind, state=head.state, attempts=head.attempts, created_at=head.created_at,
                         payload={"bundle": [row.payload for row in rows],
                                  "keys": [row.idempotency_key for row in rows[1:]]})


class OutboxWorker:
    def __init__(self, db: Database, senders: dict, settings, *, now: Callable[[], datetime] = utcnow,
                 observe: Callable[[str, str], None] | None = None) -> None:
        self.db = db
        # observe(platform, outcome) with outcome "sent", "rate_limited", "failed" or "dead" (for /metrics)
        self.observe = observe or (lambda platform, outcome: None)
        self.senders = senders
        self.settings = settings
        self.now = now
        self.hours = WorkingHours.from_settings(settings)
        self.wake = asyncio.Event()
        self.urgent = asyncio.Event()  # a member's own answer is waiting: its lane goes at once
        self._cooling: dict[tuple[str, str], datetime] = {}  # channel -> when it may have its next message
        self._holds: dict[tuple[str, str], OutboxHold] = {}  # as read at the last claim, expired ones too
        self.give_up = timedelta(hours=settings.outbox_give_up_hours)
        self._started = False
        self._warned: dict[str, float] = {}
        self.stopping = False

    # --- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        # A row left sending is taken back at once only where no other process may be sending it now
        # (one process on SQLite); otherwise only once its lease has run out.
        await self.recover(stale_only=self.db.is_postgres or self.settings.workers > 1)
        self._started = True
        answers = asyncio.create_task(self._answer_lane(), name="outbox-answers")
        try:
            await self._main_lane()
        finally:
            # Stopping, the answer lane ends by itself after the message in hand (``stop`` wakes it):
            # cancelled half way through a query, it left its pooled connection to be reset while the
            # process stopped, and the log a traceback. Cancelled only when the main lane did not stop.
            if not self.stopping:
                answers.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(answers, timeout=10)

    async def run_answers(self) -> None:
        """Only the lane for members' own answers: in a process that does not run the outbox but takes
        commands (``serve --workers``), so that its answers go at once. Rows left sending are the
        outbox's process's to recover."""
        self._started = True
        await self._answer_lane()

    async def _answer_lane(self) -> None:
        """Answers to a member's own command go the moment they are queued, beside a pass over other
        channels' messages rather than after it."""
        while not self.stopping:
            await self.urgent.wait()
            self.urgent.clear()
            try:
                while not self.stopping and await self.deliver_due(kinds=ANSWER_KINDS):
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox answer lane failed")

    async def _main_lane(self) -> None:
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

    async def deliver_due(self, limit: int | None = None, *, kinds: tuple[str, ...] | None = None) -> int:
        """Claim the messages that are due now, at most one per channel, and deliver them
        ``outbox_concurrency`` at a time; the number of rows handed to a sender. A pass claims a
        few rounds' worth, so the claim's queries are paid once per several messages."""
        rows = await self.claim(limit or self.settings.outbox_concurrency * CLAIM_ROUNDS, kinds=kinds)
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
        self.urgent.set()

    async def _release(self, rows: list[OutboxMessage]) -> None:
        for row in rows:
            await self._finish(row, state=OutboxState.pending, attempts=row.attempts - 1, claimed_at=None)

    # --- claiming -------------------------------------------------------------------------

    async def claim(self, limit: int, *, kinds: tuple[str, ...] | None = None) -> list[OutboxMessage]:
        """Mark up to ``limit`` due rows ``sending`` and return them: the oldest due row of each
        channel, leaving out channels that had a message less than their rate allows ago, have
        one on its way now, or are held (their next row waits for a later pass, so one busy channel
        never holds the others up, and two replicas never send to one channel at once).
        ``kinds`` claims only rows of those kinds (a member's own answers, in their own lane)."""
        now = self.now()
        due = (OutboxMessage.state == OutboxState.pending, OutboxMessage.next_attempt_at <= now)
        if kinds:
            due = (*due, OutboxMessage.kind.in_(kinds))
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
            holds = (await session.exec(select(OutboxHold))).all()
            self._holds = {(h.platform, h.channel): h for h in holds}
            held = {(h.platform, h.channel) for h in holds if _aware(h.until) > now}
            self._forget_cooled()
            heads = sorted(heads, key=lambda head: (head[1], head[0]))
            ready = [row_id for row_id, _, platform, channel in heads
                     if (platform, channel) not in self._cooling and (platform, channel) not in busy
                     and (platform, channel) not in held and (platform, PLATFORM) not in held][:limit]
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
        """Send one message: a row, or a bundle of a person's rows (each row settled the same way,
        so a bundle that fails is tried again whole)."""
        row = rows[0]
        sender = self.senders.get(row.platform)
        if sender is None:
            # Once per platform every ten minutes, not once per row per minute.
            if time.monotonic() - self._warned.get(row.platform, -1e9) > 600:
                self._warned[row.platform] = time.monotonic()
                log.warning("no sender for platform %s (not configured?): its messages wait, e.g. outbox row %s",
                            row.platform, row.id)
            error = f"no sender registered for {row.platform}"
            await self._hold(row.platform, PLATFORM, self.now() + NO_SENDER_WAIT, error, failed=False)
            for each in rows:
                await self._finish(each, state=OutboxState.pending, attempts=each.attempts - 1, claimed_at=None,
                                   last_error=error)
            return
        try:
            external_id = await sender.send(bundle(rows))
        except RetryAfter as exc:
            # A platform's rate limit is not a failure of the message: the attempt is given back, and
            # the channel (or the platform) waits as long as it was asked to.
            log.info("outbox row %s: %s", row.id, exc)
            self.observe(row.platform, "rate_limited")
            await self._failed(rows, str(exc), attempts_back=1)
            await self._hold_rate_limited(row, exc)
        except PermanentFailure as exc:
            log.warning("outbox row %s dead: %s", row.id, exc)
            self.observe(row.platform, "dead")
            for each in rows:
                await self._finish(each, state=OutboxState.dead, last_error=str(exc))
        except Exception as exc:  # anything else is worth another try, after the channel's backoff
            hold = self._holds.get((row.platform, row.channel))
            failures = (hold.failures if hold is not None else 0) + 1
            delay = backoff(failures)
            self.observe(row.platform, "failed")
            log.info("outbox row %s failed (%s in a row on its channel), channel held %.0fs: %r", row.id, failures,
                     delay, exc)
            await self._failed(rows, repr(exc))
            await self._hold(row.platform, row.channel, self.now() + timedelta(seconds=delay), repr(exc)[:500])
        else:
            self.observe(row.platform, "sent")
            # A row sent again after a crash keeps the note that it may have arrived twice.
            note = case((OutboxMessage.last_error.like(f"{CRASHED}%"), OutboxMessage.last_error), else_=None)
            for each in rows:
                await self._finish(each, state=OutboxState.sent, sent_at=self.now(), external_id=external_id,
                                   last_error=note, failing_since=None)
            if (row.platform, row.channel) in self._holds:
                await self._unhold(row.platform, row.channel)

    async def _failed(self, rows: list[OutboxMessage], error: str, *, attempts_back: int = 0) -> None:
        """Rows whose send failed go back to pending where they were in their channel's queue —
        unless they have been failing for longer than the give-up time."""
        now = self.now()
        for each in rows:
            since = _aware(each.failing_since) if each.failing_since else now
            if now - since >= self.give_up:
                log.warning("outbox row %s dead: failing since %s: %s", each.id, since, error)
                await self._finish(each, state=OutboxState.dead, last_error=error)
            else:
                await self._finish(each, state=OutboxState.pending, attempts=each.attempts - attempts_back,
                                   claimed_at=None, last_error=error, failing_since=since)

    async def _hold_rate_limited(self, row: OutboxMessage, exc: RetryAfter) -> None:
        until = self.now() + timedelta(seconds=exc.seconds)
        reason = f"{RATE_LIMITED}: {exc}"[:500]
        if exc.scope == "platform":
            await self._hold(row.platform, PLATFORM, until, reason, failed=False)
            return
        await self._hold(row.platform, row.channel, until, reason, failed=False)
        # Another channel of the platform rate-limited right now too: the limit is the platform's
        # (a platform's per-workspace or per-bot limits), so every channel waits.
        async with self.db.session() as session:
            others = (await session.exec(select(func.max(OutboxHold.until)).where(
                OutboxHold.platform == row.platform, OutboxHold.channel != row.channel,
                OutboxHold.channel != PLATFORM, OutboxHold.until > self.now(),
                OutboxHold.reason.like(f"{RATE_LIMITED}%")))).first()
        if others is not None:
            await self._hold(row.platform, PLATFORM, max(until, _aware(others)), reason, failed=False)

    async def _hold(self, platform: str, channel: str, until: datetime, reason: str, *, failed: bool = True) -> None:
        """Hold a channel (or a platform) until ``until``; ``failed`` counts a failure in a row."""
        now = self.now()
        values = dict(platform=platform, channel=channel, until=until, failures=1 if failed else 0, reason=reason,
                      since=now)
        insert = pg_insert if self.db.is_postgres else sqlite_insert
        stmt = insert(OutboxHold).values(**values)
        table = OutboxHold.__table__
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "channel"],
            set_={"until": stmt.excluded.until, "reason": stmt.excluded.reason,
                  "failures": table.c.failures + (1 if failed else 0)})
        async with self.db.session() as session:
            await session.exec(stmt)  # type: ignore[call-overload]
            await session.commit()

    async def _unhold(self, platform: str, channel: str) -> None:
        async with self.db.session() as session:
            await session.exec(delete(OutboxHold).where(OutboxHold.platform == platform, OutboxHold.channel == channel))
            await session.commit()
        self._holds.pop((platform, channel), None)

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
        # Each platform's sender says how many messages a second one channel may have (about one, for most).
        rate = getattr(self.senders.get(row.platform), "per_channel_per_second", None)
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
        """Rows left ``sending``: sent if the platform has them, otherwise pending again. A platform
        that cannot be asked (``can_find`` false) may have the message already: it is sent again,
        once for this crash, and the row says so (decision 0017)."""
        now = self.now()
        query = select(OutboxMessage).where(OutboxMessage.state == OutboxState.sending)
        if stale_only:
            query = query.where(OutboxMessage.claimed_at < now - timedelta(seconds=self.settings.outbox_lease_seconds))
        async with self.db.session() as session:
            stuck = (await session.exec(query.limit(100))).all()
        for row in stuck:
            sender = self.senders.get(row.platform)
            found, askable = None, sender is None or can_find(sender, row)
            if sender is not None and askable:
                try:
                    found = await sender.find_sent(row)
                except Exception as exc:
                    log.warning("could not check outbox row %s on %s: %r", row.id, row.platform, exc)
                    continue
            async with self.db.session() as session:
                values = ({"state": OutboxState.sent, "sent_at": now, "external_id": found} if found
                          else {"state": OutboxState.pending, "next_attempt_at": now})
                if not askable:
                    values["last_error"] = (f"{CRASHED}, and {row.platform} cannot be asked whether it arrived: "
                                            f"sent again, so it may arrive twice")
                await session.exec(update(OutboxMessage)
                                   .where(OutboxMessage.id == row.id, OutboxMessage.state == OutboxState.sending,
                                          OutboxMessage.attempts == row.attempts)
                                   .values(**values))
                await session.commit()
            log.info("outbox row %s was left sending: %s", row.id, "already delivered" if found else
                     "sending again" if askable else f"sending again ({row.platform} cannot be asked; it may arrive twice)")
        return len(stuck)
