"""Group commit for submitted responses: submissions that arrive together are written in one
transaction (the responses, their answers, repeated text flagged, one COMMIT), and each submitter is
answered only after that COMMIT — so "stored before the 201" still holds.

Why: SQLite has one writer at a time, and every statement is a round trip. Writing one response per
transaction makes writers queue (in SQLite's busy handler, which sleeps); batching keeps throughput up
and the tail short under a burst, and costs nothing when submissions come one at a time (a batch of
one). The batch goes through a dedicated driver connection (``storage.direct``): on SQLite the whole
transaction is one message to the writer process, on PostgreSQL one statement (two when a batch holds
the same words twice); elsewhere (an in-memory SQLite) through the engine as before. Several batches
may be under way at once, so that the event loop answers one batch's callers while the next is written
(``ResponseWriter._drain``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import bindparam, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from cyswllt.outage import is_unavailable
from engagement import ratelimit
from storage.direct import Shape, direct_for
from storage.models import Answer, Response

log = logging.getLogger("cyswllt.responses")

MAX_BATCH = 200
SPLIT_FROM = 8  # a burst of this many or more, with nothing under way, goes as two batches
ANSWERS_A_STATEMENT = 300  # rows: 900 values, well within SQLite's limit
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
        # Batches handed to the database at once, at most (see _drain): SQLite's writer process takes them
        # one after another without waiting for the loop, so more of them keep it busy; PostgreSQL's one
        # connection runs one statement at a time.
        self.under_way = 4 if self.direct is not None and self.direct.kind == "sqlite" else 2

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

    async def warm(self) -> None:
        """Start SQLite's writer process with what it runs loaded (an empty turn), before it is needed."""
        if self.direct is not None and self.direct.kind == "sqlite":
            await self.direct.sqlite(partial(_store_sqlite, names=[], rows=[], references=[], answers=[], words=[],
                                             counted=[], hits=[], forget=False))

    async def _drain(self) -> None:
        """Write what is waiting, a batch at a time, with several batches under way on the direct paths
        (``under_way``): while one is written, the callers of the one before are answered (they have the
        event loop to themselves then), and their next requests are read. With one batch at a time, every
        request in flight waited for the same turn, and the loop sat idle while it was written. A burst
        that finds nothing under way is split in two to start that.

        Not where several processes write one SQLite file (``under_way`` is 1 there): each turn there
        begins by reading again the pages the other process changed, so more turns cost more than they
        give, and each process keeps its batches whole."""
        flying: set[asyncio.Task] = set()
        most = self.under_way if self.direct is not None else 1
        while self.waiting or flying:
            if self.waiting and len(flying) < most:
                take = len(self.waiting) if flying or most == 1 or len(self.waiting) < SPLIT_FROM \
                    else (len(self.waiting) + 1) // 2
                batch, self.waiting = self.waiting[:min(take, MAX_BATCH)], self.waiting[min(take, MAX_BATCH):]
                batch = [p for p in batch if not p.done.cancelled()]
                if batch:
                    flying.add(asyncio.create_task(self._write_batch(batch), name="response-batch"))
                continue
            _, flying = await asyncio.wait(flying, return_when=asyncio.FIRST_COMPLETED)

    async def _write_batch(self, batch: list[Pending]) -> None:
        try:
            ids = await self._insert(batch)
        except Exception as exc:
            if len(batch) == 1 or is_unavailable(exc):  # the database is down: every row would fail alike
                for pending in batch:
                    _settle(pending, exception=exc)
                return
            # One bad row must not fail its neighbours: write them one by one.
            log.warning("a batch of %s responses failed (%r); writing them one by one", len(batch), exc)
            for pending in batch:
                try:
                    (response_id,) = await self._insert([pending])
                except Exception as one:
                    _settle(pending, exception=one)
                else:
                    _settle_with(pending, response_id)
            return
        for pending, response_id in zip(batch, ids):
            _settle_with(pending, response_id)

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
        """One turn of the writer process, in its transaction (``Direct.sqlite``): the submissions counted
        (those that come with their count), then the responses still allowed, their answers, repeats
        within the batch flagged (``_store_sqlite``)."""
        responses = self._shape(batch)
        counted = [i for i, p in enumerate(batch) if p.rate is not None]
        work = partial(
            _store_sqlite, names=responses.names, rows=[responses.values(p.response) for p in batch],
            references=[p.response["reference"] for p in batch],
            answers=[[(a["question_id"], a.get("text")) for a in p.answers] for p in batch],
            words=[(p.response["consultation_id"], p.response.get("text_hash")) for p in batch],
            counted=counted, hits=[(batch[i].rate.limit, batch[i].rate.client) for i in counted],
            forget=batch[counted[0]].rate.counts.forget_due() if counted else False)
        outcomes = await self.direct.sqlite(work, ends_turn=True)
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
        repeats = _repeats([(p.response["consultation_id"], p.response.get("text_hash")) for p in batch])

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


def _repeats(words: list[tuple]) -> list[int]:
    """Positions of responses whose words (consultation, words' hash) an earlier response in the same batch
    already holds (the insert flags repeats of what was stored before; these are flagged after it)."""
    seen: set[tuple] = set()
    repeats = []
    for i, key in enumerate(words):
        if key[1] is not None and key in seen:
            repeats.append(i)
        seen.add(key)
    return repeats


def _store_sqlite(conn, *, names: list[str], rows: list[list], references: list[str], answers: list[list[tuple]],
                  words: list[tuple], counted: list[int], hits: list[tuple], forget: bool
                  ) -> list[int | ratelimit.RateLimited]:
    """In the writer process, in its transaction: count the submissions that came with their count, store
    the responses still allowed (each flagged against earlier words already stored) and their answers, and
    flag repeats within the batch. A statement a step, not a row. Each response's id, or its refusal."""
    outcomes: list[int | ratelimit.RateLimited] = [0] * len(rows)
    if counted:
        for i, wait in zip(counted, ratelimit.count_in(conn, hits, forget)):
            if wait:
                outcomes[i] = ratelimit.RateLimited(wait)
    kept = [i for i in range(len(rows)) if not outcomes[i]]
    if not kept:
        return outcomes
    one = "(" + ", ".join("?" * len(names)) + ")"
    hashed = names.index("text_hash") + 1  # (it holds the consultation: see FLAG_DUPLICATES_SQL)
    last = conn.execute(
        f"INSERT INTO response ({', '.join(names)}, duplicate_of_id) SELECT *, (SELECT min(e.id) FROM "
        f"response AS e WHERE e.text_hash = v.column{hashed} AND e.withdrawn_at IS NULL) FROM (VALUES "
        + ", ".join([one] * len(kept)) + ") AS v", [v for i in kept for v in rows[i]]).lastrowid
    for i, response_id in zip(kept, _sqlite_ids(conn, [references[i] for i in kept], last)):
        outcomes[i] = response_id
    answer_rows = [(outcomes[i], question_id, text) for i in kept for question_id, text in answers[i]]
    for at in range(0, len(answer_rows), ANSWERS_A_STATEMENT):
        chunk = answer_rows[at:at + ANSWERS_A_STATEMENT]
        conn.execute("INSERT INTO answer (response_id, question_id, text) VALUES "
                     + ", ".join(["(?, ?, ?)"] * len(chunk)), [v for row in chunk for v in row])
    repeats = _repeats([words[i] for i in kept])
    if repeats:
        later = [outcomes[kept[i]] for i in repeats]
        conn.execute(FLAG_DUPLICATES_SQL + " IN (" + ", ".join("?" * len(later)) + ")", later)
    return outcomes


def _sqlite_ids(conn, references: list[str], last: int) -> list[int]:
    """The ids the rows just inserted by one statement were given, in the order of their references. An
    INSERT into a table whose key is its rowid numbers its rows one after another, ending at ``last``: one
    read checks that, and the references are looked up by name only if it does not hold."""
    first = last - len(references) + 1
    (stored,) = conn.execute("SELECT group_concat(reference, ' ') FROM (SELECT reference FROM response "
                             "WHERE id BETWEEN ? AND ? ORDER BY id)", (first, last)).fetchone()
    if stored == " ".join(references):
        return list(range(first, last + 1))
    found = dict(conn.execute(f"SELECT reference, id FROM response WHERE reference IN "
                              f"({', '.join('?' * len(references))})", references).fetchall())
    return [found[reference] for reference in references]


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


def _settle_with(pending: Pending, outcome: int | ratelimit.RateLimited) -> None:
    """Answer a caller with its response's id, or with the refusal its count met."""
    if isinstance(outcome, ratelimit.RateLimited):
        _settle(pending, exception=outcome)
    else:
        _settle(pending, result=outcome)


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
