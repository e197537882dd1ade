"""Per-client limits: submissions (CYSWLLT_RATE_LIMIT, e.g. "20/minute") for the form and the API,
and withdrawal attempts (CYSWLLT_WITHDRAWAL_RATE_LIMIT), so that codes cannot be guessed in bulk.

A client is a salted hash of its address (the address itself is never kept; behind a reverse proxy,
the address the trusted proxies report). Each client's window starts at its first request.

Where the counts live: in memory when one process serves (SQLite, one worker: O(1), nothing to
share); in the database (``ratecount``) whenever more than one process may serve — always on
PostgreSQL, which replicas share, and on SQLite with ``cyswllt serve --workers N`` (N > 1) — so the
limit holds across processes, replicas and restarts. Requests that arrive together are counted by
one statement (an upsert that returns the new counts), as responses are stored by group commit. In an
SQLite file, a submission to the API is counted in the same transaction as its response (``WithWrite``):
the file's writers take one turn for it, not two.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial

from aiohttp import web
from sqlalchemy import text

from cyswllt.appkeys import DB, SECRET, SETTINGS
from cyswllt.clients import client_address
from cyswllt.i18n import t
from storage.db import Database, is_sqlite_file
from storage.direct import direct_for

log = logging.getLogger("cyswllt.ratelimit")

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
MAX_CLIENTS = 100_000
SUBMIT, WITHDRAW = "submit", "withdraw"


def parse(spec: str, name: str = "CYSWLLT_RATE_LIMIT") -> tuple[int, int]:
    """"20/minute" -> (20, 60); also "5/10minutes", "100/hour"."""
    count, _, period = spec.strip().lower().partition("/")
    period = period.strip().rstrip("s") or "minute"
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits):].strip()
    if unit not in PERIODS or not count.strip().isdigit() or (digits and int(digits) == 0):
        raise ValueError(f"{name} must look like 20/minute or 5/10minutes, not {spec!r}")
    return int(count), PERIODS[unit] * (int(digits) if digits else 1)


@dataclass(frozen=True)
class Limit:
    bucket: str
    count: int
    window: int  # seconds


class MemoryCounts:
    """Counts for one process: fixed windows per client, the least recently seen forgotten first."""

    def __init__(self) -> None:
        self.clients: OrderedDict[tuple[str, str], tuple[float, int]] = OrderedDict()

    async def hit(self, limit: Limit, client: str, now: float | None = None) -> float:
        return self.hit_now(limit, client, now)

    def hit_now(self, limit: Limit, client: str, now: float | None = None) -> float:
        """Count one request; 0 when allowed, else the seconds until the client may try again."""
        now = time.monotonic() if now is None else now
        key = (limit.bucket, client)
        start, count = self.clients.get(key, (now, 0))
        if now - start >= limit.window:
            start, count = now, 0
        if count >= limit.count:
            self.clients.move_to_end(key)
            return max(1.0, limit.window - (now - start))
        self.clients[key] = (start, count + 1)
        self.clients.move_to_end(key)
        while len(self.clients) > MAX_CLIENTS:
            self.clients.popitem(last=False)
        return 0.0

    async def reset(self) -> None:
        self.clients.clear()


@dataclass
class _Hit:
    limit: Limit
    client: str
    done: asyncio.Future


# A client's window is reset when the stored one has ended; every SET reads the row as it was.
_UPSERT_SET = """
  count = CASE WHEN ratecount.expires <= excluded.window_start THEN excluded.count
               ELSE ratecount.count + excluded.count END,
  window_start = CASE WHEN ratecount.expires <= excluded.window_start THEN excluded.window_start
                      ELSE ratecount.window_start END,
  expires = CASE WHEN ratecount.expires <= excluded.window_start THEN excluded.expires
                 ELSE ratecount.expires END
RETURNING bucket, client, count, expires"""
# PostgreSQL: one statement from arrays, on a connection of its own whose commits do not wait for the
# disk (a count lost in a crash costs nothing; responses never share that connection).
_PG_UPSERT_SQL = (
    "INSERT INTO ratecount (bucket, client, window_start, expires, count) "
    "SELECT * FROM unnest(CAST($1 AS text[]), CAST($2 AS text[]), CAST($3 AS bigint[]), CAST($4 AS bigint[]), "
    "CAST($5 AS int[])) ON CONFLICT (bucket, client) DO UPDATE SET" + _UPSERT_SET)
_SESSION_SETUP = ("SET synchronous_commit TO OFF",)
_SQLITE_UPSERT_HEAD = "INSERT INTO ratecount (bucket, client, window_start, expires, count) VALUES "
_SQLITE_UPSERT_TAIL = " ON CONFLICT (bucket, client) DO UPDATE SET" + _UPSERT_SET
_FORGET_SQL = "DELETE FROM ratecount WHERE expires < ?"


def _sqlite_count(conn, rows: list[tuple], now_ms: int, forget: bool) -> dict:
    """On the SQLite writer's thread, in its transaction: one upsert for every client in the batch."""
    found = conn.execute(_SQLITE_UPSERT_HEAD + ", ".join(["(?, ?, ?, ?, ?)"] * len(rows)) + _SQLITE_UPSERT_TAIL,
                         [v for row in rows for v in row]).fetchall()
    if forget:
        conn.execute(_FORGET_SQL, (now_ms,))
    return {(r[0], r[1]): (r[2], r[3]) for r in found}


def _rows(hits: list[tuple[Limit, str]], now_ms: int) -> tuple[dict, dict, list[tuple]]:
    """The hits of a batch by client (each client's row once, with how many it adds)."""
    per_key: dict[tuple[str, str], list[int]] = {}
    limits: dict[tuple[str, str], Limit] = {}
    for i, (limit, client) in enumerate(hits):
        key = (limit.bucket, client)
        per_key.setdefault(key, []).append(i)
        limits[key] = limit
    rows = [(bucket, client, now_ms, now_ms + limits[(bucket, client)].window * 1000, len(positions))
            for (bucket, client), positions in per_key.items()]
    return per_key, limits, rows


def _waits(n: int, per_key: dict, limits: dict, counted: dict, now_ms: int) -> list[float]:
    """Each hit's wait (0: allowed), from its client's count after the batch."""
    waits = [0.0] * n
    for key, positions in per_key.items():
        count, expires = counted[key]
        limit = limits[key]
        first = count - len(positions) + 1  # the count this batch's first hit for the client was given
        for offset, i in enumerate(positions):
            if first + offset > limit.count:
                waits[i] = max(1.0, (expires - now_ms) / 1000)
    return waits


def count_in(conn, hits: list[tuple[Limit, str]], forget: bool) -> list[float]:
    """On the SQLite writer's thread, inside a transaction it is already in: count every hit (one upsert),
    and return each one's wait (0: allowed)."""
    now_ms = int(time.time() * 1000)
    per_key, limits, rows = _rows(hits, now_ms)
    return _waits(len(hits), per_key, limits, _sqlite_count(conn, rows, now_ms, forget), now_ms)


FORGET_EVERY = 60.0  # seconds between clearing out ended windows


class DatabaseCounts:
    """Counts shared through the database. Hits waiting together go in one transaction; each caller
    learns its own place in its client's count."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.waiting: list[_Hit] = []
        self.drain: asyncio.Task | None = None
        self.forgotten_at = 0.0
        # In an SQLite file a submission's count can go in its response's transaction (``WithWrite``).
        self.with_writes = is_sqlite_file(db.engine.url)

    async def hit(self, limit: Limit, client: str, now: float | None = None) -> float:
        hit = _Hit(limit, client, asyncio.get_running_loop().create_future())
        self.waiting.append(hit)
        if self.drain is None or self.drain.done():
            self.drain = asyncio.create_task(self._drain(), name="rate-counts")
        return await hit.done

    async def _drain(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            try:
                waits = await self._count(batch)
            except Exception as exc:
                for hit in batch:
                    if not hit.done.done():
                        hit.done.set_exception(exc)
                continue
            for hit, wait in zip(batch, waits):
                if not hit.done.done():
                    hit.done.set_result(wait)

    def forget_due(self) -> bool:
        """Whether ended windows should be cleared out with the next count (once every FORGET_EVERY)."""
        if time.monotonic() - self.forgotten_at <= FORGET_EVERY:
            return False
        self.forgotten_at = time.monotonic()
        return True

    async def _count(self, batch: list[_Hit]) -> list[float]:
        hits = [(hit.limit, hit.client) for hit in batch]
        forget = self.forget_due()
        direct = direct_for(self.db.engine, "rate-counts", _SESSION_SETUP if self.db.is_postgres else ())
        if direct is not None and direct.kind == "sqlite":
            return await direct.sqlite(partial(count_in, hits=hits, forget=forget))
        now_ms = int(time.time() * 1000)
        per_key, limits, rows = _rows(hits, now_ms)
        if direct is None:
            counted = await self._count_through_engine(rows, now_ms, forget)
        else:
            async def work(conn) -> dict:
                found = await conn.fetch(_PG_UPSERT_SQL, *[[r[i] for r in rows] for i in range(5)])
                if forget:
                    await conn.execute(_FORGET_SQL.replace("?", "$1"), now_ms)
                return {(r[0], r[1]): (r[2], r[3]) for r in found}

            counted = await direct.pg_run(work)
        return _waits(len(hits), per_key, limits, counted, now_ms)

    async def _count_through_engine(self, rows: list[tuple], now_ms: int, forget: bool) -> dict:
        async with self.db.engine.begin() as conn:
            values = ", ".join(f"(:b{i}, :c{i}, :s{i}, :e{i}, :n{i})" for i in range(len(rows)))
            params = {}
            for i, (bucket, client, start, end, n) in enumerate(rows):
                params.update({f"b{i}": bucket, f"c{i}": client, f"s{i}": start, f"e{i}": end, f"n{i}": n})
            result = await conn.execute(text(_SQLITE_UPSERT_HEAD + values + _SQLITE_UPSERT_TAIL), params)
            counted = {(bucket, client): (count, expires) for bucket, client, count, expires in result.all()}
            if forget:
                await conn.execute(text(_FORGET_SQL.replace("?", ":now")), {"now": now_ms})
        return counted

    async def reset(self) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM ratecount"))


class RateLimiter:
    def __init__(self, counts: MemoryCounts | DatabaseCounts, submit: Limit, withdraw: Limit) -> None:
        self.counts = counts
        self.limits = {SUBMIT: submit, WITHDRAW: withdraw}

    @property
    def shared(self) -> bool:
        return isinstance(self.counts, DatabaseCounts)

    async def hit(self, bucket: str, client: str) -> float:
        return await self.counts.hit(self.limits[bucket], client)

    async def reset(self, **limits: str) -> None:
        """Forget every count, and optionally set limits, e.g. ``reset(submit="1/minute")`` (tests)."""
        await self.counts.reset()
        for bucket, spec in limits.items():
            self.limits[bucket] = Limit(bucket, *parse(spec))


LIMITER = web.AppKey("rate_limiter", RateLimiter)


_CLIENT_HASH = web.RequestKey("client_hash", str)


async def client_of(request: web.Request) -> str:
    """The salted hash that stands for this client (worked out once a request)."""
    known = request.get(_CLIENT_HASH)
    if known is None:
        from engagement.service import client_hash

        known = request[_CLIENT_HASH] = client_hash(await request.app[SECRET].get(), client_address(request))
    return known


async def check_rate(request: web.Request, language: str = "en", bucket: str = SUBMIT) -> None:
    """Raise 429 (with Retry-After) when this client has sent too many requests of this kind."""
    wait = await request.app[LIMITER].hit(bucket, await client_of(request))
    if wait:
        raise too_many(request, language, bucket, wait)


def too_many(request: web.Request, language: str, bucket: str, wait: float) -> web.HTTPTooManyRequests:
    """The 429 for a client that must wait ``wait`` seconds."""
    seconds = math.ceil(wait)
    message = t(language, "consultation.rate_limited" if bucket == SUBMIT else "consultation.withdraw_rate_limited",
                seconds=seconds)
    headers = {"Retry-After": str(seconds)}
    if request.path.startswith("/api/"):
        return web.HTTPTooManyRequests(text=json.dumps({"error": message}, ensure_ascii=False),
                                       content_type="application/json", headers=headers)
    return web.HTTPTooManyRequests(text=message, headers=headers)


class RateLimited(Exception):
    """A submission whose count, taken with its response, was over the limit: the response was not stored."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"over the limit for {wait:.0f} s")
        self.wait = wait

    def __reduce__(self):  # (it comes back from the writer process)
        return RateLimited, (self.wait,)


@dataclass
class WithWrite:
    """A submission's count, taken in the same transaction as its response (``engagement.writer``) when
    the counts are shared through an SQLite file: one turn of the file's writers a submission, not one
    to count it and another to store it. A submission refused before it is written (not valid, closed)
    is counted on its own, by ``count_alone``, so every attempt still counts."""
    counts: DatabaseCounts
    limit: Limit
    client: str
    counted: bool = False


async def with_write(request: web.Request) -> WithWrite | None:
    """This submission's count, to be taken with its response; None when the counts cannot go with it
    (kept in memory, or in PostgreSQL): then ``check_rate`` counts it first, as any other request."""
    limiter = request.app[LIMITER]
    counts = limiter.counts
    if not isinstance(counts, DatabaseCounts) or not counts.with_writes:
        return None
    return WithWrite(counts, limiter.limits[SUBMIT], await client_of(request))


async def count_alone(request: web.Request, language: str, pending: WithWrite) -> None:
    """Count a submission that was not written (so its count did not go with it): 429 when over the limit."""
    if pending.counted:
        return
    pending.counted = True
    wait = await pending.counts.hit(pending.limit, pending.client)
    if wait:
        raise too_many(request, language, SUBMIT, wait)


def shared_counts(settings, db: Database) -> bool:
    """Whether more than one process may serve: replicas share a PostgreSQL database; SQLite is one
    host, shared only by ``serve --workers N``."""
    return db.is_postgres or settings.workers > 1


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    submit = Limit(SUBMIT, *parse(settings.rate_limit))
    withdraw = Limit(WITHDRAW, *parse(settings.withdrawal_rate_limit, "CYSWLLT_WITHDRAWAL_RATE_LIMIT"))
    counts = DatabaseCounts(app[DB]) if shared_counts(settings, app[DB]) else MemoryCounts()
    app[LIMITER] = RateLimiter(counts, submit, withdraw)
