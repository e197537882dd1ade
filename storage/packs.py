"""What goes in a board meeting's pack, read from the database: the actions that need the board's
attention (red, overdue or stale), what changed since the last board meeting, scrutiny scheduled for
or due by the meeting, consultations closing before it or closed since the last one, and the members
nobody can reach. The pack is rendered (HTML, PDF, chat) elsewhere; this module only gathers."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Action,
    ActionUpdate,
    Board,
    Consultation,
    Meeting,
    Member,
    Organisation,
    Person,
    Rag,
    Response,
    ScrutinyRequest,
    ScrutinyStatus,
)
from storage.queries import leads_for, ref_number
from storage.reach import unreachable

# An open action with no update for this long is stale (the same as the 30-day reminder).
STALE_DAYS = 30


@dataclass
class PackAction:
    ref: str
    title: str
    rag: str | None
    due: date | None
    due_text: str | None
    owner: str | None
    leads: list[str]
    last_update: date | None
    last_note: str | None
    title_cy: str | None = None
    red: bool = False
    overdue: bool = False
    stale: bool = False


@dataclass
class PackChange:
    ref: str
    title: str
    before: str | None
    after: str | None
    updates: int
    latest_note: str | None
    latest_on: date
    title_cy: str | None = None


@dataclass
class PackScrutiny:
    ref: str
    subject_ref: str
    question: str
    status: str
    due: date | None
    committee_date: date | None
    response: str | None
    decline_reason: str | None


@dataclass
class PackConsultation:
    slug: str
    title_en: str
    title_cy: str
    closes_on: date
    closed: bool
    responses: int


@dataclass
class PackMember:
    name: str
    email: str
    role: str
    organisation: str | None


@dataclass
class Pack:
    board: str
    board_id: int
    meeting_id: int
    meeting_on: date
    previous_on: date | None
    made_on: date
    attention: list[PackAction] = field(default_factory=list)
    changes: list[PackChange] = field(default_factory=list)
    scrutiny: list[PackScrutiny] = field(default_factory=list)
    consultations: list[PackConsultation] = field(default_factory=list)
    unreachable: list[PackMember] = field(default_factory=list)

    @property
    def red(self) -> list[PackAction]:
        return [a for a in self.attention if a.red]

    @property
    def overdue(self) -> list[PackAction]:
        return [a for a in self.attention if a.overdue]


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


async def next_board_meeting(session: AsyncSession, board_id: int, today: date) -> Meeting | None:
    return (await session.exec(select(Meeting).where(
        Meeting.board_id == board_id, Meeting.kind == "board", Meeting.held_on >= today)
        .order_by(Meeting.held_on))).first()


async def unreachable_members(session: AsyncSession, board_id: int, usable: Collection[str]) -> list[PackMember]:
    """The board's members no usable platform reaches (``storage.reach.unreachable``: the same list as
    ``cyswllt outbox list --unreachable``), with their role and organisation."""
    people = [person for person, _ in await unreachable(session, usable, board_id)]
    if not people:
        return []
    roles = {pid: (role, org) for pid, role, org in (await session.exec(
        select(Member.person_id, Member.role, Organisation.name)
        .join(Organisation, Organisation.id == Member.organisation_id, isouter=True)
        .where(Member.board_id == board_id, Member.person_id.in_([p.id for p in people])))).all()}
    return [PackMember(p.name, p.email, *roles[p.id]) for p in people]


async def gather(session: AsyncSession, meeting: Meeting, now: datetime, timezone: str,
                 usable: Collection[str]) -> Pack:
    """The pack; ``usable`` is ``Settings.usable_platforms`` (who counts as reachable)."""
    zone = ZoneInfo(timezone)
    today = _local_day(now, zone)
    board = await session.get(Board, meeting.board_id)
    previous = (await session.exec(select(Meeting.held_on).where(
        Meeting.board_id == board.id, Meeting.kind == "board", Meeting.held_on < meeting.held_on)
        .order_by(Meeting.held_on.desc()))).first()
    pack = Pack(board.name, board.id, meeting.id, meeting.held_on, previous, today)

    actions = sorted((await session.exec(select(Action).where(Action.board_id == board.id))).all(),
                     key=lambda a: ref_number(a.ref))
    ids = [a.id for a in actions]
    leads = await leads_for(session, ids)
    owners = dict((await session.exec(select(Person.id, Person.name).where(
        Person.id.in_([a.owner_id for a in actions if a.owner_id])))).all()) if ids else {}
    newest = (select(ActionUpdate.action_id, func.max(ActionUpdate.id).label("id"))
              .where(ActionUpdate.action_id.in_(ids)).group_by(ActionUpdate.action_id).subquery())
    latest = {u.action_id: u for u in (await session.exec(
        select(ActionUpdate).join(newest, newest.c.id == ActionUpdate.id))).all()} if ids else {}

    stale_before = today - timedelta(days=STALE_DAYS)
    for action in actions:
        if action.rag == Rag.complete:
            continue
        update = latest.get(action.id)
        changed_on = _local_day(update.created_at if update else action.created_at, zone)
        entry = PackAction(action.ref, action.title, action.rag, action.due, action.due_text,
                           owners.get(action.owner_id) or action.owner_email, leads.get(action.id, []),
                           _local_day(update.created_at, zone) if update else None,
                           (update.note or None) if update and update.source != "import" else None,
                           action.title_cy)
        entry.red = action.rag == Rag.red
        entry.overdue = action.due is not None and action.due < today
        entry.stale = changed_on < stale_before
        if entry.red or entry.overdue or entry.stale:
            pack.attention.append(entry)

    # What changed since the last board meeting (or, for a first meeting, in the last 90 days).
    since_day = previous or (today - timedelta(days=90))
    since = datetime.combine(since_day + timedelta(days=1), time(0), zone).astimezone(UTC)
    by_id = {a.id: a for a in actions}
    window = (await session.exec(select(ActionUpdate).where(
        ActionUpdate.action_id.in_(ids), ActionUpdate.created_at >= since).order_by(ActionUpdate.id))).all() if ids else []
    if window:
        touched = sorted({u.action_id for u in window}, key=lambda i: ref_number(by_id[i].ref))
        before_rows = (select(ActionUpdate.action_id, func.max(ActionUpdate.id).label("id"))
                       .where(ActionUpdate.action_id.in_(touched), ActionUpdate.created_at < since)
                       .group_by(ActionUpdate.action_id).subquery())
        before = {u.action_id: u.rag for u in (await session.exec(
            select(ActionUpdate).join(before_rows, before_rows.c.id == ActionUpdate.id))).all()}
        for action_id in touched:
            mine = [u for u in window if u.action_id == action_id]
            action = by_id[action_id]
            pack.changes.append(PackChange(action.ref, action.title, before.get(action_id), mine[-1].rag, len(mine),
                                           mine[-1].note or None, _local_day(mine[-1].created_at, zone),
                                           action.title_cy))

    # Scrutiny on the agenda: scheduled between the meetings, or due by this one and not closed.
    requests = (await session.exec(select(ScrutinyRequest).where(
        ScrutinyRequest.board_id == board.id,
        or_(ScrutinyRequest.committee_date.between(since_day + timedelta(days=1), meeting.held_on),
            ScrutinyRequest.status.not_in([ScrutinyStatus.responded, ScrutinyStatus.declined])
            & (ScrutinyRequest.due <= meeting.held_on)))
        .order_by(ScrutinyRequest.id))).all()
    pack.scrutiny = [PackScrutiny(f"S-{r.id}", r.subject_ref, r.question, r.status, r.due, r.committee_date,
                                  r.response, r.decline_reason) for r in requests]

    # Consultations closing before the meeting, or closed since the last one (to report back).
    until = datetime.combine(meeting.held_on + timedelta(days=1), time(0), zone).astimezone(UTC)
    consultations = (await session.exec(select(Consultation).where(
        Consultation.board_id == board.id, Consultation.closes_at >= since, Consultation.closes_at < until)
        .order_by(Consultation.closes_at))).all()
    if consultations:
        counts = dict((await session.exec(select(Response.consultation_id, func.count()).where(
            Response.consultation_id.in_([c.id for c in consultations]), Response.withdrawn_at.is_(None))
            .group_by(Response.consultation_id))).all())
        pack.consultations = [PackConsultation(c.slug, c.title_en, c.title_cy, _local_day(c.closes_at, zone),
                                               c.closes_at <= now, counts.get(c.id, 0)) for c in consultations]

    pack.unreachable = await unreachable_members(session, board.id, usable)
    return pack
