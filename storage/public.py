"""What a published board shows the public: its priorities and actions with their RAG, lead
organisations, due dates and latest public summaries, the RAG history month by month, its meetings,
and the scrutiny register. Public fields only: never an owner's name or email, never an internal
update note, never a requester's name unless they agreed to be named."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Action,
    ActionLead,
    ActionUpdate,
    Board,
    Meeting,
    Organisation,
    Person,
    Priority,
    ScrutinyRequest,
)
from storage.queries import ref_number

RAGS = ("red", "amber", "green", "complete", None)
HISTORY_MONTHS = 12


@dataclass
class PublicAction:
    ref: str
    title: str
    title_cy: str | None
    priority_ref: str | None
    leads: list[str]
    due: date | None
    due_text: str | None
    rag: str | None
    last_update: date | None
    public_summary: str | None
    public_summary_on: date | None


@dataclass
class PublicPriority:
    ref: str
    title: str
    title_cy: str | None
    scope: str
    actions: list[PublicAction] = field(default_factory=list)


@dataclass
class HistoryPoint:
    month_end: date
    counts: dict[str | None, int]


@dataclass
class PublicBoard:
    id: int
    slug: str
    name: str
    name_cy: str | None
    priorities: list[PublicPriority]
    unprioritised: list[PublicAction]
    history: list[HistoryPoint]
    meetings: list[tuple[date, str]]

    @property
    def actions(self) -> list[PublicAction]:
        found = [a for p in self.priorities for a in p.actions] + self.unprioritised
        return sorted(found, key=lambda a: ref_number(a.ref))


@dataclass
class RegisterEntry:
    ref: str
    subject_ref: str
    question: str
    status: str
    raised_on: date
    due: date | None
    committee_date: date | None
    response: str | None
    decline_reason: str | None
    requester: str | None  # None: "a board member"


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


async def published_board(session: AsyncSession, slug: str) -> Board | None:
    board = (await session.exec(select(Board).where(Board.slug == slug))).first()
    return board if board is not None and board.published else None


def month_ends(today: date, months: int) -> list[date]:
    """The last day of each of the ``months`` months up to today's (today for the current month)."""
    ends = [today]
    first = today.replace(day=1)
    for _ in range(months - 1):
        end = first - timedelta(days=1)
        ends.append(end)
        first = end.replace(day=1)
    return list(reversed(ends))


async def public_actions(session: AsyncSession, board_id: int, zone: ZoneInfo) -> list[tuple[int | None, PublicAction]]:
    """(priority id, public action) for each of the board's actions, in ref order: the latest update's
    date and the latest public summary. Plain rows, not ORM objects: a plan has hundreds."""
    # Core reads on the session's connection: plain rows, without the ORM's per-row work.
    conn = await session.connection()
    rows = (await conn.execute(select(
        Action.id, Action.priority_id, Action.ref, Action.title, Action.title_cy, Action.due, Action.due_text,
        Action.rag).where(Action.board_id == board_id))).all()
    mine = select(Action.id).where(Action.board_id == board_id)
    leads: dict[int, list[str]] = {}
    for action_id, name in (await conn.execute(
            select(ActionLead.action_id, Organisation.name).join(Organisation, Organisation.id == ActionLead.organisation_id)
            .where(ActionLead.action_id.in_(mine)).order_by(ActionLead.action_id, ActionLead.position))).all():
        leads.setdefault(action_id, []).append(name)
    last = dict((await conn.execute(select(ActionUpdate.action_id, func.max(ActionUpdate.created_at))
                                    .where(ActionUpdate.action_id.in_(mine)).group_by(ActionUpdate.action_id))).all())
    newest_public = (select(ActionUpdate.action_id, func.max(ActionUpdate.id).label("id"))
                     .where(ActionUpdate.action_id.in_(mine), ActionUpdate.public_summary.is_not(None),
                            ActionUpdate.public_summary != "")
                     .group_by(ActionUpdate.action_id).subquery())
    summaries = {action_id: (text, at) for action_id, text, at in (await conn.execute(
        select(ActionUpdate.action_id, ActionUpdate.public_summary, ActionUpdate.created_at)
        .join(newest_public, newest_public.c.id == ActionUpdate.id))).all()}
    found = []
    for action_id, priority_id, ref, title, title_cy, due, due_text, rag in sorted(rows, key=lambda r: ref_number(r[2])):
        summary, said_at = summaries.get(action_id, (None, None))
        found.append((priority_id, PublicAction(
            ref, title, title_cy, None, leads.get(action_id, []), due, due_text, rag,
            local_day(last[action_id], zone) if action_id in last else None,
            summary, local_day(said_at, zone) if said_at else None)))
    return found


async def rag_history(session: AsyncSession, board_id: int, ends: list[date], zone: ZoneInfo) -> list[HistoryPoint]:
    """How many actions were red, amber, green, complete or not yet rated at the end of each day in
    ``ends``: each action counted by its latest update by then, once it was on the plan. One pass over
    the plan's events (actions added, updates posted) in time order."""
    events: list[tuple[datetime, int, int, str | None]] = []  # (when, 0 = added / 1 = update, action, rag)
    for action_id, made in (await session.exec(select(Action.id, Action.created_at)
                                               .where(Action.board_id == board_id))).all():
        events.append((_aware(made), 0, action_id, None))
    for action_id, rag, at in (await session.exec(
            select(ActionUpdate.action_id, ActionUpdate.rag, ActionUpdate.created_at)
            .where(ActionUpdate.action_id.in_(select(Action.id).where(Action.board_id == board_id))))).all():
        events.append((_aware(at), 1, action_id, rag))
    events.sort(key=lambda e: (e[0], e[1]))
    counts: Counter = Counter()
    current: dict[int, str | None] = {}
    on_plan: set[int] = set()
    points, position = [], 0
    for end in ends:
        until = datetime.combine(end + timedelta(days=1), time(0), zone).astimezone(UTC)
        while position < len(events) and events[position][0] < until:
            _, kind, action_id, rag = events[position]
            position += 1
            if kind == 0:
                on_plan.add(action_id)
                counts[current.get(action_id)] += 1
                continue
            if action_id in on_plan:
                counts[current.get(action_id)] -= 1
                counts[rag] += 1
            current[action_id] = rag
        points.append(HistoryPoint(end, {rag: counts.get(rag, 0) for rag in RAGS}))
    return points


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def history_key(session: AsyncSession, board_id: int, today: date) -> tuple:
    """What the RAG history depends on: the day, the newest update and the actions on the plan. The
    history is the costly part of the page and changes only when these do."""
    newest = (await session.exec(select(func.max(ActionUpdate.id)).where(
        ActionUpdate.action_id.in_(select(Action.id).where(Action.board_id == board_id))))).one()
    count, added = (await session.exec(select(func.count(), func.max(Action.created_at))
                                       .where(Action.board_id == board_id))).one()
    return (board_id, today, newest, count, added)


async def board_page(session: AsyncSession, board: Board, now: datetime, timezone: str,
                     history_cache: dict | None = None) -> PublicBoard:
    """The board's public page; ``history_cache`` (a dict the caller keeps, bounded) saves working
    out the RAG history again while nothing it depends on has changed."""
    zone = ZoneInfo(timezone)
    today = local_day(now, zone)
    priorities = sorted((await session.exec(select(Priority).where(Priority.board_id == board.id))).all(),
                        key=lambda p: ref_number(p.ref))
    by_priority = {p.id: PublicPriority(p.ref, p.title, p.title_cy, p.scope) for p in priorities}
    loose = []
    for priority_id, entry in await public_actions(session, board.id, zone):
        if priority_id in by_priority:
            entry.priority_ref = by_priority[priority_id].ref
            by_priority[priority_id].actions.append(entry)
        else:
            loose.append(entry)
    key = await history_key(session, board.id, today) if history_cache is not None else None
    history = history_cache.get(key) if key is not None else None
    if history is None:
        history = await rag_history(session, board.id, month_ends(today, HISTORY_MONTHS), zone)
        # Months before the plan existed say nothing: the chart starts with the first month that had actions.
        while len(history) > 1 and sum(history[0].counts.values()) == 0:
            history.pop(0)
        if key is not None:
            if len(history_cache) >= 64:
                history_cache.pop(next(iter(history_cache)))
            history_cache[key] = history
    meetings = [(m.held_on, m.kind) for m in (await session.exec(
        select(Meeting).where(Meeting.board_id == board.id).order_by(Meeting.held_on))).all()]
    return PublicBoard(board.id, board.slug, board.name, board.name_cy,
                       [p for p in by_priority.values()], loose, history, meetings)


async def scrutiny_register(session: AsyncSession, board: Board, timezone: str) -> list[RegisterEntry]:
    zone = ZoneInfo(timezone)
    rows = (await session.exec(
        select(ScrutinyRequest, Person.name).join(Person, Person.id == ScrutinyRequest.requester_id)
        .where(ScrutinyRequest.board_id == board.id).order_by(ScrutinyRequest.id.desc()))).all()
    return [RegisterEntry(f"S-{r.id}", r.subject_ref, r.question, r.status, local_day(r.created_at, zone), r.due,
                          r.committee_date, r.response if r.status == "responded" else None, r.decline_reason,
                          name if r.requester_named else None) for r, name in rows]
