"""Calendars (RFC 5545): a published board's meetings, and a member's own — the meetings of their
boards and the due dates of the actions they own — at a signed link that is theirs alone.

Meetings and due dates are whole days, so they are all-day events (``VALUE=DATE``): the day is the
day in Europe/London (``CYSWLLT_TIMEZONE``), whatever the reader's own time zone. Each event has
a stable UID, so a calendar that subscribes updates an event rather than adding another.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cyswllt.i18n import normalise_language, t
from storage.models import Action, Board, Meeting, Member, Person, Rag, utcnow

PRODUCT = "-//Cyswllt//Board calendars//CY"


def _key(settings, person: Person) -> bytes:
    return f"{settings.secret_key or settings.admin_token or ''}:{person.calendar_key or ''}".encode()


def signature(settings, person: Person) -> str:
    return hmac.new(_key(settings, person), f"calendar:{person.id}".encode(), hashlib.sha256).hexdigest()[:40]


def verify(settings, person: Person, sig: str | None) -> bool:
    return bool(person.calendar_key and sig) and hmac.compare_digest(signature(settings, person), sig)


def personal_link(settings, person: Person) -> str:
    """The person's own calendar address (made the first time it is asked for; not yet committed)."""
    if not person.calendar_key:
        person.calendar_key = secrets.token_hex(16)
    return f"{settings.public_base_url}/calendar/{person.id}.ics?sig={signature(settings, person)}"


def _calendar(name: str, timezone_name: str, language: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", timezone_name)
    calendar.add("x-wr-caldesc", t(language, "calendar.description"))
    return calendar


def _day(uid: str, day, summary: str, stamp: datetime, description: str | None = None) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("transp", "TRANSPARENT")
    if description:
        event.add("description", description)
    return event


def _title(action: Action, language: str) -> str:
    if language == "cy":
        return action.title_cy or f"{action.title} {t('cy', 'common.fallback_marker')}"
    return action.title


def _host(settings) -> str:
    from urllib.parse import urlsplit

    return urlsplit(settings.public_base_url).hostname or "cyswllt"


async def _meetings(session: AsyncSession, calendar: Calendar, boards: list[Board], language: str, settings,
                    stamp: datetime) -> None:
    names = {b.id: b.name for b in boards}
    rows = (await session.exec(select(Meeting).where(Meeting.board_id.in_(list(names)))
                               .order_by(Meeting.held_on))).all()
    for meeting in rows:
        key = "calendar.scrutiny_meeting" if meeting.kind == "scrutiny" else "calendar.board_meeting"
        calendar.add_component(_day(f"meeting-{meeting.id}@{_host(settings)}", meeting.held_on,
                                    t(language, key, board=names[meeting.board_id]), stamp))


async def board_calendar(session: AsyncSession, board: Board, settings, language: str = "en") -> bytes:
    """A board's meetings, for anyone (the board's public page links it)."""
    language = normalise_language(language)
    calendar = _calendar(t(language, "calendar.board_name", board=board.name), settings.timezone, language)
    await _meetings(session, calendar, [board], language, settings, utcnow())
    return calendar.to_ical()


async def personal_calendar(session: AsyncSession, person: Person, settings) -> bytes:
    """A member's own: their boards' meetings, and the due dates of their open actions."""
    language = normalise_language(person.language)
    stamp = utcnow()
    calendar = _calendar(t(language, "calendar.personal_name", name=person.name), settings.timezone, language)
    boards = list((await session.exec(select(Board).join(Member, Member.board_id == Board.id)
                                      .where(Member.person_id == person.id).order_by(Board.name))).all())
    await _meetings(session, calendar, boards, language, settings, stamp)
    actions = (await session.exec(select(Action, Board.name).join(Board, Board.id == Action.board_id).where(
        Action.owner_id == person.id, Action.due.is_not(None),
        (Action.rag.is_(None)) | (Action.rag != Rag.complete)).order_by(Action.due, Action.ref))).all()
    for action, board in actions:
        words = f" ({action.due_text})" if action.due_text else ""
        calendar.add_component(_day(
            f"action-{action.id}-due@{_host(settings)}", action.due,
            t(language, "calendar.action_due", ref=action.ref, title=_title(action, language)),
            stamp, t(language, "calendar.action_description", board=board, words=words, ref=action.ref)))
    return calendar.to_ical()
