"""Calendar feeds: ``/boards/{slug}/meetings.ics`` for a published board (anyone may subscribe),
and ``/calendar/{person}.ics?sig=…``, a member's own (their boards' meetings and their actions'
due dates), at the signed link the ``calendar`` command gives them."""

from __future__ import annotations

from aiohttp import web

from cyswllt.appkeys import DB, SETTINGS
from storage.calendars import board_calendar, personal_calendar, verify
from storage.models import Person
from storage.public import published_board

ICS = "text/calendar"


def _ics(body: bytes, filename: str) -> web.Response:
    return web.Response(body=body, content_type=ICS, charset="utf-8",
                        headers={"Content-Disposition": f'inline; filename="{filename}"',
                                 "Cache-Control": "private, max-age=900"})


async def meetings_ics(request: web.Request) -> web.Response:
    lang = "cy" if request.query.get("lang") == "cy" else "en"
    async with request.app[DB].session() as session:
        board = await published_board(session, request.match_info["slug"])
        if board is None:
            raise web.HTTPNotFound(text="There is no published board at this address.")
        body = await board_calendar(session, board, request.app[SETTINGS], lang)
    return _ics(body, f"{board.slug}-meetings.ics")


async def personal_ics(request: web.Request) -> web.Response:
    try:
        person_id = int(request.match_info["person"])
    except ValueError:
        raise web.HTTPNotFound(text="No such calendar.")
    async with request.app[DB].session() as session:
        person = await session.get(Person, person_id) if 0 < person_id < 2**31 else None
        if person is None or not verify(request.app[SETTINGS], person, request.query.get("sig")):
            # The same answer for an unknown person and a wrong signature: the link proves nothing.
            raise web.HTTPForbidden(text="That calendar link is not valid; ask the bot for yours with: calendar")
        body = await personal_calendar(session, person, request.app[SETTINGS])
    return _ics(body, "cyswllt.ics")


def setup(app: web.Application) -> None:
    app.router.add_get("/boards/{slug}/meetings.ics", meetings_ics)
    app.router.add_get(r"/calendar/{person:\d+}.ics", personal_ics)
