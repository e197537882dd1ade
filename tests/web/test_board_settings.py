"""Whether a board is public, and its Welsh name, are set by the admin API and the command line; the
actions CSV carries Welsh titles; chat and reminders use them, marking English where there is none."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from cyswllt.app import create_app
from cyswllt.settings import Settings
from storage.imports import import_actions
from storage.models import Action, Board, Priority
from tests.addresses import chat


@pytest.fixture
async def served(db, database_url):
    async with db.session() as s:
        s.add(Board(name="Gwynedd Board"))
        await s.commit()
    app = create_app(Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                              analysis_enabled=False, admin_token="admin-token"), db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def patch(server, slug, body, token="admin-token"):
    async with aiohttp.ClientSession() as http:
        async with http.patch(server.make_url(f"/api/v1/boards/{slug}"), json=body if not isinstance(body, str) else None,
                              data=body if isinstance(body, str) else None,
                              headers={"Authorization": f"Bearer {token}"}) as response:
            return response.status, await response.json()


async def test_publish_and_welsh_name_through_the_admin_api(served, db):
    async with aiohttp.ClientSession() as http:
        async with http.get(served.make_url("/boards/gwynedd-board")) as response:
            assert response.status == 404  # off by default
    status, body = await patch(served, "gwynedd-board", {"published": True, "name_cy": "  Bwrdd   Gwynedd "})
    assert status == 200 and body == {"id": 1, "name": "Gwynedd Board", "name_cy": "Bwrdd Gwynedd",
                                      "slug": "gwynedd-board", "published": True, "email": None}
    async with aiohttp.ClientSession() as http:
        async with http.get(served.make_url("/boards/gwynedd-board?lang=cy")) as response:
            assert response.status == 200 and "Bwrdd Gwynedd" in await response.text()
    assert (await patch(served, "gwynedd-board", {"published": "yes"}))[0] == 400
    assert (await patch(served, "gwynedd-board", {"colour": "red"}))[0] == 400
    assert (await patch(served, "gwynedd-board", "not json"))[0] == 400
    assert (await patch(served, "gwynedd-board", {"name_cy": "x" * 201}))[0] == 400
    assert (await patch(served, "nowhere", {"published": True}))[0] == 404
    assert (await patch(served, "gwynedd-board", {"published": False}, token="wrong"))[0] == 401
    status, body = await patch(served, "gwynedd-board", {"published": False, "name_cy": None})
    assert status == 200 and body["published"] is False and body["name_cy"] is None
    async with aiohttp.ClientSession() as http:
        async with http.get(served.make_url("/api/v1/openapi.json")) as response:
            paths = (await response.json())["paths"]
    assert "patch" in paths["/api/v1/boards/{slug}"] and "/boards/{slug}/actions.json" in paths


async def test_a_boards_email_address_is_set_through_the_admin_api(served, db):
    """Where a board's notices go by email (a clerk's or the members' list): set, shown, refused when it is
    not an address (nothing changed), and removed; a notice to the board is then queued to it by email."""
    from handlers.core import Reply
    from handlers.notify import to_board
    from storage.models import OutboxMessage
    from storage.reach import addresses_of

    status, body = await patch(served, "gwynedd-board", {"email": " aelodau@bwrdd.example.cymru "})
    assert status == 200 and body["email"] == "aelodau@bwrdd.example.cymru"
    async with aiohttp.ClientSession() as http:
        async with http.get(served.make_url("/api/v1/boards"), headers={"Authorization": "Bearer admin-token"}) as r:
            assert [b["email"] for b in (await r.json())["items"]] == ["aelodau@bwrdd.example.cymru"]
    status, body = await patch(served, "gwynedd-board", {"email": "john at example dot com", "published": True})
    assert status == 400 and "email" in body["error"]
    async with db.session() as s:
        board = (await s.exec(select(Board))).one()
        assert board.published is False  # the refused body changed nothing
        assert await addresses_of(s, board) == {"email": "aelodau@bwrdd.example.cymru"}
        await to_board(s, board, Reply(text="The meeting pack is ready", language="en"), "pack:1")
        await s.commit()
        queued = (await s.exec(select(OutboxMessage))).all()
    assert [(m.platform, m.channel) for m in queued] == [("email", "aelodau@bwrdd.example.cymru")]
    status, body = await patch(served, "gwynedd-board", {"email": ""})
    assert status == 200 and body["email"] is None
    async with db.session() as s:
        assert await addresses_of(s, (await s.exec(select(Board))).one()) == {}


async def test_the_command_line_sets_them_too(sqlite_url):
    from storage.db import Database
    from storage.migrate import upgrade

    await asyncio.to_thread(upgrade, sqlite_url)
    db = Database.from_url(sqlite_url)
    async with db.session() as s:
        s.add(Board(name="Gwynedd Board"))
        await s.commit()
    cyswllt = str(Path(sys.executable).with_name("cyswllt"))
    env = {**os.environ, "CYSWLLT_DATABASE_URL": sqlite_url}

    def run(*words):
        return subprocess.run([cyswllt, *words], env=env, capture_output=True, text=True, timeout=120)

    done = await asyncio.to_thread(run, "boards", "set", "--board", "gwynedd board", "--name-cy", "Bwrdd Gwynedd",
                                   "--publish")
    assert done.returncode == 0, done.stderr
    assert "Welsh name Bwrdd Gwynedd; public pages at /boards/gwynedd-board published." in done.stdout
    listed = await asyncio.to_thread(run, "boards", "list")
    assert "Gwynedd Board / Bwrdd Gwynedd  /boards/gwynedd-board  published" in listed.stdout
    mailed = await asyncio.to_thread(run, "boards", "set", "--board", "Gwynedd Board", "--email", "clerc@example.cymru")
    assert mailed.returncode == 0 and "Its notices go by email to clerc@example.cymru." in mailed.stdout
    wrong = await asyncio.to_thread(run, "boards", "set", "--board", "Gwynedd Board", "--email", "clerc at example")
    assert wrong.returncode == 2 and "is not an email address" in wrong.stderr
    nothing = await asyncio.to_thread(run, "boards", "set", "--board", "Gwynedd Board")
    assert nothing.returncode == 2 and "nothing to change" in nothing.stderr
    unknown = await asyncio.to_thread(run, "boards", "set", "--board", "Nowhere", "--unpublish")
    assert unknown.returncode == 2 and "no board called “Nowhere”" in unknown.stderr
    async with db.session() as s:
        board = (await s.exec(select(Board))).one()
    await db.dispose()
    assert (board.name_cy, board.published) == ("Bwrdd Gwynedd", True)


async def test_the_actions_csv_carries_welsh_titles(db):
    text = ("ref,priority,title,title_cy,priority_cy,lead,due,rag\n"
            "A-1,Healthy communities,Joint recycling,Ailgylchu ar y cyd,Cymunedau iach,Cyngor,Spring 2027,amber\n"
            "A-2,Healthy communities,Bus passes,,,Cyngor,,\n")
    async with db.session() as s:
        await import_actions(s, "Gwynedd Board", text)
        await s.commit()
    async with db.session() as s:
        actions = {a.ref: a for a in (await s.exec(select(Action))).all()}
        priority = (await s.exec(select(Priority))).one()
    assert (actions["A-1"].title_cy, actions["A-2"].title_cy) == ("Ailgylchu ar y cyd", None)
    assert (priority.title, priority.title_cy) == ("Healthy communities", "Cymunedau iach")
    # Re-importing the same file changes nothing; a file without the new columns still imports.
    async with db.session() as s:
        again = await import_actions(s, "Gwynedd Board", text)
        await s.commit()
    assert again.unchanged == 2
    from storage.imports import ImportRefused

    async with db.session() as s:
        with pytest.raises(ImportRefused, match="priority_cy"):
            await import_actions(s, "Gwynedd Board", "ref,title,priority_cy\nA-3,Thing,Blaenoriaeth\n")


async def test_chat_and_reminders_use_the_welsh_title_or_mark_the_english(db):
    from datetime import UTC, datetime, timedelta

    from handlers.core import Command, Context
    from handlers.dispatch import handle
    from scheduler.jobs import action_reminders
    from scheduler.messages import payload_reply
    from storage.models import Member, OutboxMessage, Person

    async with db.session() as s:
        board = Board(name="Gwynedd Board", name_cy="Bwrdd Gwynedd")
        s.add(board)
        await s.flush()
        gwen = Person(email="gwen@x.cymru", name="Gwen", language="cy")
        s.add(gwen)
        await s.flush()
        s.add_all(chat(gwen, slack="UGWEN"))
        s.add(Member(board_id=board.id, person_id=gwen.id, role="officer"))
        now = datetime(2026, 11, 23, 10, tzinfo=UTC)
        s.add_all([Action(board_id=board.id, ref="A-1", title="Joint recycling", title_cy="Ailgylchu ar y cyd",
                          owner_id=gwen.id, due=now.date() + timedelta(days=1)),
                   Action(board_id=board.id, ref="A-2", title="Bus passes", owner_id=gwen.id,
                          due=now.date() + timedelta(days=1))])
        await s.commit()
    reply = await handle(Context(db, Settings(database_url="sqlite://"), now=lambda: now),
                         Command("slack", "UGWEN", "camau"))
    assert "A-1 · Ailgylchu ar y cyd" in reply.text and "A-2 · Bus passes (yn Saesneg)" in reply.text
    assert "Eich camau ar Fwrdd Gwynedd (2 gam)" in reply.text
    await action_reminders(db, Settings(database_url="sqlite://"), now)
    async with db.session() as s:
        texts = sorted(payload_reply(m.payload, m.language).text for m in (await s.exec(select(OutboxMessage))).all())
    assert texts[0].startswith("Mae A-1 “Ailgylchu ar y cyd” i fod")
    assert texts[1].startswith("Mae A-2 “Bus passes (yn Saesneg)” i fod")
