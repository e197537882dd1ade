"""The chair's meeting pack: every red and overdue action, stale ones, changes since the last
meeting, scrutiny for the meeting, consultations closing or reporting, members nobody can reach — as
a page behind each recipient's signed, expiring link, as a PDF (read back with pdftotext), from the
command line, and sent by the scheduler through the outbox CYSWLLT_MEETING_PACK_DAYS before."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from cyswllt.app import create_app
from cyswllt.settings import Settings
from scheduler.jobs import meeting_packs
from scheduler.messages import payload_reply
from storage.models import (
    Action,
    ActionLead,
    ActionUpdate,
    Board,
    Consultation,
    Meeting,
    MeetingPack,
    Member,
    Organisation,
    OutboxMessage,
    Person,
    Response,
    ScrutinyRequest,
)
from storage.packs import gather
from tests.addresses import chat

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday
TODAY = NOW.date()
MEETING = TODAY + timedelta(days=5)
PREVIOUS = TODAY - timedelta(days=60)
RED = ["A-1", "A-4"]
OVERDUE = ["A-2", "A-4", "A-9"]
STALE = ["A-3"]


def settings(url: str, **kw) -> Settings:
    values = dict(database_url=url, secret_key="pack-secret", admin_token="admin-token", base_url="http://127.0.0.1:9",
                  scheduler_enabled=False, outbox_enabled=False, analysis_enabled=False,
                  slack_signing_secret="s", slack_bot_token="xoxb-test")  # members are reached on Slack
    return Settings(**{**values, **kw})


@pytest.fixture
async def plan(db):
    return await seed_plan(db)


async def seed_plan(db):
    async with db.session() as s:
        board = Board(name="Bwrdd Gwasanaethau Cyhoeddus Môn", slug="bwrdd-mon")
        council = Organisation(name="Cyngor Sir Ynys Môn")
        s.add_all([board, council])
        await s.flush()
        chair = Person(email="chair@x.cymru", name="Eleri Chair", language="cy")
        secretariat = Person(email="sec@x.cymru", name="Sam Secretary", language="en")
        owner = Person(email="owner@x.cymru", name="Tom Owner", language="en")
        lost = Person(email="lost@x.cymru", name="Lowri Lost", language="cy")  # no chat address at all
        s.add_all([chair, secretariat, owner, lost])
        await s.flush()
        s.add_all([*chat(chair, slack="UCHAIR"), *chat(secretariat, slack="USEC"), *chat(owner, slack="UOWNER")])
        for person, role in ((chair, "chair"), (secretariat, "secretariat"), (owner, "officer"), (lost, "core")):
            s.add(Member(board_id=board.id, person_id=person.id, role=role, organisation_id=council.id))
        old = NOW - timedelta(days=90)
        recent = NOW - timedelta(days=3)
        rows = [
            ("A-1", "Red but on time", "red", TODAY + timedelta(days=40), recent),
            ("A-2", "Overdue amber", "amber", date(2007, 11, 30), recent),
            ("A-3", "Quiet for months", "green", TODAY + timedelta(days=100), old),
            ("A-4", "Red and overdue", "red", TODAY - timedelta(days=10), recent),
            ("A-5", "Fine", "green", TODAY + timedelta(days=100), recent),
            ("A-6", "Done", "complete", TODAY - timedelta(days=20), recent),
            ("A-9", "Overdue, never rated", None, TODAY - timedelta(days=2), recent),
        ]
        actions = {}
        for ref, title, rag, due, changed in rows:
            # Loaded from the plan at ``changed``; only A-3 has been on the plan, untouched, for months.
            action = Action(board_id=board.id, ref=ref, title=title, rag=rag, due=due, owner_id=owner.id,
                            created_at=changed, updated_at=changed)
            s.add(action)
            await s.flush()
            s.add(ActionLead(action_id=action.id, organisation_id=council.id))
            actions[ref] = action
        # A-1 went amber → red since the last meeting; A-5's update is from before it.
        s.add(ActionUpdate(action_id=actions["A-1"].id, rag="amber", note="Bid in", created_at=NOW - timedelta(days=70)))
        s.add(ActionUpdate(action_id=actions["A-1"].id, rag="red", note="Bid refused", author_id=owner.id, created_at=recent))
        s.add(ActionUpdate(action_id=actions["A-5"].id, rag="green", note="", created_at=NOW - timedelta(days=70)))
        s.add(ActionUpdate(action_id=actions["A-5"].id, rag="green", note="On track", created_at=NOW - timedelta(days=25)))
        s.add(ActionUpdate(action_id=actions["A-4"].id, rag="red", note="Supplier gone", created_at=recent))
        s.add_all([Meeting(board_id=board.id, held_on=PREVIOUS), Meeting(board_id=board.id, held_on=MEETING),
                   Meeting(board_id=board.id, held_on=MEETING + timedelta(days=60))])
        s.add(ScrutinyRequest(board_id=board.id, requester_id=chair.id, action_id=actions["A-4"].id,
                              subject_ref="A-4", question="Why has the supplier gone?", status="scheduled",
                              committee_date=MEETING - timedelta(days=1), due=TODAY + timedelta(days=20)))
        s.add(ScrutinyRequest(board_id=board.id, requester_id=chair.id, subject_ref="A-2", question="When?",
                              status="acknowledged", due=TODAY + timedelta(days=2)))
        s.add(ScrutinyRequest(board_id=board.id, requester_id=chair.id, subject_ref="A-5", question="Later?",
                              status="open", due=MEETING + timedelta(days=30)))
        closing = Consultation(slug="bus-routes", board_id=board.id, title_en="Bus routes", title_cy="Llwybrau bws",
                               summary_en="x", summary_cy="x", opens_at=NOW - timedelta(days=80),
                               closes_at=NOW + timedelta(days=3))
        s.add(closing)
        await s.flush()
        for n in range(3):
            s.add(Response(consultation_id=closing.id, reference=f"CY-AAAA-000{n}", withdrawal_token_hash="x",
                           text="Buses", received_at=NOW - timedelta(days=n)))
        await s.commit()
        return {"board": board.id, "chair": chair.id, "secretariat": secretariat.id}


async def the_meeting(db) -> Meeting:
    async with db.session() as s:
        return (await s.exec(select(Meeting).where(Meeting.held_on == MEETING))).one()


async def test_the_pack_holds_what_the_board_must_see(db, plan):
    async with db.session() as s:
        pack = await gather(s, await the_meeting(db), NOW, "Europe/London", ["slack"])
    assert [a.ref for a in pack.red] == RED and [a.ref for a in pack.overdue] == OVERDUE
    assert sorted(a.ref for a in pack.attention) == sorted(set(RED + OVERDUE + STALE))
    assert "A-5" not in [a.ref for a in pack.attention] and "A-6" not in [a.ref for a in pack.attention]
    assert [(c.ref, c.before, c.after, c.updates) for c in pack.changes] == [
        ("A-1", "amber", "red", 1), ("A-4", None, "red", 1), ("A-5", "green", "green", 1)]
    assert [s.subject_ref for s in pack.scrutiny] == ["A-4", "A-2"]  # scheduled before it; due by it
    assert [(c.slug, c.closed, c.responses) for c in pack.consultations] == [("bus-routes", False, 3)]
    assert [m.name for m in pack.unreachable] == ["Lowri Lost"]
    assert pack.previous_on == PREVIOUS


async def test_the_scheduler_sends_it_days_before_to_the_chair_and_secretariat_in_their_language(db, plan, database_url):
    too_early = NOW - timedelta(days=1)  # six days before
    assert await meeting_packs(db, settings(database_url), too_early) == 0
    assert await meeting_packs(db, settings(database_url), NOW) == 2
    assert await meeting_packs(db, settings(database_url), NOW) == 0  # once
    async with db.session() as s:
        rows = (await s.exec(select(OutboxMessage).where(OutboxMessage.kind == "meeting-pack"))).all()
        copies = (await s.exec(select(MeetingPack))).all()
    by = {r.recipient_id: payload_reply(r.payload, r.language).text for r in rows}
    assert set(by) == {plan["chair"], plan["secretariat"]} and len({c.link_key for c in copies}) == 2
    assert by[plan["secretariat"]].startswith(
        "The pack for Bwrdd Gwasanaethau Cyhoeddus Môn's board meeting on 6 December 2026 is ready. In this pack: "
        "5 actions needing the board's attention (2 red, 3 overdue, 1 with no update for 30 days)")
    assert by[plan["chair"]].startswith("Mae'r pecyn ar gyfer cyfarfod bwrdd") and "lang=cy" in by[plan["chair"]]
    assert all(r.respect_working_hours for r in rows)
    # A shorter setting waits until nearer the day.
    async with db.session() as s:
        for row in (await s.exec(select(OutboxMessage))).all():
            await s.delete(row)
        await s.commit()
    assert await meeting_packs(db, settings(database_url, CYSWLLT_MEETING_PACK_DAYS=2), NOW) == 0


def links_in(text: str) -> list[str]:
    return [word for word in text.split() if word.startswith("http://127.0.0.1:9/")]


async def serve(db, database_url):
    server = TestServer(create_app(settings(database_url), db=db), host="127.0.0.1")
    await server.start_server()
    return server


async def get(server, url: str, **headers) -> tuple[int, str, bytes]:
    parsed = urlparse(url)
    async with aiohttp.ClientSession() as http:
        async with http.get(server.make_url(parsed.path).with_query(parsed.query), headers=headers) as response:
            return response.status, response.headers.get("Content-Type", ""), await response.read()


def pdf_text(body: bytes, tmp_path: Path) -> str:
    path = tmp_path / "pack.pdf"
    path.write_bytes(body)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


async def test_each_recipient_has_a_signed_expiring_link_to_the_page_and_the_pdf(db, plan, database_url, tmp_path):
    await meeting_packs(db, settings(database_url), NOW)
    async with db.session() as s:
        rows = {r.recipient_id: r for r in (await s.exec(select(OutboxMessage))).all()}
    english = payload_reply(rows[plan["secretariat"]].payload, "en").text
    page_url, pdf_url = links_in(english)
    server = await serve(db, database_url)
    try:
        status, kind, body = await get(server, page_url)
        page = body.decode()
        assert status == 200 and kind.startswith("text/html") and '<html lang="en">' in page
        for ref in set(RED + OVERDUE + STALE):
            assert f">{ref}</th>" in page
        assert "Lowri Lost" in page and "Bus routes: closes on 4 December 2026 (3 responses so far)" in page
        assert "overdue since November 2007" in page and "Why has the supplier gone?" in page
        welsh_status, _, welsh = await get(server, page_url.replace("lang=en", "lang=cy"))
        assert welsh_status == 200 and "Camau sydd angen sylw&#39;r bwrdd (5)" in welsh.decode()

        status, kind, body = await get(server, pdf_url)
        assert status == 200 and kind == "application/pdf"
        text = pdf_text(body, tmp_path)
        assert "Actions that need the board's attention (5)" in text
        for ref in set(RED + OVERDUE):
            assert ref in text, f"{ref} is not in the PDF"
        status, _, body = await get(server, pdf_url.replace("lang=en", "lang=cy"))
        assert "Camau sydd angen sylw'r bwrdd (5)" in pdf_text(body, tmp_path)

        # Tampered, another copy's, expired, and none: refused, whether or not the meeting exists.
        query = parse_qs(urlparse(page_url).query)
        base = page_url.split("?")[0]
        assert (await get(server, page_url.replace(query["sig"][0], "0" * 40)))[0] == 403
        other = payload_reply(rows[plan["chair"]].payload, "cy").text
        other_copy = parse_qs(urlparse(links_in(other)[0]).query)["copy"][0]
        assert (await get(server, page_url.replace(f"copy={query['copy'][0]}", f"copy={other_copy}")))[0] == 403
        assert (await get(server, base))[0] == 403
        assert (await get(server, base.replace("/meetings/", "/meetings/9999"), ))[0] == 403
        assert (await get(server, base, Authorization="Bearer admin-token"))[0] == 200
        from handlers.packs import verify

        async with db.session() as s:
            copy = await s.get(MeetingPack, int(query["copy"][0]))
        later = datetime(2026, 12, 21, 0, 0, tzinfo=UTC).timestamp()  # two weeks after the meeting
        assert verify(settings(database_url), copy, query["exp"][0], query["sig"][0], now=later) is False
        assert verify(settings(database_url), copy, query["exp"][0], query["sig"][0], now=NOW.timestamp()) is True
    finally:
        await server.close()


async def test_the_command_line_writes_the_board_paper(sqlite_url, tmp_path):
    from storage.db import Database
    from storage.migrate import upgrade

    # A real SQLite file at the head revision, as `cyswllt db upgrade` leaves it.
    await asyncio.to_thread(upgrade, sqlite_url)
    db = Database.from_url(sqlite_url)
    try:
        await seed_plan(db)
    finally:
        await db.dispose()
    cyswllt = str(Path(sys.executable).with_name("cyswllt"))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_", "CYSWLLT_"))},
           "CYSWLLT_DATABASE_URL": sqlite_url, "SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-x"}
    meeting = MEETING.isoformat()
    done = await asyncio.to_thread(subprocess.run, [cyswllt, "meetings", "pack", "--board",
                                   "Bwrdd Gwasanaethau Cyhoeddus Môn", "--meeting", meeting],
                                   env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for ref in set(RED + OVERDUE + STALE):
        assert f"{ref} · " in done.stdout
    assert "Members nobody can reach (1)" in done.stdout and "Lowri Lost <lost@x.cymru>" in done.stdout
    pdf = tmp_path / "pack-cy.pdf"
    done = await asyncio.to_thread(subprocess.run, [cyswllt, "meetings", "pack", "--board",
                                   "Bwrdd Gwasanaethau Cyhoeddus Môn", "--meeting", meeting, "--lang", "cy",
                                   "--pdf", str(pdf)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Pecyn cyfarfod" in text
    for ref in set(RED + OVERDUE):
        assert ref in text
    wrong = subprocess.run([cyswllt, "meetings", "pack", "--board", "No such board"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert wrong.returncode == 2 and "no board called “No such board”" in wrong.stderr
    none = subprocess.run([cyswllt, "meetings", "pack", "--board", "Bwrdd Gwasanaethau Cyhoeddus Môn", "--meeting",
                           "2030-01-01"], env=env, capture_output=True, text=True, timeout=120)
    assert none.returncode == 2 and "has no board meeting on 2030-01-01" in none.stderr


async def test_the_pack_reaches_the_secretariat_on_slack_through_the_outbox(db, plan, database_url):
    from tests.fakes.slack_api import FakeSlackAPI

    await meeting_packs(db, settings(database_url), NOW)
    async with FakeSlackAPI() as fake:
        app = create_app(settings(database_url, slack_signing_secret="s", slack_bot_token="xoxb-test",
                                  slack_api_url=fake.base_url, outbox_enabled=True, outbox_poll_seconds=0.1,
                                  CYSWLLT_WORKING_HOURS="always"), db=db)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            for _ in range(100):
                sent = [c.args for c in fake.calls_to("chat.postMessage")]
                if len(sent) >= 2:
                    break
                await asyncio.sleep(0.1)
        finally:
            await server.close()
    by_channel = {c["channel"]: c["text"] for c in sent}
    assert "The pack for Bwrdd Gwasanaethau Cyhoeddus Môn's board meeting" in by_channel["USEC"]
    assert "Mae'r pecyn ar gyfer cyfarfod bwrdd" in by_channel["UCHAIR"]


async def test_the_pack_and_the_outbox_list_agree_on_who_nobody_can_reach(sqlite_url):
    """The pack's "members nobody can reach" is ``cyswllt outbox list --unreachable`` for the board:
    a Slack id counts only where Slack is set up here, and an email address once mail is."""
    from storage.db import Database
    from storage.migrate import upgrade

    await asyncio.to_thread(upgrade, sqlite_url)
    db = Database.from_url(sqlite_url)
    try:
        await seed_plan(db)
    finally:
        await db.dispose()
    cyswllt = str(Path(sys.executable).with_name("cyswllt"))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_", "CYSWLLT_"))}

    def both(**env: str) -> tuple[str, str]:
        environment = {**clean, "CYSWLLT_DATABASE_URL": sqlite_url, **env}
        pack = subprocess.run([cyswllt, "meetings", "pack", "--board", "Bwrdd Gwasanaethau Cyhoeddus Môn",
                               "--meeting", MEETING.isoformat()], env=environment, capture_output=True, text=True,
                              timeout=120)
        listed = subprocess.run([cyswllt, "outbox", "list", "--unreachable"], env=environment, capture_output=True,
                                text=True, timeout=120)
        assert pack.returncode == 0 and listed.returncode == 0, pack.stderr + listed.stderr
        return pack.stdout, listed.stdout

    everyone = ["Eleri Chair <chair@x.cymru>", "Lowri Lost <lost@x.cymru>", "Sam Secretary <sec@x.cymru>",
                "Tom Owner <owner@x.cymru>"]
    # Nothing set up here: the members' Slack ids cannot be used, so nobody can be reached.
    pack, listed = await asyncio.to_thread(both)
    assert "Members nobody can reach (4)" in pack
    assert [line.strip() for line in pack.split("Members nobody can reach (4)")[1].splitlines()[1:5]] == everyone
    assert all(person in listed for person in everyone)
    # Slack set up: only the member with no chat address at all.
    pack, listed = await asyncio.to_thread(both, SLACK_SIGNING_SECRET="s", SLACK_BOT_TOKEN="xoxb-x")
    assert "Members nobody can reach (1)" in pack and "Lowri Lost <lost@x.cymru>" in pack
    assert "Lowri Lost <lost@x.cymru>" in listed and "Eleri Chair" not in listed and "Eleri Chair <" not in pack
    # Mail set up: everyone has an email address, so everyone is reachable.
    pack, listed = await asyncio.to_thread(both, CYSWLLT_SMTP_URL="smtp://127.0.0.1:9")
    assert "Members nobody can reach (0)" in pack and "Lowri Lost" not in pack
    assert "every board member can be reached (platforms set up: email)" in listed
