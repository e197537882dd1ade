"""Group commit for submitted responses: submissions that arrive together are written in one
transaction (the responses, their answers, repeated text flagged, one COMMIT), and each submitter is
answered only after that COMMIT — so "stored before the 201" still holds.

Why: SQLite has one writer at a time, and every statement is a round trip. Writing one response per
transaction makes writers queue (in SQLite's busy handler, which sleeps); batching keeps throughput up
and the tail short under a burst, and costs nothing when submissions come one at a time (a batch of
one). The batch goes through a dedicated driver connection (``storage.direct``): on SQLite the whole
transaction is one hop to the writer's own thread, on PostgreSQL one statement (two when a batch holds
the same words twice); elsewhere (an in-memory SQLite) through the engine as before.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from cyswllt.outage import is_unavailable
from engagement import ratelimit
from storage.direct import Shape, direct_for
from storage.models import Answer, Response

log = logging.getLogger("cyswllt.responses")

MAX_BATCH = 200
RESPONSES = Response.__table__
ANSWERS = Answer.__table__

# Flag repeated text in the same consultation against its first live occurrence ("WHERE response.id" and
# the ids follow). The words' hash holds the consultation too (``service._text_hash``), so earlier copies
# are found by the hash alone, through its index. (Naming the consultation as well let PostgreSQL, on a
# table not yet analysed, choose the consultation's index and read every response in it for each row.)
FLAG_DUPLICATES_SQL = (
    "UPDATE response SET duplicate_of_id = (SELECT min(earlier.id) FROM response AS earlier"
    " WHERE earlier.text_hash = response.text_hash"
    " AND earlier.id < response.id AND earlier.withdrawn_at IS NULL)"
    " WHERE response.text_hash IS NOT NULL AND response.id")
FLAG_DUPLICATES_PG = FLAG_DUPLICATES_SQL + " = ANY($1::integer[])"
FLAG_DUPLICATES = text(
    "UPDATE response SET duplicate_of_id = (SELECT min(earlier.id) FROM response AS earlier"
    " WHERE earlier.text_hash = response.text_hash"
    " AND earlier.id < response.id AND earlier.withdrawn_at IS NULL)"
    " WHERE response.id IN :ids AND response.text_hash IS NOT NULL"
).bindparams(bindparam("ids", expanding=True))


@dataclass
class Pending:
    response: dict[str, Any]  # column values for the response row
    answers: list[dict[str, Any]]  # column values for its answers, without response_id
    done: asyncio.Future
    rate: ratelimit.WithWrite | None = None  # the submission's count, taken in the same transaction


class ResponseWriter:
    """One per database engine; a drain task runs only while submissions are waiting."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.waiting: list[Pending] = []
        self.drain: asyncio.Task | None = None
        self.direct = direct_for(engine, "responses")
        self._shapes: dict[tuple[str, ...], Shape] = {}
        self._pg_statements: dict[tuple[str, ...], str] = {}

    async def write(self, response: dict[str, Any], answers: list[dict[str, Any]],
                    rate: ratelimit.WithWrite | None = None) -> int:
        """Store a response and its answers; returns the response id once committed. With ``rate``, the
        submission is counted in the same transaction, and ``ratelimit.RateLimited`` raised (nothing
        stored) when that puts its client over the limit."""
        if rate is not None and (self.direct is None or self.direct.kind != "sqlite"):
            rate.counted = True  # no transaction to share: counted first, on its own
            if wait := await rate.counts.hit(rate.limit, rate.client):
                raise ratelimit.RateLimited(wait)
            rate = None
        pending = Pending(response, answers, asyncio.get_running_loop().create_future(), rate)
        self.waiting.append(pending)
        if self.drain is None or self.drain.done():
            self.drain = asyncio.create_task(self._drain(), name="response-writer")
        return await pending.done

    async def _drain(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
            batch = [p for p in batch if not p.done.cancelled()]
            if not batch:
                continue
            try:
                ids = await self._insert(batch)
            except Exception as exc:
                if len(batch) == 1 or is_unavailable(exc):  # the database is down: every row would fail alike
                    for pending in batch:
                        _settle(pending, exception=exc)
                    continue
                # One bad row must not fail its neighbours: write them one by one.
                log.warning("a batch of %s responses failed (%r); writing them one by one", len(batch), exc)
                for pending in batch:
                    try:
                        (response_id,) = await self._insert([pending])
                    except Exception as one:
                        _settle(pending, exception=one)
                    else:
                        _settle(pending, result=response_id)
                continue
            for pending, response_id in zip(batch, ids):
                if isinstance(response_id, ratelimit.RateLimited):
                    _settle(pending, exception=response_id)
                else:
                    _settle(pending, result=response_id)

    async def _insert(self, batch: list[Pending]) -> list[int]:
        if self.direct is None:
            return await self._insert_through_engine(batch)
        if self.direct.kind == "sqlite":
            return await self._insert_sqlite(batch)
        return await self._insert_postgres(batch)

    def _shape(self, batch: list[Pending]) -> Shape:
        given = tuple(sorted({name for p in batch for name in p.response}))
        shape = self._shapes.get(given)
        if shape is None:
            shape = self._shapes[given] = Shape(RESPONSES, self.engine.dialect, given)
        return shape

    async def _insert_sqlite(self, batch: list[Pending]) -> list[int | ratelimit.RateLimited]:
        """One hop to the writer's own thread, in its transaction (``Direct.sqlite``): the submissions counted
        (those that come with their count), then the responses still allowed (each flagged against earlier
        words already stored), their answers, repeats within the batch flagged."""
        responses = self._shape(batch)
        rows = [responses.values(p.response) for p in batch]
        names = responses.names
        one = "(" + ", ".join("?" * len(names)) + ")"
        words = names.index("text_hash") + 1  # (it holds the consultation: see FLAG_DUPLICATES_SQL)
        counted = [i for i, p in enumerate(batch) if p.rate is not None]
        forget = batch[counted[0]].rate.counts.forget_due() if counted else False
        insert_answers = ("INSERT INTO answer (response_id, question_id, text) VALUES (?, ?, ?)")

        def work(conn) -> list[int | ratelimit.RateLimited]:
            outcomes: list[int | ratelimit.RateLimited] = [0] * len(batch)
            if counted:
                waits = ratelimit.count_in(conn, [(batch[i].rate.limit, batch[i].rate.client) for i in counted],
                                           forget)
                for i, wait in zip(counted, waits):
                    if wait:
                        outcomes[i] = ratelimit.RateLimited(wait)
            kept = [i for i in range(len(batch)) if not outcomes[i]]
            if not kept:
                return outcomes
            insert_responses = (
                f"INSERT INTO response ({', '.join(names)}, duplicate_of_id) SELECT *, (SELECT min(e.id) FROM "
                f"response AS e WHERE e.text_hash = v.column{words} AND e.withdrawn_at IS NULL) FROM (VALUES "
                + ", ".join([one] * len(kept)) + ") AS v RETURNING id, reference")
            ids_by_reference = {ref: i for i, ref in conn.execute(
                insert_responses, [v for i in kept for v in rows[i]]).fetchall()}
            for i in kept:
                outcomes[i] = ids_by_reference[batch[i].response["reference"]]
            answer_rows = [(outcomes[i], a["question_id"], a.get("text")) for i in kept for a in batch[i].answers]
            if answer_rows:
                conn.executemany(insert_answers, answer_rows)
            repeats = _repeats([batch[i] for i in kept])
            if repeats:
                later = [outcomes[kept[i]] for i in repeats]
                conn.execute(FLAG_DUPLICATES_SQL + " IN (" + ", ".join("?" * len(later)) + ")", later)
            return outcomes

        outcomes = await self.direct.sqlite(work)
        for i in counted:
            batch[i].rate.counted = True
        return outcomes

    async def _insert_postgres(self, batch: list[Pending]) -> list[int]:
        """One statement: the responses (each flagged against earlier text already stored) and their answers,
        from arrays. Repeats within the batch itself, when there are any, are flagged in the same
        transaction by a second statement."""
        responses = self._shape(batch)
        statement = self._pg_statements.get(tuple(responses.names))
        if statement is None:
            statement = self._pg_statements[tuple(responses.names)] = _postgres_insert(responses)
        columns = list(zip(*[responses.values(p.response) for p in batch]))
        answer_rows = [(p.response["reference"], a["question_id"], a.get("text")) for p in batch for a in p.answers]
        params = [list(c) for c in columns] + [[r[0] for r in answer_rows], [r[1] for r in answer_rows],
                                                [r[2] for r in answer_rows]]
        repeats = _repeats(batch)

        async def work(conn) -> list[int]:
            if not repeats:
                rows = await conn.fetch(statement, *params)
            else:
                async with conn.transaction():
                    rows = await conn.fetch(statement, *params)
                    by_reference = {r[1]: r[0] for r in rows}
                    await conn.execute(FLAG_DUPLICATES_PG,
                                       [by_reference[batch[i].response["reference"]] for i in repeats])
            ids_by_reference = {r[1]: r[0] for r in rows}
            return [ids_by_reference[p.response["reference"]] for p in batch]

        return await self.direct.pg_run(work)

    async def _insert_through_engine(self, batch: list[Pending]) -> list[int]:
        async with self.engine.begin() as conn:
            # One statement for all rows; ids come back in the order of the rows given.
            result = await conn.execute(
                insert(RESPONSES).returning(RESPONSES.c.id, sort_by_parameter_order=True),
                [p.response for p in batch])
            ids = [row[0] for row in result.all()]
            answers = [{**a, "response_id": response_id} for p, response_id in zip(batch, ids) for a in p.answers]
            if answers:
                await conn.execute(insert(ANSWERS), answers)
            # Flag repeated text in the same consultation against its first live occurrence.
            await conn.execute(FLAG_DUPLICATES, {"ids": ids})
        return ids


def _repeats(batch: list[Pending]) -> list[int]:
    """Positions of responses whose words an earlier response in the same batch already holds (the insert
    flags repeats of what was stored before; these are flagged after it)."""
    seen: set[tuple] = set()
    repeats = []
    for i, p in enumerate(batch):
        key = (p.response["consultation_id"], p.response.get("text_hash"))
        if key[1] is not None and key in seen:
            repeats.append(i)
        seen.add(key)
    return repeats


def _postgres_insert(shape: Shape) -> str:
    columns = ", ".join(shape.names)
    arrays = ", ".join(f"CAST(${i} AS {kind}[])" for i, kind in enumerate(shape.types, start=1))
    n = len(shape.names)
    return (
        f"WITH r AS (INSERT INTO response ({columns}, duplicate_of_id) "
        f"SELECT t.*, (SELECT min(e.id) FROM response AS e WHERE e.text_hash = t.text_hash "
        f"AND e.withdrawn_at IS NULL) "
        f"FROM unnest({arrays}) AS t({columns}) RETURNING id, reference), "
        f"a AS (INSERT INTO answer (response_id, question_id, text) SELECT r.id, x.question_id, x.text "
        f"FROM unnest(CAST(${n + 1} AS VARCHAR[]), CAST(${n + 2} AS INTEGER[]), CAST(${n + 3} AS TEXT[])) "
        f"AS x(reference, question_id, text) JOIN r ON r.reference = x.reference) "
        f"SELECT id, reference FROM r")


def _settle(pending: Pending, *, result: int | None = None, exception: BaseException | None = None) -> None:
    if pending.done.done():  # the submitter went away (client disconnected); the row stays stored
        return
    if exception is not None:
        pending.done.set_exception(exception)
    else:
        pending.done.set_result(result)


_writers: weakref.WeakKeyDictionary[AsyncEngine, ResponseWriter] = weakref.WeakKeyDictionary()


def writer_for(engine: AsyncEngine) -> ResponseWriter:
    """The writer for this engine (created on first use; nothing to start or stop)."""
    writer = _writers.get(engine)
    if writer is None:
        writer = _writers[engine] = ResponseWriter(engine)
    return writer
