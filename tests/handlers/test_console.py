"""``cyswllt chat``: the real command in a subprocess, on a SQLite file seeded through the migrations."""

import asyncio
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.migrate import upgrade
from storage.models import Action, ActionLead, ActionUpdate, Board, Member, Organisation, Person

# The console script installed beside the interpreter running the tests (whatever the venv is called),
# or the module when the project is not installed as a script.
_SCRIPT = Path(sys.executable).with_name("cyswllt")
CYSWLLT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cyswllt.cli"]


@pytest.fixture
async def chat_db(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
    await asyncio.to_thread(upgrade, url)  # the schema serve and chat bring up themselves
    db = Database.from_url(url)
    async with db.session() as s:
        board = Board(name="Bwrdd Gwasanaethau Cyhoeddus Môn")
        other = Board(name="Gwynedd Local Service Board")
        org = Organisation(name="Cyngor Sir Ynys Môn")
        s.add_all([board, other, org])
        await s.flush()
        owner = Person(email="gwen@example.cymru", name="Gwen Parry", language="en")
        two = Person(email="dau@example.cymru", name="Dai Dau", language="cy")
        s.add_all([owner, two])
        await s.flush()
        s.add_all([Member(board_id=board.id, person_id=owner.id, role="officer", organisation_id=org.id),
                   Member(board_id=board.id, person_id=two.id, role="core"),
                   Member(board_id=other.id, person_id=two.id, role="core")])
        action = Action(board_id=board.id, ref="A-12", title="Joint recycling campaign", owner_id=owner.id,
                        due=date(2007, 10, 31), due_text="October 07", rag="red")
        s.add_all([action, Action(board_id=other.id, ref="A-1", title="Gwynedd coastal path", due_text="2027")])
        await s.flush()
        s.add(ActionLead(action_id=action.id, organisation_id=org.id))
        await s.commit()
    yield url, db
    await db.dispose()


def chat(url: str, *args: str, stdin: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CYSWLLT_DATABASE_URL": url}
    return subprocess.run([*CYSWLLT, "chat", *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=120)


async def test_chat_answers_in_english_then_welsh(chat_db):
    url, _ = chat_db
    run = await asyncio.to_thread(chat, url, "--as", "gwen@example.cymru", stdin="actions\ncamau\n")
    assert run.returncode == 0, run.stderr
    english, welsh = run.stdout.split("Eich camau ar")
    assert "Your actions on Bwrdd Gwasanaethau Cyhoeddus Môn (1 action)" in english
    assert "🔴 A-12 · Joint recycling campaign" in english
    assert "Due: 31 October 2007 (“October 07”)" in english and "Status: red" in english
    assert "[Update: update A-12]" in english and "[History: history A-12]" in english
    assert "(1 cam)" in welsh and "Erbyn: 31 Hydref 2007 (“October 07”)" in welsh
    assert "Statws: coch" in welsh and "[Diweddaru: diweddaru A-12]" in welsh and "[Hanes: hanes A-12]" in welsh
    assert "lsb>" not in run.stdout  # no prompt when stdin is not a terminal


async def test_chat_writes_to_the_same_database(chat_db):
    url, db = chat_db
    run = await asyncio.to_thread(chat, url, "--as", "GWEN@example.cymru",
                                  stdin="update a-12 complete Campaign launched\nhanes A-12\n")
    assert run.returncode == 0, run.stderr
    assert "Thank you — A-12 is now complete." in run.stdout
    assert "Hanes diweddariadau A-12" in run.stdout and "wedi'i gwblhau — Gwen Parry: Campaign launched" in run.stdout
    async with db.session() as s:
        assert [(u.rag, u.note) for u in (await s.exec(select(ActionUpdate))).all()] == [
            ("complete", "Campaign launched")]


async def test_chat_board_option_for_a_member_of_two_boards(chat_db):
    url, _ = chat_db
    asked = await asyncio.to_thread(chat, url, "--as", "dau@example.cymru", stdin="camau popeth\n")
    assert "Rydych chi ar fwy nag un bwrdd" in asked.stdout and "Gwynedd Local Service Board" in asked.stdout
    chosen = await asyncio.to_thread(chat, url, "--as", "dau@example.cymru", "--board", "gwynedd",
                                     stdin="camau popeth\n")
    assert chosen.returncode == 0, chosen.stderr
    assert "Gwynedd coastal path" in chosen.stdout and "Joint recycling" not in chosen.stdout


async def test_chat_refuses_an_unknown_email(chat_db):
    url, _ = chat_db
    run = await asyncio.to_thread(chat, url, "--as", "nobody@example.com", stdin="actions\n")
    assert run.returncode == 2
    assert "add you as a board member" in run.stderr and "Traceback" not in run.stderr
