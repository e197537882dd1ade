"""Analysis after storage: language, sentiment, themes and redaction for each stored response,
retried with backoff when it fails, and never at the cost of the response itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from aiohttp import web
from sqlmodel import select

from cyswllt.appkeys import DB, SETTINGS
from engagement import analysis
from storage.db import Database
from storage.models import AnalysisState, Answer, Response, utcnow

log = logging.getLogger("cyswllt.analysis")

MAX_ATTEMPTS = 5


PLACEHOLDER = re.compile(r"\[(?:email|phone|postcode|name)\]")


def _scrubbed(text: str, names: list[str]) -> str:
    """The text with personal data taken out entirely, placeholders too, so no theme can hold it."""
    return PLACEHOLDER.sub(" ", analysis.redact(text, names))


class AnalysisWorker:
    def __init__(self, db: Database, *, analyse: Callable = analysis.analyse, now: Callable[[], datetime] = utcnow,
                 poll_seconds: float = 2.0) -> None:
        self.db = db
        self.analyse = analyse
        self.now = now
        self.poll_seconds = poll_seconds
        self.wake = asyncio.Event()
        # Responses that failed wait before their next try: id -> not before.
        self._not_before: dict[int, datetime] = {}
        # Where the next pass starts: passes walk the pending rows in id order and wrap around, so rows
        # that are waiting to be retried never hide newer ones behind them.
        self._cursor = 0

    async def run(self) -> None:
        while True:
            try:
                done = await self.analyse_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("analysis pass failed")
                done = 0
            if done:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.poll_seconds)
            self.wake.clear()

    async def analyse_pending(self, limit: int = 50) -> int:
        now = self.now()
        page = limit * 2
        while True:
            async with self.db.session() as session:
                ids = (await session.exec(
                    select(Response.id).where(Response.analysis_state == AnalysisState.pending,
                                              Response.withdrawn_at.is_(None),
                                              Response.analysis_attempts < MAX_ATTEMPTS, Response.id > self._cursor)
                    .order_by(Response.id).limit(page))).all()
            due = [i for i in ids if self._not_before.get(i, now) <= now][:limit]
            if len(due) == limit:
                self._cursor = due[-1]
            else:
                self._cursor = ids[-1] if len(ids) == page else 0
            if due or self._cursor == 0:
                break
        for response_id in due:
            await self.analyse_one(response_id)
        return len(due)

    async def analyse_one(self, response_id: int) -> None:
        async with self.db.session() as session:
            response = await session.get(Response, response_id)
            if response is None or response.withdrawn_at is not None:
                return
            answers = (await session.exec(select(Answer).where(Answer.response_id == response_id))).all()
            names = [response.name] if response.name else []
            try:
                texts = [response.text or ""] + [a.text or "" for a in answers]
                whole = " ".join(t for t in texts if t)
                given = response.language if response.language_given else None
                # Themes are shown to others, so they come from the redacted words.
                overall = self.analyse(_scrubbed(whole, names), given)
                for answer in answers:
                    result = self.analyse(_scrubbed(answer.text or "", names), given or overall.language)
                    answer.language, answer.sentiment = result.language, result.sentiment
                    answer.polarity, answer.confidence, answer.themes = result.polarity, result.confidence, result.themes
                    answer.redacted_text = analysis.redact(answer.text or "", names)
                    session.add(answer)
            except Exception as exc:  # the response stays, listed as pending, and is tried again later
                response.analysis_attempts += 1
                response.analysis_error = repr(exc)[:2000]
                if response.analysis_attempts >= MAX_ATTEMPTS:
                    response.analysis_state = AnalysisState.failed
                delay = min(3600, 5 * 2 ** response.analysis_attempts) * random.uniform(0.5, 1.5)
                if response.analysis_state == AnalysisState.failed:
                    self._not_before.pop(response_id, None)
                else:
                    self._not_before[response_id] = self.now() + timedelta(seconds=delay)
                log.warning("analysis of response %s failed (attempt %s): %r", response_id,
                            response.analysis_attempts, exc)
                session.add(response)
                await _commit_unless_withdrawn(session, response_id)
                return
            response.language = overall.language
            response.sentiment, response.polarity, response.confidence = overall.sentiment, overall.polarity, overall.confidence
            response.themes = overall.themes
            response.redacted_text = analysis.redact(response.text or "", names) if response.text else None
            response.analysis_state = AnalysisState.done
            response.analysis_error = None
            response.analysed_at = self.now()
            session.add(response)
            await _commit_unless_withdrawn(session, response_id)
            self._not_before.pop(response_id, None)


async def _commit_unless_withdrawn(session, response_id: int) -> bool:
    """Commit the analysis unless the response was withdrawn meanwhile: its words must stay deleted.

    Our UPDATEs go first, so the row is ours (PostgreSQL row lock; SQLite's one writer) until COMMIT;
    a withdrawal that committed before them is seen by the check, one after them waits and wins."""
    await session.flush()
    withdrawn = (await session.exec(select(Response.withdrawn_at).where(Response.id == response_id)
                                    .with_for_update())).first()
    if withdrawn is not None:
        await session.rollback()
        return False
    await session.commit()
    return True


ANALYSER = web.AppKey("analysis_worker", AnalysisWorker)


def wake_analysis(app: web.Application) -> None:
    worker = app.get(ANALYSER)
    if worker is not None:
        worker.wake.set()


async def analysis_ctx(app: web.Application):
    worker = app[ANALYSER]
    task = asyncio.create_task(worker.run(), name="analysis-worker")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def setup(app: web.Application) -> None:
    # The worker exists even when it does not run, so a submission can always try to wake it.
    app[ANALYSER] = AnalysisWorker(app[DB])
    if app[SETTINGS].analysis_enabled:
        app.cleanup_ctx.append(analysis_ctx)
