import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import Action, Board, Consultation, ConsultationGroup, Member, Question, utcnow

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seeds" / "000_7e943aa364a74a15.txt"
CLI = [sys.executable, "-m", "cyswllt.cli"]


def seed_rows() -> list[tuple[str, str]]:
    """(action, by when) for every row of the seed's Action / By whom / By when tables."""
    rows = []
    for line in SEED.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if len(cells) >= 2 and cells[0].replace("<b>", "").replace("</b>", "").strip() != "Action":
            rows.append((cells[0].strip(), cells[2].strip() if len(cells) > 2 else ""))
    return rows


def run(*args, url):
    env = {**os.environ, "CYSWLLT_DATABASE_URL": url}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not SEED.exists(), reason="the seed documents are not beside this checkout")
def test_shipped_demo_data_holds_every_seed_action_row():
    shipped = list(csv.DictReader((ROOT / "storage" / "demo_data" / "actions.csv").open(encoding="utf-8")))
    assert [(r["title"], r["due"]) for r in shipped] == seed_rows()
    assert all(r["lead"] for r in shipped[:28])


async def test_demo_loads_twice_and_the_console_answers_in_both_languages(sqlite_url):
    first = run("demo", url=sqlite_url)
    assert first.returncode == 0, first.stderr
    second = run("demo", url=sqlite_url)
    assert second.returncode == 0, second.stderr
    db = Database.from_url(sqlite_url)
    try:
        async with db.session() as s:
            actions = (await s.exec(select(Action))).all()
            assert len(actions) == 35 == len({a.ref for a in actions})
            assert {a.due_text for a in actions} >= {"October 07", "Ongoing", "Run up to 2008 local elections"}
            (board,) = (await s.exec(select(Board))).all()
            assert board.slug == "ynys-mon-local-service-board" and board.published  # the demo shows its pages
            roles = {m.role for m in (await s.exec(select(Member))).all()}
            assert roles >= {"chair", "secretariat", "core", "wider", "officer", "scrutiny", "coordinator"}
            consultation = (await s.exec(select(Consultation))).one()
            assert consultation.title_cy and consultation.summary_cy
            kinds = [q.kind for q in (await s.exec(select(Question).where(
                Question.consultation_id == consultation.id))).all()]
            assert "welsh_language" in kinds
            assert len((await s.exec(select(ConsultationGroup))).all()) == 2
    finally:
        await db.dispose()

    env = {**os.environ, "CYSWLLT_DATABASE_URL": sqlite_url}
    chat = subprocess.run([*CLI, "chat", "--as", "sarah.evans@demo.cyswllt.cymru"], input="actions\ncamau\n",
                          env=env, capture_output=True, text=True, timeout=120)
    assert chat.returncode == 0, chat.stderr
    assert "Your actions on Ynys Môn Local Service Board" in chat.stdout
    assert "Eich camau ar Ynys Môn Local Service Board" in chat.stdout
    assert "(“October 07”)" in chat.stdout and "31 Hydref 2007" in chat.stdout

    stranger = subprocess.run([*CLI, "chat", "--as", "nobody@example.com"], input="actions\n",
                              env=env, capture_output=True, text=True, timeout=120)
    assert stranger.returncode == 2
    assert "add you as a board member" in stranger.stderr


async def test_demo_load_is_idempotent_on_both_databases(db):
    from storage.demo import load
    from storage.models import ActionUpdate, Meeting, Person, StakeholderGroup

    for _ in range(2):
        async with db.session() as s:
            report = await load(s)
            await s.commit()
    assert "35 actions from the seed action plan (0 new, 0 updated)" in report
    async with db.session() as s:
        assert len((await s.exec(select(Action))).all()) == 35
        ratings = (await s.exec(select(ActionUpdate))).all()
        assert len(ratings) == 12 and {u.source for u in ratings} == {"import"}
        assert len((await s.exec(select(Meeting))).all()) == 2
        consultation = (await s.exec(select(Consultation))).one()
        assert consultation.opens_at <= utcnow() < consultation.closes_at
        assert (consultation.closes_at - utcnow()).days in (83, 84)
        welsh = (await s.exec(select(Question).where(Question.key == "welsh-language"))).one()
        assert welsh.kind == "welsh_language" and "Gymraeg" in welsh.text_cy and "Welsh language" in welsh.text_en
        groups = (await s.exec(select(StakeholderGroup.name_cy))).all()
        assert sorted(groups) == ["Pobl ifanc", "Siaradwyr Cymraeg"]
        chair = (await s.exec(select(Person).where(Person.email == "chair@demo.cyswllt.cymru"))).one()
        assert chair.slack_user_id == "U0DEMOCHAIR" and chair.language == "cy" and "Ŵ" in chair.name
        assert (await s.exec(select(Action).where(Action.owner_id == chair.id))).all()
        # Every owner named in the demo plan is a demo member.
        assert not (await s.exec(select(Action).where(Action.owner_email.is_not(None),
                                                      Action.owner_id.is_(None)))).all()
