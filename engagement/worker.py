"""Analysis after storage: language, sentiment, themes and redaction for each stored response,
retried with backoff when it fails, and never at the cost of the response itself.

New responses come first. When the analyser changes (``ANALYSER_VERSION``), responses analysed by an
older one are analysed again in the background, a few at a time between new ones, in short
transactions of ten, so submissions are not held up; a person's edits to themes and moderation are kept."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import or_
from sqlmodel import select

from cyswllt.appkeys import DB, METRICS, SETTINGS
from cyswllt.outage import HEALTH, DatabaseHealth, is_unavailable
from engagement import analysis
from engagement import themes as theme_store
from storage import tallies
from storage.db import Database
from storage.models import AnalysisState, Answer, ModerationState, Response, utcnow

log = logging.getLogger("cyswllt.analysis")

MAX_ATTEMPTS = 5
# Seconds analysis waits at most for a moment with no request in flight (see AnalysisWorker.give_way).
GIVE_WAY = 1.0
# Responses analysed and stored in one transaction: the digest's upkeep and the commit serve them all,
# and the write lock is held for a few tens of milliseconds.
BATCH = 10
# Responses analysed again per pass, and the pause after such a pass, when nothing new is waiting.
REANALYSE_BATCH = 20
REANALYSE_PAUSE = 0.05


class AnalysisWorker:
    def __init__(self, db: Database, *, analyse: Callable = analysis.analyse, now: Callable[[], datetime] = utcnow,
                 poll_seconds: float = 2.0, health: DatabaseHealth | None = None,
                 busy: Callable[[], bool] | None = None) -> None:
        self.db = db
        self.health = health
        # True while this process is answering requests: analysis gives way to them (see give_way).
        self.busy = busy
        self.warmed = asyncio.Event()  # set once the analysers are loaded (see warm_up)
        self.analyse = analyse
        self.now = now
        self.poll_seconds = poll_seconds
        self.wake = asyncio.Event()
        self.stopping = False  # set by stop(): finish the response in hand, then return
        # Responses that failed wait before their next try: id -> not before.
        self._not_before: dict[int, datetime] = {}
        # Where the next pass starts: passes walk the pending rows in id order and wrap around, so rows
        # that are waiting to be retried never hide newer ones behind them.
        self._cursor = 0

    async def warm_up(self) -> None:
        """The analysers' models and dictionaries load on first use, which held the event loop for up to
        seconds in the middle of the first requests: load them now, off the loop (start-up does not
        wait for it; analysis does)."""
        if self.analyse is analysis.analyse:
            await asyncio.to_thread(analysis.warm_up)
        self.warmed.set()

    def stop(self) -> None:
        """Stop after the response in hand (a pass cancelled in the middle of a query leaves the pool
        to log a failed reset)."""
        self.stopping = True
        self.wake.set()

    async def run(self) -> None:
        await self.warm_up()
        while not self.stopping:
            try:
                done = await self.analyse_pending()
                if not done and await self.reanalyse_stale():
                    await asyncio.sleep(REANALYSE_PAUSE)  # leave the database to submissions a moment
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_unavailable(exc) and self.health is not None:
                    self.health.failed(exc)  # one line an outage, however many passes meet it
                else:
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
        await self._in_batches(due)
        return len(due)

    async def _in_batches(self, ids: Sequence[int]) -> None:
        n = 0
        while n < len(ids) and not self.stopping:
            await self.give_way()
            if self.stopping:
                break
            # Still answering requests after giving way (a long burst): one response at a time, since a
            # batch holds the database's write lock for longer and the requests' writes would wait on it.
            size = 1 if self.busy is not None and self.busy() else BATCH
            await self.analyse_batch(ids[n:n + size])
            n += size

    async def give_way(self) -> None:
        """Wait while requests are being answered, up to GIVE_WAY seconds: a response is stored before the
        citizen is thanked, and its analysis can come later, so in a burst analysis falls behind (at about
        one response every GIVE_WAY seconds) and catches up when the burst is over."""
        if self.busy is None:
            return
        waited = 0.0
        while self.busy() and waited < GIVE_WAY:
            await asyncio.sleep(0.005)
            waited += 0.005

    async def reanalyse_stale(self, limit: int = REANALYSE_BATCH, consultation_id: int | None = None) -> int:
        """Analyse again up to ``limit`` responses analysed by an older analyser; how many were."""
        async with self.db.session() as session:
            query = (select(Response.id).where(
                Response.analysis_state == AnalysisState.done, Response.withdrawn_at.is_(None),
                or_(Response.analyser_version.is_(None), Response.analyser_version < analysis.ANALYSER_VERSION))
                .order_by(Response.id).limit(limit))
            if consultation_id is not None:
                query = query.where(Response.consultation_id == consultation_id)
            ids = (await session.exec(query)).all()
        await self._in_batches(ids)
        return len(ids)

    async def analyse_batch(self, ids: Sequence[int]) -> None:
        """Analyse these responses in one transaction (each statement of the digest's upkeep, and the
        commit, then serves them all). One whose analysis fails, or a batch whose storing fails or meets
        a withdrawal, is analysed again one response at a time, where a failure is that response's own."""
        # Dozens of small statements a response: on SQLite, all of them in one hop to the database's thread.
        alone = await self.db.run(lambda session: self._analyse_together(session, ids))
        for response_id in alone:
            if self.stopping:
                break
            await self.analyse_one(response_id)

    async def analyse_one(self, response_id: int) -> None:
        await self.db.run(lambda session: self._analyse_alone(session, response_id))

    def _results(self, response: Response, answers: Sequence[Answer]) -> Results:
        """The analysis of a response as a whole, of its general text and of each answer (raises as the
        analyser does; changes nothing)."""
        names = [response.name] if response.name else []
        texts = [response.text or ""] + [a.text or "" for a in answers]
        whole = "\n".join(t for t in texts if t)
        given = response.language if response.language_given else None
        overall = self.analyse(whole, given, names)
        # Each part in its own language unless the respondent chose one: a response may answer
        # one question in Welsh and another in English.
        if response.text and whole == response.text:  # no answers: the whole is the text
            parts = [(None, overall)]
        else:
            parts = [(None, self.analyse(response.text, given, names))] if response.text else []
        answered = [(answer, self.analyse(answer.text or "", given, names)) for answer in answers]
        return Results(response, overall, parts + [(a.question_id, result) for a, result in answered], answered)

    def _apply(self, session, found: Results, keys: list[str]) -> None:
        response = found.response
        for answer, result in found.answers:
            answer.language, answer.sentiment = result.language, result.sentiment
            answer.polarity, answer.confidence = result.polarity, result.confidence
            answer.themes = result.theme_keys
            answer.redacted_text = result.redacted
            session.add(answer)
        overall = found.overall
        response.language = overall.language
        response.sentiment, response.polarity, response.confidence = overall.sentiment, overall.polarity, overall.confidence
        response.themes = keys
        response.redacted_text = found.parts[0][1].redacted if response.text else None
        held = sorted({reason for _, result in found.parts for reason in result.held} | set(overall.held))
        if response.reviewed_at is None:  # a person's decision is never undone by the analyser
            if held and response.moderation_state == ModerationState.visible:
                response.moderation_state = ModerationState.held
                response.moderation_reason = "held: " + ", ".join(held)
            elif not held and response.moderation_state == ModerationState.held:
                response.moderation_state = ModerationState.visible
                response.moderation_reason = None
        response.analysis_state = AnalysisState.done
        response.analysis_error = None
        response.analysed_at = self.now()
        response.analyser_version = analysis.ANALYSER_VERSION
        session.add(response)

    async def _analyse_together(self, session, ids: Sequence[int]) -> list[int]:
        """Analyse and store ``ids`` in one transaction; returns those to be analysed alone."""
        responses = (await session.exec(select(Response).where(Response.id.in_(ids), Response.withdrawn_at.is_(None))
                                        .order_by(Response.id))).all()
        answers: dict[int, list[Answer]] = defaultdict(list)
        for answer in (await session.exec(select(Answer).where(Answer.response_id.in_([r.id for r in responses]))
                                          .order_by(Answer.id))).all():
            answers[answer.response_id].append(answer)
        batch, alone = [], []
        for response in responses:
            try:
                batch.append(self._results(response, answers[response.id]))
            except Exception:
                alone.append(response.id)  # analysed alone, where its failure is recorded
        kept = [found.response.id for found in batch]
        if not kept:
            return alone
        try:
            # From here to the commit, the digest's totals are kept right (after the analysis itself, so
            # the lock is held for as short a time as possible), for each consultation in turn.
            upkeeps = [await tallies.start(session, consultation_id, [
                found.response.id for found in batch if found.response.consultation_id == consultation_id])
                for consultation_id in sorted({found.response.consultation_id for found in batch})]
            for found in batch:
                self._apply(session, found, await theme_store.store(session, found.response, found.parts, kept))
            await theme_store.finish(session)
            for upkeep in upkeeps:
                await upkeep.finish(session)
            committed = await _commit_unless_withdrawn(session, kept)
        except Exception as exc:
            await session.rollback()
            theme_store.discard(session)
            log.info("storing the analysis of responses %s together failed (%r): each is stored alone", kept, exc)
            committed = False
        if not committed:
            return alone + kept
        for response_id in kept:
            self._not_before.pop(response_id, None)
        return alone

    async def _analyse_alone(self, session, response_id: int) -> None:
        response = await session.get(Response, response_id)
        if response is None or response.withdrawn_at is not None:
            return
        answers = (await session.exec(select(Answer).where(Answer.response_id == response_id)
                                      .order_by(Answer.id))).all()
        try:
            found = self._results(response, answers)
            # From here to the commit, the digest's totals are kept right.
            upkeep = await tallies.start(session, response.consultation_id, [response_id])
            self._apply(session, found, await theme_store.store(session, response, found.parts))
            await theme_store.finish(session)
            await upkeep.finish(session)
        except Exception as exc:  # the response stays, listed as pending, and is tried again later
            await session.rollback()
            theme_store.discard(session)
            await self._failed(session, response_id, exc)
            return
        if await _commit_unless_withdrawn(session, [response_id]):
            self._not_before.pop(response_id, None)

    async def _failed(self, session, response_id: int, exc: Exception) -> None:
        """Record a failed attempt; the response waits longer before each next one, up to MAX_ATTEMPTS."""
        response = await session.get(Response, response_id)
        if response is None:
            return
        # A response analysed before that fails again for good leaves what the digest counts.
        upkeep = await tallies.start(session, response.consultation_id, [response_id])
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
        await upkeep.finish(session)
        await _commit_unless_withdrawn(session, [response_id])


@dataclass
class Results:
    """What the analyser found in a response: the whole, each part (question id or None, its analysis)
    and each answer's own."""

    response: Response
    overall: analysis.Analysis
    parts: list[tuple[int | None, analysis.Analysis]]
    answers: list[tuple[Answer, analysis.Analysis]]


async def _commit_unless_withdrawn(session, response_ids: Sequence[int]) -> bool:
    """Commit the analysis unless a response was withdrawn meanwhile: its words must stay deleted.

    Our UPDATEs go first, so the row is ours (PostgreSQL row lock; SQLite's one writer) until COMMIT;
    a withdrawal that committed before them is seen by the check, one after them waits and wins."""
    await session.flush()
    withdrawn = (await session.exec(select(Response.id).where(Response.id.in_(response_ids),
                                                              Response.withdrawn_at.is_not(None))
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
    worker.stop()
    if not worker.warmed.is_set():
        task.cancel()  # still loading the analysers in a thread: nothing of the database's is in hand
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, timeout=10)


def setup(app: web.Application) -> None:
    # The worker exists even when it does not run, so a submission can always try to wake it.
    app[ANALYSER] = AnalysisWorker(app[DB], health=app[HEALTH], busy=app[METRICS].busy)
    if app[SETTINGS].analysis_enabled:
        app.cleanup_ctx.append(analysis_ctx)


def run_reanalyse(settings, args) -> int:
    """``cyswllt responses reanalyse --consultation SLUG``."""
    from cyswllt.cli import CommandError
    from storage.db import run_once
    from storage.models import Consultation

    async def work(db: Database) -> tuple[int, int]:
        async with db.session() as session:
            consultation = (await session.exec(select(Consultation).where(
                Consultation.slug == args.consultation))).first()
            if consultation is None:
                raise CommandError(f"there is no consultation “{args.consultation}”")
            marked = await theme_store.mark_for_reanalysis(session, consultation.id)
            await session.commit()
        done = 0
        if not args.queue_only:
            worker = AnalysisWorker(db)
            while count := await worker.reanalyse_stale(consultation_id=consultation.id):
                done += count
                await asyncio.sleep(REANALYSE_PAUSE)  # short transactions with room between for submissions
        return marked, done

    marked, done = run_once(settings.database_url, work)
    if args.queue_only:
        print(f"{marked} responses to {args.consultation} will be analysed again by the running service.")
    else:
        print(f"Analysed {done} of {marked} responses to {args.consultation} again "
              f"(analyser version {analysis.ANALYSER_VERSION}); edits people made to themes are kept.")
    return 0
