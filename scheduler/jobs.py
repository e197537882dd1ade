"""Scheduled jobs: each decides what is due and enqueues it; the outbox decides when it is sent.

Every job takes ``(db, settings, now)`` and returns how many messages it queued. Idempotency
keys are kind + recipient + subject + period, so running a job twice queues once. On
PostgreSQL each run holds an advisory lock, so of several replicas one sweeps at a time.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, partial
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_date
from sqlalchemy import and_, func, or_, text
from sqlmodel import select

from cyswllt.appkeys import DB, SETTINGS
from cyswllt.i18n import babel_locale, normalise_language, overdue_phrase, t
from scheduler.messages import plain_reply, reminder_payload
from scheduler.outbox import enqueue_many, known_keys
from storage.models import (
    Action,
    ActionLead,
    ActionUpdate,
    Board,
    Meeting,
    Member,
    Organisation,
    Person,
    Rag,
    Role,
    ScrutinyRequest,
    ScrutinyStatus,
    Snooze,
)
from storage.reach import reach

log = logging.getLogger("cyswllt.jobs")

DUE_SOON_DAYS = (7, 1)
STALE_DAYS = 30
CHASER_DAYS = 5

Job = Callable[..., Awaitable[int]]


# --- what a reminder looks like ------------------------------------------------------------


@lru_cache(maxsize=4096)
def _date(day: date, language: str) -> str:
    return format_date(day, format="long", locale=babel_locale(language))


@lru_cache(maxsize=4096)
def counted(language: str, key: str, count: int) -> str:
    """A phrase with a plural ("in 7 days", "mewn 7 diwrnod"): the plural rules are worked out once per count."""
    return t(language, key, count=count)


@dataclass
class Recipients:
    """Where each person's direct messages go, looked up once per sweep (``storage.reach``: their
    first usable platform in ``CYSWLLT_PLATFORM_ORDER``, else the console)."""

    people: dict[int, Person]
    channels: dict[int, tuple[str, str]]

    @classmethod
    async def load(cls, session, settings) -> Recipients:
        people = {p.id: p for p in (await session.exec(select(*PERSON_COLUMNS))).all()}
        return cls(people, await reach(session, settings.usable_platforms))

    def row(self, person_id: int, key: str, payload: dict[str, Any], language: str, kind: str) -> dict:
        platform, channel = self.channels[person_id]
        return {"key": key, "platform": platform, "channel": channel, "payload": payload,
                "language": language, "kind": kind, "recipient_id": person_id, "working_hours": True}


class Batch:
    """What a sweep decided: keys first, messages built only for keys not queued before."""

    def __init__(self, recipients: Recipients) -> None:
        self.recipients = recipients
        self.wanted: dict[str, tuple[int, str, str, Callable[[], dict[str, Any]]]] = {}

    def add(self, person_id: int, key: str, kind: str, language: str, build: Callable[[], dict[str, Any]]) -> None:
        """``build`` makes the payload, and is called only if the key is new."""
        self.wanted.setdefault(key, (person_id, kind, language, build))

    def remind(self, person_id: int, language: str, action, what: str, period: Any, message_key: str, *,
               kind: str = "reminder", **words: Any) -> None:
        """A reminder about ``action``, keyed ``WHAT:pPERSON:BOARD:REF:PERIOD`` and worded by
        ``message_key`` (with the action's ref and title, and ``words``) only if that key is new."""
        message = partial(t, language, message_key, ref=action.ref, title=title_in(language, action), **words)
        self.add(person_id, f"{what}:p{person_id}:{action.board_id}:{action.ref}:{period}", kind, language,
                 lambda: reminder_payload(message(), action.ref, action.rag))

    async def queue(self, session) -> int:
        known = await known_keys(session, list(self.wanted))
        rows = [self.recipients.row(person_id, key, build(), language, kind)
                for key, (person_id, kind, language, build) in self.wanted.items() if key not in known]
        return await enqueue_many(session, rows, known=known)


def title_in(language: str, action) -> str:
    """The action's title in the reader's language: its Welsh title, else the English marked "(yn Saesneg)"."""
    if language == "cy":
        return getattr(action, "title_cy", None) or f"{action.title} {_marker('cy')}"
    return action.title


@lru_cache(maxsize=2)
def _marker(language: str) -> str:
    return t(language, "common.fallback_marker")


def _plain(language: str, message: Callable[[], str], ref: str) -> Callable[[], dict[str, Any]]:
    return lambda: {"reply": plain_reply(language, message(), ref).to_dict()}


async def _snoozed(session, now: datetime) -> set[tuple[int, int]]:
    rows = (await session.exec(select(Snooze.action_id, Snooze.person_id).where(Snooze.until > now))).all()
    return set(rows)


def _today(settings, now: datetime) -> date:
    return now.astimezone(ZoneInfo(settings.timezone)).date()


def _local_midnight(day: date, settings) -> datetime:
    """The moment a local day begins, as UTC (what timestamps are compared with)."""
    return datetime.combine(day, time(0, 0), ZoneInfo(settings.timezone)).astimezone(UTC)


def _last_change(fallback):
    """Per action: when it was last updated (its newest update, else ``fallback``), as a column."""
    last = (select(ActionUpdate.action_id, func.max(ActionUpdate.created_at).label("at"))
            .group_by(ActionUpdate.action_id).subquery())
    return last, func.coalesce(last.c.at, fallback)


# The columns a sweep reads: plain rows load several times faster than ORM objects.
ACTION_COLUMNS = (Action.id, Action.board_id, Action.ref, Action.title, Action.title_cy, Action.owner_id, Action.due,
                  Action.rag)
PERSON_COLUMNS = (Person.id, Person.name, Person.email, Person.language)
_OPEN = (Action.rag.is_(None)) | (Action.rag != Rag.complete)


def _open_actions(*extra):
    return select(*ACTION_COLUMNS, *extra).where(_OPEN)


@dataclass
class Responsible:
    """Who is reminded about an action: its owner; only when it has no owner, the board members
    from its lead organisations (never the whole organisation when someone owns it)."""

    leads: dict[int, list[int]]  # action id -> lead organisation ids, for actions with no owner
    members: dict[tuple[int, int], list[int]]  # (board, organisation) -> person ids
    names: dict[int, str]  # organisation id -> name

    @classmethod
    async def load(cls, session) -> Responsible:
        leads: dict[int, list[int]] = {}
        for action_id, organisation_id in (await session.exec(
                select(ActionLead.action_id, ActionLead.organisation_id)
                .join(Action, Action.id == ActionLead.action_id)
                .where(Action.owner_id.is_(None), _OPEN).order_by(ActionLead.action_id, ActionLead.position))).all():
            leads.setdefault(action_id, []).append(organisation_id)
        members: dict[tuple[int, int], list[int]] = {}
        names: dict[int, str] = {}
        if leads:
            for board_id, organisation_id, person_id in (await session.exec(
                    select(Member.board_id, Member.organisation_id, Member.person_id)
                    .where(Member.organisation_id.is_not(None)))).all():
                members.setdefault((board_id, organisation_id), []).append(person_id)
            names = dict((await session.exec(select(Organisation.id, Organisation.name))).all())
        return cls(leads, members, names)

    def people(self, action) -> list[int]:
        if action.owner_id is not None:
            return [action.owner_id]
        seen: list[int] = []
        for organisation_id in self.leads.get(action.id, []):
            for person_id in self.members.get((action.board_id, organisation_id), []):
                if person_id not in seen:
                    seen.append(person_id)
        return seen

    def lead_names(self, action) -> str:
        return ", ".join(self.names[o] for o in self.leads.get(action.id, []) if o in self.names)


# --- the jobs -------------------------------------------------------------------------------


async def action_reminders(db, settings, now: datetime) -> int:
    """Due in 7 days and in 1 day; overdue, then weekly."""
    today = _today(settings, now)
    async with db.session() as session:
        recipients = await Recipients.load(session, settings)
        responsible = await Responsible.load(session)
        batch = Batch(recipients)
        snoozed = await _snoozed(session, now)
        actions = (await session.exec(_open_actions().where(Action.due.is_not(None),
                                                            Action.due <= today + timedelta(days=max(DUE_SOON_DAYS))))).all()
        for action in actions:
            left = (action.due - today).days
            for person_id in responsible.people(action):
                person = recipients.people.get(person_id)
                if person is None or (action.id, person.id) in snoozed:
                    continue
                lang = normalise_language(person.language)
                if left >= 0:
                    # The nearest threshold at or above the days left: 7 covers 2..7, 1 covers 0..1.
                    mark = min(d for d in DUE_SOON_DAYS if d >= left)
                    batch.remind(person.id, lang, action, f"reminder:due{mark}", action.due, "reminders.due_soon",
                                 when=counted(lang, "reminders.in_days", left), date=_date(action.due, lang))
                else:
                    week = (-left - 1) // 7
                    batch.remind(person.id, lang, action, "reminder:overdue", f"{action.due}:w{week}",
                                 "reminders.overdue", date=_date(action.due, lang),
                                 overdue=overdue_phrase(lang, action.due, today))
        added = await batch.queue(session)
        await session.commit()
    return added


async def stale_updates(db, settings, now: datetime) -> int:
    """A chaser before each board meeting; a reminder after 30 days without an update.

    The chaser goes to owners whose action has had no update since the last meeting. One nudge an
    action: the 30-day reminder is for actions nothing else is chasing, so it is not
    sent when the meeting chaser goes, nor for an overdue action (the overdue reminder asks for an
    update every week). An action still idle after its meeting has it then."""
    today = _today(settings, now)
    async with db.session() as session:
        recipients = await Recipients.load(session, settings)
        responsible = await Responsible.load(session)
        batch = Batch(recipients)
        snoozed = await _snoozed(session, now)
        meetings: dict[int, list[date]] = {}
        for board_id, held_on in (await session.exec(select(Meeting.board_id, Meeting.held_on)
                                                     .where(Meeting.kind == "board")
                                                     .order_by(Meeting.held_on))).all():
            meetings.setdefault(board_id, []).append(held_on)
        # Per board: the board meeting within CHASER_DAYS, and the one before today.
        chase: dict[int, tuple[date, date | None]] = {}
        for board_id, dates in meetings.items():
            upcoming = next((d for d in dates if today <= d <= today + timedelta(days=CHASER_DAYS)), None)
            if upcoming is not None:
                chase[board_id] = (upcoming, max((d for d in dates if d < today), default=None))
        # Only candidates leave the database: idle for STALE_DAYS and not overdue, or on a board
        # meeting soon and not updated since its last meeting. The loop makes the exact decision.
        last, changed = _last_change(Action.created_at)
        wanted = [and_(changed < _local_midnight(today - timedelta(days=STALE_DAYS - 1), settings),
                       or_(Action.due.is_(None), Action.due >= today))]
        for board_id, (_, previous) in chase.items():
            wanted.append(Action.board_id == board_id if previous is None else and_(
                Action.board_id == board_id, changed < _local_midnight(previous + timedelta(days=1), settings)))
        actions = (await session.exec(_open_actions(changed.label("changed"))
                                      .outerjoin(last, last.c.action_id == Action.id).where(or_(*wanted)))).all()
        zone = ZoneInfo(settings.timezone)
        for action in actions:
            updated = action.changed
            updated_day = updated.astimezone(zone).date() if updated.tzinfo else updated.date()
            upcoming, previous = chase.get(action.board_id, (None, None))
            idle = (today - updated_day).days
            for person_id in responsible.people(action):
                person = recipients.people.get(person_id)
                if person is None or (action.id, person.id) in snoozed:
                    continue
                lang = normalise_language(person.language)
                if upcoming is not None and (previous is None or updated_day <= previous):
                    batch.remind(person.id, lang, action, "reminder:chaser", upcoming, "reminders.chaser",
                                 date=_date(upcoming, lang))
                elif idle >= STALE_DAYS and (action.due is None or action.due >= today):
                    batch.remind(person.id, lang, action, "reminder:stale", updated_day, "reminders.stale",
                                 days=counted(lang, "common.days", idle))
        added = await batch.queue(session)
        await session.commit()
    return added


async def escalations(db, settings, now: datetime) -> int:
    """Red and due soon, red too long, or overdue too long: to the chair and secretariat, and the owner told."""
    today = _today(settings, now)
    grace_days = settings.escalation_grace_days
    within = timedelta(days=settings.escalate_red_within_days)
    period = today.toordinal() // grace_days
    async with db.session() as session:
        recipients = await Recipients.load(session, settings)
        responsible = await Responsible.load(session)
        batch = Batch(recipients)
        boards = dict((await session.exec(select(Board.id, Board.name))).all())
        leaders: dict[int, list[int]] = {}
        for board_id, person_id in (await session.exec(select(Member.board_id, Member.person_id).where(
                Member.role.in_([Role.chair, Role.secretariat])))).all():
            leaders.setdefault(board_id, []).append(person_id)
        last, changed = _last_change(Action.updated_at)
        grace = timedelta(days=grace_days)
        actions = (await session.exec(
            select(*ACTION_COLUMNS, Action.owner_email, changed.label("changed"))
            .outerjoin(last, last.c.action_id == Action.id)
            .where(_OPEN, or_(Action.due < today - grace,
                              and_(Action.rag == Rag.red, changed < now - grace),
                              and_(Action.rag == Rag.red, Action.due <= today + within))))).all()
        for action in actions:
            overdue = action.due is not None and (today - action.due).days > grace_days
            red_long = action.rag == Rag.red and (now - action.changed).days > grace_days
            # A red action due soon cannot wait out the grace period: it goes at once.
            red_soon = action.rag == Rag.red and action.due is not None and action.due <= today + within
            if not (overdue or red_long or red_soon):
                continue
            owner = recipients.people.get(action.owner_id)

            def state(lang: str, action=action, red_soon=red_soon) -> str:
                if action.due is not None and action.due < today:
                    return t(lang, "reminders.escalation_overdue", overdue=overdue_phrase(lang, action.due, today))
                if red_soon:
                    return t(lang, "reminders.escalation_red_soon",
                             when=counted(lang, "reminders.in_days", (action.due - today).days))
                return t(lang, "reminders.escalation_red")

            for person_id in leaders.get(action.board_id, []):
                lang = normalise_language(recipients.people[person_id].language)
                who = owner.name if owner else (action.owner_email or t(lang, "reminders.no_owner",
                                                                       leads=responsible.lead_names(action) or "—"))
                batch.remind(person_id, lang, action, "escalation", period, "reminders.escalation", kind="escalation",
                             board=boards[action.board_id], state=state(lang), owner=who)
            # The people who must act hear that it has gone to the board's leaders (unless they are them).
            for person_id in responsible.people(action):
                if person_id in leaders.get(action.board_id, []) or person_id not in recipients.people:
                    continue
                lang = normalise_language(recipients.people[person_id].language)
                batch.remind(person_id, lang, action, "escalation-owner", period, "reminders.escalation_owner",
                             kind="escalation", state=state(lang))
        added = await batch.queue(session)
        await session.commit()
    return added


async def scrutiny_overdue(db, settings, now: datetime) -> int:
    """Requests past their response date and not answered: scrutiny members reminded, requester told."""
    today = _today(settings, now)
    async with db.session() as session:
        recipients = await Recipients.load(session, settings)
        batch = Batch(recipients)
        requests = (await session.exec(select(ScrutinyRequest).where(
            ScrutinyRequest.status.not_in([ScrutinyStatus.responded, ScrutinyStatus.declined]),
            ScrutinyRequest.due < today))).all()
        members: dict[int, list[int]] = {}
        for board_id, person_id in (await session.exec(select(Member.board_id, Member.person_id).where(
                Member.role == Role.scrutiny))).all():
            members.setdefault(board_id, []).append(person_id)
        for request in requests:
            ref = f"S-{request.id}"
            for person_id in members.get(request.board_id, []):
                lang = normalise_language(recipients.people[person_id].language)
                message = partial(t, lang, "reminders.scrutiny_overdue", ref=ref, subject=request.subject_ref,
                            date=_date(request.due, lang), status=t(lang, f"handlers.status_{request.status}"))
                batch.add(person_id, f"scrutiny-overdue:p{person_id}:{ref}:{request.due}", "scrutiny", lang,
                          _plain(lang, message, ref))
            lang = normalise_language(recipients.people[request.requester_id].language)
            message = partial(t, lang, "reminders.scrutiny_overdue_requester", ref=ref, date=_date(request.due, lang))
            batch.add(request.requester_id, f"scrutiny-overdue:p{request.requester_id}:{ref}:{request.due}", "scrutiny", lang,
                      _plain(lang, message, ref))
        added = await batch.queue(session)
        await session.commit()
    return added


async def meeting_packs(db, settings, now: datetime) -> int:
    """The meeting pack to the chair and secretariat, CYSWLLT_MEETING_PACK_DAYS before each board meeting."""
    from handlers.packs import chat_text, copy_for, link
    from storage.packs import gather

    today = _today(settings, now)
    async with db.session() as session:
        meetings = (await session.exec(select(Meeting).where(
            Meeting.kind == "board", Meeting.held_on >= today,
            Meeting.held_on <= today + timedelta(days=settings.meeting_pack_days)).order_by(Meeting.held_on))).all()
        if not meetings:
            return 0
        leaders: dict[int, list[Person]] = {}
        for meeting in meetings:
            leaders[meeting.id] = (await session.exec(select(Person).join(Member, Member.person_id == Person.id).where(
                Member.board_id == meeting.board_id, Member.role.in_([Role.chair, Role.secretariat]))
                .order_by(Person.id))).all()
        known = await known_keys(session, [f"meeting-pack:p{p.id}:{m.id}" for m in meetings for p in leaders[m.id]])
        recipients = await Recipients.load(session, settings)
        batch = Batch(recipients)
        for meeting in meetings:
            wanted = [p for p in leaders[meeting.id] if f"meeting-pack:p{p.id}:{meeting.id}" not in known]
            if not wanted:
                continue
            pack = await gather(session, meeting, now, settings.timezone, settings.usable_platforms)
            for person in wanted:
                copy = await copy_for(session, meeting, person)
                lang = normalise_language(person.language)
                text_ = chat_text(pack, lang, link(settings, copy, meeting.held_on, language=lang),
                                  link(settings, copy, meeting.held_on, pdf=True, language=lang))
                batch.add(person.id, f"meeting-pack:p{person.id}:{meeting.id}", "meeting-pack", lang,
                          _plain(lang, lambda text_=text_: text_, None))
        added = await batch.queue(session)
        await session.commit()
    return added


async def snoozed_reminders(db, settings, now: datetime) -> int:
    """When a snooze ends ("remind me tomorrow / next week"), one more reminder."""
    from scheduler.followups import snoozed_reminders as remind

    return await remind(db, settings, now)


async def digests(db, settings, now: datetime) -> int:
    """Stakeholder digests on each group's own schedule."""
    # Imported here: charts bring in matplotlib, which `cyswllt jobs list` has no need of.
    from engagement.digest.schedule import enqueue_due_digests

    return await enqueue_due_digests(db, settings, now)


JOBS: dict[str, Job] = {
    "action-reminders": action_reminders,
    "stale-updates": stale_updates,
    "escalations": escalations,
    "scrutiny-overdue": scrutiny_overdue,
    "digests": digests,
    "snoozed-reminders": snoozed_reminders,
    "meeting-packs": meeting_packs,
}
# Sweeps are cheap and idempotent, so they run often; delivery waits for working hours.
INTERVAL_MINUTES = {"action-reminders": 30, "stale-updates": 60, "escalations": 60, "scrutiny-overdue": 60,
                    "digests": 15, "snoozed-reminders": 15, "meeting-packs": 60}


def job_lock_key(name: str) -> int:
    """The advisory-lock key of one job: the same number in every replica."""
    return zlib.crc32(f"cyswllt-job:{name}".encode())


async def run_job(name: str, db, settings, now: datetime | None = None) -> int | None:
    """Run one job under the replicas' advisory lock; None when another replica holds it."""
    from storage.models import utcnow

    now = now or utcnow()
    job = JOBS[name]
    try:
        if not db.is_postgres:
            queued = await job(db, settings, now)
        else:
            # The lock lives as long as this transaction, and goes with the connection if the process dies.
            async with db.engine.connect() as conn, conn.begin():
                got = (await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                          {"k": job_lock_key(name)})).scalar()
                if not got:
                    log.info("job %s is running on another replica", name)
                    return None
                queued = await job(db, settings, now)
                log.info("job %s queued %s message(s)", name, queued)
    except Exception as exc:
        await record_run(db, name, error=repr(exc))
        raise
    await record_run(db, name, queued=queued)
    return queued


async def record_run(db, name: str, *, queued: int = 0, error: str | None = None) -> None:
    """Note that a job ran to the end (or failed), for /metrics and /healthz; never fails the job."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from storage.models import JobRun, utcnow

    now = utcnow()
    values = ({"last_succeeded_at": now, "last_queued": queued} if error is None
              else {"last_failed_at": now, "last_error": error[:2000]})
    insert = pg_insert if db.is_postgres else sqlite_insert
    stmt = insert(JobRun).values(**{"name": name, "last_queued": queued, **values}).on_conflict_do_update(
        index_elements=["name"], set_=values)
    try:
        async with db.session() as session:
            await session.exec(stmt)  # type: ignore[call-overload]
            await session.commit()
    except Exception:
        log.warning("could not record the run of job %s", name, exc_info=True)


def trigger(name: str, settings):
    """Every INTERVAL_MINUTES from local midnight, so every replica and ``jobs list`` agree on the times."""
    from apscheduler.triggers.interval import IntervalTrigger

    zone = ZoneInfo(settings.timezone)
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return IntervalTrigger(minutes=INTERVAL_MINUTES[name], start_date=midnight, timezone=zone)


def next_run(name: str, settings, now: datetime | None = None) -> datetime | None:
    zone = ZoneInfo(settings.timezone)
    return trigger(name, settings).get_next_fire_time(None, now or datetime.now(zone))


def setup(app: web.Application) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from scheduler.service import SCHEDULER

    async def scheduler_ctx(app: web.Application):
        scheduler = AsyncIOScheduler(timezone=app[SETTINGS].timezone)
        app[SCHEDULER] = scheduler  # /healthz says whether it runs here
        running: set[asyncio.Task] = set()

        async def sweep(name: str) -> int | None:
            # Remembered so that shutting down lets a sweep in progress finish its transaction.
            task = asyncio.current_task()
            running.add(task)
            try:
                return await run_job(name, app[DB], app[SETTINGS])
            finally:
                running.discard(task)

        started = datetime.now(ZoneInfo(app[SETTINGS].timezone))
        for name in JOBS:
            scheduler.add_job(sweep, trigger(name, app[SETTINGS]), id=name, name=name, args=[name],
                              coalesce=True, max_instances=1)
            if name != "digests":
                # Reminder sweeps also run once at start-up, as a job of its own so the regular
                # times stay where `cyswllt jobs list` says; digests keep to their schedule.
                scheduler.add_job(sweep, "date", run_date=started, id=f"{name}@start", name=f"{name} (start-up)",
                                  args=[name], misfire_grace_time=300)
        scheduler.start()
        log.info("scheduler started: %s", ", ".join(JOBS))
        yield
        scheduler.pause()
        if running:
            await asyncio.wait(list(running), timeout=10)
        scheduler.shutdown(wait=False)

    app.cleanup_ctx.append(scheduler_ctx)
