"""Calendars: a published board's meetings at /boards/{slug}/meetings.ics, and a member's own (their
boards' meetings and their open actions' due dates) at the signed link ``calendar`` gives them —
read back with the icalendar package, on SQLite and PostgreSQL."""

from datetime import date

import aiohttp
from aiohttp.test_utils import TestServer
from icalendar import Calendar

from cyswllt.app import create_app
from cyswllt.settings import Settings
from handlers.core import Command, Context
from handlers.dispatch import handle
from storage.models import Action, Board, Meeting, Member, Person

# 28 March 2027 is the day the clocks go forward in London: the day must stay that day.
MEETINGS = [(date(2027, 1, 14), "board"), (date(2027, 3, 28), "board"), (date(2027, 2, 9), "scrutiny")]


async def seed(db):
    async with db.session() as s:
        board = Board(name="Bwrdd Gwasanaethau Cyhoeddus Môn", slug="bwrdd-mon", published=True)
        hidden = Board(name="Powys PSB", slug="powys-psb", published=False)
        s.add_all([board, hidden])
        await s.flush()
        gwen = Person(email="gwen@example.cymru", name="Gwen Parry", language="cy", current_board_id=board.id)
        s.add(gwen)
        await s.flush()
        s.add_all([Member(board_id=board.id, person_id=gwen.id, role="officer"),
                   Member(board_id=hidden.id, person_id=gwen.id, role="core")])
        for held_on, kind in MEETINGS:
            s.add(Meeting(board_id=board.id, held_on=held_on, kind=kind))
        s.add(Meeting(board_id=hidden.id, held_on=date(2027, 4, 1)))
        s.add_all([
            Action(board_id=board.id, ref="A-1", title="Open data portal", title_cy="Porth data agored",
                   owner_id=gwen.id, due=date(2027, 5, 31), due_text="Spring 2027"),
            Action(board_id=board.id, ref="A-2", title="Done already", owner_id=gwen.id, due=date(2027, 1, 31),
                   rag="complete"),
            Action(board_id=hidden.id, ref="A-7", title="Rural transport", owner_id=gwen.id, due=date(2026, 10, 31),
                   due_text="October 26"),
        ])
        await s.commit()
        return gwen.id


async def get(url: str):
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            return response.status, response.content_type, await response.read()


def events(body: bytes) -> list:
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and str(calendar["X-WR-TIMEZONE"]) == "Europe/London"
    return [(c.decoded("DTSTART"), str(c["SUMMARY"]), c.decoded("DTEND")) for c in calendar.walk("VEVENT")]


async def test_a_published_boards_meetings_and_a_members_own_calendar(db, database_url):
    gwen_id = await seed(db)
    settings = Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                        analysis_enabled=False, base_url="https://cyswllt.example.cymru", secret_key="s3cret")
    server = TestServer(create_app(settings, db=db), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    try:
        status, kind, body = await get(f"{base}/boards/bwrdd-mon/meetings.ics")
        assert status == 200 and kind == "text/calendar"
        found = events(body)
        assert sorted((day, summary) for day, summary, _ in found) == [
            (date(2027, 1, 14), "Board meeting: Bwrdd Gwasanaethau Cyhoeddus Môn"),
            (date(2027, 2, 9), "Scrutiny committee: Bwrdd Gwasanaethau Cyhoeddus Môn"),
            (date(2027, 3, 28), "Board meeting: Bwrdd Gwasanaethau Cyhoeddus Môn")]
        assert all(end == day.__class__.fromordinal(day.toordinal() + 1) for day, _, end in found)  # all-day
        welsh = events((await get(f"{base}/boards/bwrdd-mon/meetings.ics?lang=cy"))[2])
        assert "Cyfarfod y bwrdd: Bwrdd Gwasanaethau Cyhoeddus Môn" in {s for _, s, _ in welsh}
        assert (await get(f"{base}/boards/powys-psb/meetings.ics"))[0] == 404  # not published
        assert (await get(f"{base}/boards/nowhere/meetings.ics"))[0] == 404

        # Gwen asks for hers, in Welsh.
        reply = await handle(Context(db, settings), Command("console", "gwen@example.cymru", "calendr"))
        link = next(word for word in reply.text.split() if word.startswith("https://cyswllt.example.cymru/calendar/"))
        assert "https://cyswllt.example.cymru/boards/bwrdd-mon/meetings.ics?lang=cy" in reply.text
        status, kind, body = await get(base + link.removeprefix("https://cyswllt.example.cymru"))
        assert status == 200 and kind == "text/calendar"
        mine = {(day, summary) for day, summary, _ in events(body)}
        assert (date(2027, 5, 31), "A-1 yn ddyledus: Porth data agored") in mine
        assert (date(2026, 10, 31), "A-7 yn ddyledus: Rural transport (yn Saesneg)") in mine  # both her boards
        assert not any(summary.startswith("A-2") for _, summary in mine)  # complete: not due any more
        assert (date(2027, 3, 28), "Cyfarfod y bwrdd: Bwrdd Gwasanaethau Cyhoeddus Môn") in mine
        assert (date(2027, 4, 1), "Cyfarfod y bwrdd: Powys PSB") in mine
        # The link is hers alone, and asking again gives the same one.
        again = await handle(Context(db, settings), Command("console", "gwen@example.cymru", "calendar"))
        assert link in again.text
        path = link.removeprefix("https://cyswllt.example.cymru")
        assert (await get(f"{base}{path[:-4]}0000"))[0] == 403
        assert (await get(f"{base}/calendar/{gwen_id + 1}.ics?{path.split('?')[1]}"))[0] == 403
        assert (await get(f"{base}/calendar/{gwen_id}.ics"))[0] == 403
        assert (await get(f"{base}/calendar/99999999999999999999.ics?sig=x"))[0] == 403
    finally:
        await server.close()
