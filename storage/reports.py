"""The annual report's facts for one board and one financial year (1 April to 31 March), gathered as
plain JSON-ready data so a published report can be frozen exactly as it was (seed 004 §4.3): the aims
and priorities restated; progress on every action, every red and every overdue one marked, each with
its latest public summary; what was done where things went wrong (actions that turned red, and
whether and when they came back); engagement undertaken (consultations, how many responded, what
changed) and scrutiny undertaken and planned."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Action,
    ActionLead,
    ActionUpdate,
    AnnualReport,
    Board,
    Consultation,
    Organisation,
    Priority,
    Response,
    ScrutinyRequest,
    YouSaidWeDid,
    utcnow,
)
from storage.queries import ref_number

YEAR = re.compile(r"^(\d{4})(?:-(\d{2}|\d{4}))?$")
RAGS = ("red", "amber", "green", "complete", None)


def parse_year(text: str) -> int | None:
    """The April a financial year starts: "2026-27" and "2026" are both 1 April 2026 – 31 March 2027."""
    match = YEAR.match((text or "").strip())
    if not match:
        return None
    start = int(match.group(1))
    if match.group(2):
        end = match.group(2)
        if (int(end) != start + 1) if len(end) == 4 else (int(end) != (start + 1) % 100):
            return None
    return start if 1990 <= start <= 2200 else None


def year_label(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(moment: datetime, zone: ZoneInfo) -> date:
    return _aware(moment).astimezone(zone).date()


async def gather(session: AsyncSession, board: Board, start_year: int, now: datetime, timezone: str) -> dict[str, Any]:
    zone = ZoneInfo(timezone)
    first, last = date(start_year, 4, 1), date(start_year + 1, 3, 31)
    today = _day(now, zone)
    as_at = min(last, today)  # a year still running is reported as it stands today
    begin = datetime.combine(first, time(0), zone).astimezone(UTC)
    end = datetime.combine(as_at + timedelta(days=1), time(0), zone).astimezone(UTC)

    priorities = sorted((await session.exec(select(Priority).where(Priority.board_id == board.id))).all(),
                        key=lambda p: ref_number(p.ref))
    by_priority = {p.id: p.ref for p in priorities}
    actions = sorted((await session.exec(select(Action).where(
        Action.board_id == board.id, Action.created_at < end))).all(), key=lambda a: ref_number(a.ref))
    ids = [a.id for a in actions]
    leads: dict[int, list[str]] = {}
    updates: dict[int, list[ActionUpdate]] = {}
    if ids:
        for action_id, name in (await session.exec(
                select(ActionLead.action_id, Organisation.name).join(Organisation, Organisation.id == ActionLead.organisation_id)
                .where(ActionLead.action_id.in_(ids)).order_by(ActionLead.action_id, ActionLead.position))).all():
            leads.setdefault(action_id, []).append(name)
        for u in (await session.exec(select(ActionUpdate).where(
                ActionUpdate.action_id.in_(ids), ActionUpdate.created_at < end)
                .order_by(ActionUpdate.created_at, ActionUpdate.id))).all():
            updates.setdefault(u.action_id, []).append(u)

    progress, wrong = [], []
    counts = {rag or "none": 0 for rag in RAGS}
    for a in actions:
        history = updates.get(a.id, [])
        before = [u for u in history if _aware(u.created_at) < begin]
        during = [u for u in history if _aware(u.created_at) >= begin]
        rag_now = history[-1].rag if history else None
        counts[rag_now or "none"] += 1
        red_at_start = bool(before) and before[-1].rag == "red"
        red = red_at_start or any(u.rag == "red" for u in during)
        completed = next((u for u in history if u.rag == "complete"), None)
        done_on = _day(completed.created_at, zone) if completed else None
        overdue = a.due is not None and a.due <= as_at and (done_on is None or done_on > a.due)
        public = [u for u in history if u.public_summary]
        progress.append({
            "ref": a.ref, "title": a.title, "title_cy": a.title_cy, "priority": by_priority.get(a.priority_id),
            "leads": leads.get(a.id, []), "due": a.due.isoformat() if a.due else None, "due_text": a.due_text,
            "rag": rag_now, "red": red, "overdue": overdue,
            "summary": public[-1].public_summary if public else None,
            "summary_on": _day(public[-1].created_at, zone).isoformat() if public else None,
        })
        # Went wrong: each time it turned red in the year, and whether (and when) it came back.
        previous = before[-1].rag if before else None
        turned = None
        for u in during:
            if u.rag == "red" and previous != "red":
                turned = u
            elif turned is not None and u.rag != "red" and previous == "red":
                wrong.append(_episode(a, turned, u, zone))
                turned = None
            previous = u.rag
        if turned is not None:
            wrong.append(_episode(a, turned, None, zone))
        elif red_at_start and not any(u.rag != "red" for u in during):
            wrong.append({"ref": a.ref, "title": a.title, "title_cy": a.title_cy, "red_on": None,
                          "red_summary": before[-1].public_summary, "back_on": None, "back_to": None,
                          "back_summary": None})

    consultations = (await session.exec(select(Consultation).where(
        Consultation.board_id == board.id, Consultation.opens_at < end, Consultation.closes_at >= begin)
        .order_by(Consultation.opens_at))).all()
    engagement = []
    for c in consultations:
        responses = (await session.exec(select(func.count()).select_from(Response).where(
            Response.consultation_id == c.id, Response.withdrawn_at.is_(None), Response.received_at < end))).one()
        changes = (await session.exec(select(YouSaidWeDid).where(YouSaidWeDid.consultation_id == c.id)
                                      .order_by(YouSaidWeDid.created_at))).all()
        engagement.append({"slug": c.slug, "title": c.title_en, "title_cy": c.title_cy,
                           "opened": _day(c.opens_at, zone).isoformat(), "closes": _day(c.closes_at, zone).isoformat(),
                           "responses": responses,
                           "changes": [{"theme": y.theme, "you_said": y.you_said_en, "you_said_cy": y.you_said_cy,
                                        "we_did": y.we_did_en, "we_did_cy": y.we_did_cy} for y in changes]})

    requests = (await session.exec(select(ScrutinyRequest).where(ScrutinyRequest.board_id == board.id)
                                   .order_by(ScrutinyRequest.id))).all()
    undertaken, planned = [], []
    for r in requests:
        entry = {"ref": f"S-{r.id}", "subject": r.subject_ref, "question": r.question, "status": r.status,
                 "raised": _day(r.created_at, zone).isoformat(),
                 "committee_date": r.committee_date.isoformat() if r.committee_date else None,
                 "response": r.response if r.status == "responded" else None, "declined": r.decline_reason}
        if begin <= _aware(r.created_at) < end:
            undertaken.append(entry)
        if r.status not in ("responded", "declined") and (r.committee_date is None or r.committee_date > as_at):
            if _aware(r.created_at) < end:
                planned.append(entry)

    return {
        "board": {"name": board.name, "name_cy": board.name_cy, "slug": board.slug},
        "year": year_label(start_year), "from": first.isoformat(), "to": last.isoformat(), "as_at": as_at.isoformat(),
        "aims": [{"ref": p.ref, "title": p.title, "title_cy": p.title_cy, "scope": p.scope} for p in priorities],
        "progress": progress, "counts": counts, "total": len(actions),
        "updates": sum(1 for history in updates.values() for u in history if _aware(u.created_at) >= begin),
        "wrong": wrong, "engagement": engagement,
        "responses": sum(e["responses"] for e in engagement),
        "scrutiny": {"undertaken": undertaken, "planned": planned},
    }


def _episode(action: Action, red: ActionUpdate, back: ActionUpdate | None, zone: ZoneInfo) -> dict[str, Any]:
    return {"ref": action.ref, "title": action.title, "title_cy": action.title_cy,
            "red_on": _day(red.created_at, zone).isoformat(), "red_summary": red.public_summary,
            "back_on": _day(back.created_at, zone).isoformat() if back else None,
            "back_to": back.rag if back else None, "back_summary": back.public_summary if back else None}


async def report_row(session: AsyncSession, board_id: int, start: int) -> AnnualReport:
    """The board's report row for the year starting ``start``, made when there is none, and locked for
    this transaction on PostgreSQL (SQLite has one writer at a time). Made by insert-or-nothing, so two
    requests at once (a commentary and a publish, or two publishes) agree on one row instead of one of
    them failing on the unique rule."""
    insert = pg_insert if (await session.connection()).dialect.name == "postgresql" else sqlite_insert
    await session.exec(insert(AnnualReport).values(  # type: ignore[call-overload]
        board_id=board_id, year_start=start, commentary={}, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["board_id", "year_start"]))
    return (await session.exec(select(AnnualReport).where(
        AnnualReport.board_id == board_id, AnnualReport.year_start == start)
        .with_for_update().execution_options(populate_existing=True))).one()


async def change_draft(session: AsyncSession, report_id: int, **values: Any) -> bool:
    """Change a report that is still a draft; False (nothing changed) when it was published meanwhile."""
    result = await session.exec(update(AnnualReport).where(  # type: ignore[call-overload]
        AnnualReport.id == report_id, AnnualReport.published_at.is_(None)).values(**values))
    return result.rowcount == 1
