"""Group commit for submitted responses: submissions that arrive together are written in one
transaction (one multi-row INSERT for the responses, one for their answers, one UPDATE flagging
repeated text, one COMMIT), and each submitter is answered only after that COMMIT — so "stored
before the 201" still holds.

Why: every statement is a round trip to the database driver (a thread hop with aiosqlite), and
SQLite has one writer at a time. Writing one response per transaction makes writers queue in
SQLite's busy handler, which sleeps; batching keeps throughput up and the tail short under a
burst, and costs nothing when submissions come one at a time (a batch of one).
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
from storage.models import Answer, Response

log = logging.getLogger("cyswllt.responses")

MAX_BATCH = 200
RESPONSES = Response.__table__
ANSWERS = Answer.__table__

FLAG_DUPLICATES = text(
    "UPDATE response SET duplicate_of_id = (SELECT min(earlier.id) FROM response AS earlier"
    " WHERE earlier.consultation_id = response.consultation_id AND earlier.text_hash = response.text_hash"
    " AND earlier.id < response.id AND earlier.withdrawn_at IS NULL)"
    " WHERE response.id IN :ids AND response.text_hash IS NOT NULL"
).bindparams(bindparam("ids", expanding=True))


@dataclass
class Pending:
    response: dict[str, Any]  # column values for the response row
    answers: list[dict[str, Any]]  # column values for its answers, without response_id
    done: asyncio.Future


class ResponseWriter:
    """One per database engine; a drain task runs only while submissions are waiting."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.waiting: list[Pending] = []
        self.drain: asyncio.Task | None = None

    async def write(self, response: dict[str, Any], answers: list[dict[str, Any]]) -> int:
        """Store a response and its answers; returns the response id once committed."""
        pending = Pending(response, answers, asyncio.get_running_loop().create_future())
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
                _settle(pending, result=response_id)

    async def _insert(self, batch: list[Pending]) -> list[int]:
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
