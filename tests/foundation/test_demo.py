import csv
import io
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.demo import plan_near, shift_years, year_shift
from storage.duedates import parse_due
from storage.models import Action, Board, Consultation, ConsultationGroup, Member, Question, Response, utcnow
from storage.reach import addresses_of

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
            today = utcnow().date()
            october = shift_years("October 07", year_shift("October 07", "complete", 1, today))  # A-1, done
            assert {a.due_text for a in actions} >= {october, "Ongoing"}
            assert any(a.due_text.startswith("Run up to 20") and a.due is None for a in actions)
            (board,) = (await s.exec(select(Board))).all()
            assert board.slug == "ynys-mon-local-service-board" and board.published  # the demo shows its pages
            roles = {m.role for m in (await s.exec(select(Member))).all()}
            assert roles >= {"chair", "secretariat", "core", "wider", "officer", "scrutiny", "coordinator"}
            consultation = (await s.exec(select(Consultation))).one()
            assert consultation.title_cy and consultation.summary_cy
            kinds = [q.kind for q in (await s.exec(select(Question).where(
                Question.consultation_id == consultation.id))).all()]
            assert "welsh_language" in kinds
            assert len((await s.exec(select(ConsultationGroup))).all()) == 4
            responses = (await s.exec(select(Response).where(Response.consultation_id == consultation.id))).all()
            # At least forty, in both languages, from several groups, analysed: the first digest has content.
            assert len(responses) >= 40 and {r.language for r in responses} == {"cy", "en"}
            assert len({r.group_id for r in responses if r.group_id}) >= 3
            assert {r.analysis_state for r in responses} == {"done"}
            assert {r.sentiment for r in responses} == {"positive", "neutral", "negative"}
    finally:
        await db.dispose()

    env = {**os.environ, "CYSWLLT_DATABASE_URL": sqlite_url}
    chat = subprocess.run([*CLI, "chat", "--as", "sarah.evans@demo.cyswllt.cymru"], input="actions\ncamau\n",
                          env=env, capture_output=True, text=True, timeout=120)
    assert chat.returncode == 0, chat.stderr
    assert "Your actions on Ynys Môn Local Service Board" in chat.stdout
    assert "Eich camau ar Ynys Môn Local Service Board" in chat.stdout
    shift = year_shift("October 07", "complete", 1, utcnow().date())
    assert f"(“{shift_years('October 07', shift)}”)" in chat.stdout and f"31 Hydref {2007 + shift}" in chat.stdout
    assert "in the second demo run" not in second.stdout and "already there" in second.stdout

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
    assert any(line.startswith("35 actions from the seed action plan") and "(0 new, 0 updated)" in line
               for line in report)
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
        assert sorted(groups) == ["Busnesau lleol", "Pobl hŷn", "Pobl ifanc", "Siaradwyr Cymraeg"]
        chair = (await s.exec(select(Person).where(Person.email == "chair@demo.cyswllt.cymru"))).one()
        assert chair.language == "cy" and "Ŵ" in chair.name
        assert (await addresses_of(s, chair))["slack"] == "U0DEMOCHAIR"
        assert (await s.exec(select(Action).where(Action.owner_id == chair.id))).all()
        # Every owner named in the demo plan is a demo member.
        assert not (await s.exec(select(Action).where(Action.owner_email.is_not(None),
                                                      Action.owner_id.is_(None)))).all()



@pytest.mark.parametrize("today", [date(2026, 12, 1), date(2027, 6, 15), date(2030, 2, 28)])
def test_the_demo_plan_falls_around_today_and_its_words_still_give_its_dates(today):
    seed = list(csv.DictReader((ROOT / "storage" / "demo_data" / "actions.csv").open(encoding="utf-8")))
    moved = list(csv.DictReader(io.StringIO(plan_near(today))))
    upcoming, overdue = [], []
    for before, after in zip(seed, moved):
        # The words keep their shape: only the digits of years change.
        assert [c for c in before["due"] if not c.isdigit()] == [c for c in after["due"] if not c.isdigit()]
        then, now = parse_due(before["due"]), parse_due(after["due"])
        assert (then is None) == (now is None), before["due"]
        if then is None:
            continue
        shift = now.year - then.year
        # The same month, whole years on, and its last day where it was (29 February too): the words
        # and the date agree under the brief's rules.
        assert now.month == then.month and (now.day == then.day or now.month == 2), (before["due"], after["due"])
        assert parse_due(shift_years(before["due"], shift)) == now
        assert today - timedelta(days=366) <= now < today + timedelta(days=366)
        if before["rag"] == "complete":
            assert now < today  # done, in the past
        elif now < today:
            overdue.append(before["ref"])
        else:
            upcoming.append(now)
    reds = [r["ref"] for r in seed if r["rag"] == "red" and parse_due(r["due"])]
    assert set(reds) <= set(overdue) and 2 <= len(overdue) < len(upcoming)  # a few overdue, most on track
    if today == date(2026, 12, 1):
        assert min(upcoming) <= today + timedelta(days=31)  # and the nearest due within weeks
