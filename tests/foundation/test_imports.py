import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from storage.imports import ImportRefused, import_actions, import_members
from storage.models import (
    Action,
    ActionLead,
    ActionUpdate,
    Board,
    ConversationReference,
    Member,
    Organisation,
    Person,
    Priority,
)
from storage.reach import addresses_of, reach

ACTIONS = """ref,priority,title,lead,owner_email,due,rag
A-1,P-1,Free up local authorities to work on LSBs,WAG,sarah@example.cymru,October 07,amber
a-2,Healthier communities,Closer partnership working with the NHS,WAG;WLGA;NHS,,Ongoing,
A-3,,Gwella'r gwasanaeth bws i Ynys Môn — ŵ ŷ,Cyngor Sir Ynys Môn,,Spring 2008,coch
"""

MEMBERS = """name,email,organisation,sector,role,language,slack_user_id,teams_user_id
Sarah Evans,Sarah@example.cymru,WAG,welsh government,officer,en,U0SARAH,
Siân Ŵyn,sian@example.cymru,Cyngor Sir Ynys Môn,local government,Cadeirydd,Cymraeg,U0SIAN,aad-1
"""


async def test_actions_import_keeps_words_and_leads(db):
    async with db.session() as s:
        result = await import_actions(s, "Bwrdd Ynys Môn", ACTIONS)
        await s.commit()
    assert (result.created, result.board_created) == (3, True)
    async with db.session() as s:
        actions = {a.ref: a for a in (await s.exec(select(Action))).all()}
        assert set(actions) == {"A-1", "A-2", "A-3"}
        assert actions["A-1"].due_text == "October 07" and actions["A-1"].due.isoformat() == "2007-10-31"
        assert actions["A-2"].due is None and actions["A-2"].due_text == "Ongoing"
        assert actions["A-3"].title.endswith("ŵ ŷ") and actions["A-3"].rag == "red"
        leads = (await s.exec(select(Organisation.name).join(ActionLead).where(
            ActionLead.action_id == actions["A-2"].id).order_by(ActionLead.position))).all()
        assert list(leads) == ["WAG", "WLGA", "NHS"]
        ratings = (await s.exec(select(ActionUpdate.rag, ActionUpdate.source))).all()
        assert sorted(ratings) == [("amber", "import"), ("red", "import")]


async def test_reimport_is_idempotent(db):
    async with db.session() as s:
        await import_actions(s, "B", ACTIONS)
        await s.commit()
    async with db.session() as s:
        again = await import_actions(s, "b", ACTIONS)
        await s.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    async with db.session() as s:
        assert len((await s.exec(select(Action))).all()) == 3
        assert len((await s.exec(select(Board))).all()) == 1
        assert len((await s.exec(select(ActionUpdate))).all()) == 2


async def test_one_bad_row_imports_nothing_and_names_the_row(db):
    bad = ACTIONS + "B-4,,No title ref,WAG,not-an-email,2009,purple\n"
    async with db.session() as s:
        with pytest.raises(ImportRefused) as refused:
            await import_actions(s, "B", bad)
        await s.rollback()
    found = {(e.line, e.column) for e in refused.value.errors}
    assert {(5, "ref"), (5, "owner_email"), (5, "rag")} <= found
    assert "line 5, column rag" in str(refused.value)
    async with db.session() as s:
        assert (await s.exec(select(Action))).all() == []
        assert (await s.exec(select(Board))).all() == []


@pytest.mark.parametrize("header, complaint", [
    ("ref,title,colour", "unknown column(s) 'colour'"),
    ("priority,lead,due", "missing required column(s): ref, title"),
])
async def test_unknown_or_missing_columns_are_refused(db, header, complaint):
    async with db.session() as s:
        with pytest.raises(ImportRefused, match=__import__("re").escape(complaint)):
            await import_actions(s, "B", header + "\n")


async def test_members_import_links_owners_and_is_idempotent(db):
    async with db.session() as s:
        await import_actions(s, "Bwrdd", ACTIONS)
        first = await import_members(s, "Bwrdd", MEMBERS)
        await s.commit()
    assert first.created == 2
    async with db.session() as s:
        again = await import_members(s, "Bwrdd", MEMBERS)
        await s.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    async with db.session() as s:
        sian = (await s.exec(select(Person).where(Person.email == "sian@example.cymru"))).one()
        assert (sian.name, sian.language, sian.preferred_platform) == ("Siân Ŵyn", "cy", None)
        assert await addresses_of(s, sian) == {"slack": "U0SIAN", "teams": "aad-1"}
        assert (await s.exec(select(Member.role).where(Member.person_id == sian.id))).one() == "chair"
        sarah = (await s.exec(select(Person).where(Person.email == "sarah@example.cymru"))).one()
        a1 = (await s.exec(select(Action).where(Action.ref == "A-1"))).one()
        assert a1.owner_id == sarah.id


async def test_bad_member_rows_are_all_reported(db):
    rows = MEMBERS + "No Email,,WAG,,boss,xx,not-slack,\n"
    async with db.session() as s:
        with pytest.raises(ImportRefused) as refused:
            await import_members(s, "B", rows)
    columns = {e.column for e in refused.value.errors if e.line == 4}
    assert columns == {"email", "role", "language", "slack_user_id"}


PREFERRING = """name,email,role,language,slack_user_id,teams_user_id,preferred_platform
Sarah Evans,sarah@example.cymru,officer,en,U0SARAH,,email
Siân Ŵyn,sian@example.cymru,chair,cy,U0SIAN,aad-1,Teams
Dai Jones,dai@example.cymru,officer,en,U0DAI,,teams
Gwen Parry,gwen@example.cymru,officer,cy,U0GWEN,,
"""


async def test_members_may_say_which_platform_they_prefer_and_routing_honours_it(db):
    """``preferred_platform`` (slack|teams|email) comes before CYSWLLT_PLATFORM_ORDER when that platform
    is set up here and the member has an address on it; otherwise the order decides, as before."""
    async with db.session() as s:
        await import_members(s, "Bwrdd", PREFERRING)
        await s.commit()
    async with db.session() as s:
        people = {p.email.split("@")[0]: p for p in (await s.exec(select(Person))).all()}
        # Sian has a Teams id but no chat with the bot yet: Teams cannot reach her until she has one.
        s.add(ConversationReference(conversation_id="a:sian", person_id=people["sian"].id, scope="personal",
                                    teams_user_id="aad-1", reference={}))
        await s.commit()
        ids = {k: p.id for k, p in people.items()}
        assert {k: p.preferred_platform for k, p in people.items()} == {
            "sarah": "email", "sian": "teams", "dai": "teams", "gwen": None}

        everything = await reach(s, ["slack", "teams", "email"])
        assert everything[ids["sarah"]] == ("email", "sarah@example.cymru")  # preferred, and mail is set up
        assert everything[ids["sian"]] == ("teams", "a:sian")  # preferred over Slack, first in the order
        assert everything[ids["dai"]] == ("slack", "U0DAI")  # prefers Teams but has no address there
        assert everything[ids["gwen"]] == ("slack", "U0GWEN")  # no preference: the order
        # A preferred platform that is not set up here is passed over.
        assert (await reach(s, ["slack"]))[ids["sarah"]] == ("slack", "U0SARAH")
        assert (await reach(s, ["email", "slack"]))[ids["gwen"]] == ("email", "gwen@example.cymru")

    # An empty cell keeps the preference; a new one replaces it; a Slack id given again moves.
    async with db.session() as s:
        again = await import_members(s, "Bwrdd", "name,email,slack_user_id,preferred_platform\n"
                                                 "Sarah Evans,sarah@example.cymru,,\n"
                                                 "Dai Jones,dai@example.cymru,U0DAI2,slack\n")
        await s.commit()
    assert (again.updated, again.unchanged) == (1, 1)
    async with db.session() as s:
        sarah = (await s.exec(select(Person).where(Person.email == "sarah@example.cymru"))).one()
        dai = (await s.exec(select(Person).where(Person.email == "dai@example.cymru"))).one()
        assert sarah.preferred_platform == "email" and dai.preferred_platform == "slack"
        assert await addresses_of(s, dai) == {"slack": "U0DAI2"}

    async with db.session() as s:
        with pytest.raises(ImportRefused) as refused:
            await import_members(s, "Bwrdd", "name,email,preferred_platform\nNia,nia@example.cymru,fax\n")
    (error,) = refused.value.errors
    assert (error.line, error.column) == (2, "preferred_platform") and "slack, teams, email" in error.reason


async def test_bom_duplicate_refs_and_multiline_rows_are_named_by_their_first_line(db):
    text = ("\ufeff" + ACTIONS
            + 'A-4,,"A title that runs\nover two lines",WAG,,,\n'
            + "A-1,,Same ref again,WAG,,,\n"
            + "A-5,,,WAG,,,green\n")
    async with db.session() as s:
        with pytest.raises(ImportRefused) as refused:
            await import_actions(s, "B", text)
    assert [(e.line, e.column) for e in refused.value.errors] == [(7, "ref"), (8, "title")]
    assert "A-1 is already on line 2" in str(refused.value)


async def test_priorities_by_ref_or_title_and_welsh_rag_words(db):
    text = ("ref,priority,title,lead,owner_email,due,rag\n"
            "A-1,Cymunedau iachach,One,Bwrdd Iechyd Prifysgol Betsi Cadwaladr; Cyngor Gwynedd ,,Gwanwyn 2027,gwyrdd\n"
            "A-2,cymunedau IACHACH,Two,,,,cwblhawyd\n"
            "A-3,P-7,Three,,,,Ambr\n")
    async with db.session() as s:
        await import_actions(s, "Bwrdd Gwynedd a Môn", text)
        await s.commit()
    async with db.session() as s:
        rows = (await s.exec(select(Action.ref, Priority.ref, Priority.title, Action.rag, Action.due)
                             .join(Priority).order_by(Action.ref))).all()
        assert [tuple(r[:4]) for r in rows] == [("A-1", "P-1", "Cymunedau iachach", "green"),
                                               ("A-2", "P-1", "Cymunedau iachach", "complete"),
                                               ("A-3", "P-7", "P-7", "amber")]
        assert rows[0][4].isoformat() == "2027-05-31"
        orgs = (await s.exec(select(Organisation.name).join(ActionLead).order_by(ActionLead.position))).all()
        assert list(orgs) == ["Bwrdd Iechyd Prifysgol Betsi Cadwaladr", "Cyngor Gwynedd"]


async def test_changing_a_rating_by_import_appends_an_update(db):
    async with db.session() as s:
        await import_actions(s, "B", ACTIONS)
        await s.commit()
    async with db.session() as s:
        result = await import_actions(s, "B", ACTIONS.replace(",amber\n", ",green\n"))
        await s.commit()
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    async with db.session() as s:
        a1 = (await s.exec(select(Action).where(Action.ref == "A-1"))).one()
        history = (await s.exec(select(ActionUpdate.rag).where(ActionUpdate.action_id == a1.id)
                                .order_by(ActionUpdate.id))).all()
        assert (a1.rag, list(history)) == ("green", ["amber", "green"])


def _cli(*args, url):
    env = {**os.environ, "CYSWLLT_DATABASE_URL": url}
    return subprocess.run([str(Path(sys.executable).with_name("cyswllt")), *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_cli_imports_reports_and_refuses(tmp_path, sqlite_url):
    actions, members = tmp_path / "actions.csv", tmp_path / "members.csv"
    actions.write_text(ACTIONS, encoding="utf-8")
    members.write_text(MEMBERS, encoding="utf-8")
    done = _cli("import", "actions", str(actions), "--board", "Bwrdd Môn", url=sqlite_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Imported 3 actions into board Bwrdd Môn (3 new, 0 updated, 0 unchanged, a new board)"
    again = _cli("import", "members", str(members), "--board", "bwrdd môn", url=sqlite_url)
    assert again.stdout.strip() == "Imported 2 members into board Bwrdd Môn (2 new, 0 updated, 0 unchanged)"

    actions.write_text(ACTIONS + "A-9,,Rhywbeth,WAG,,,piws\n", encoding="utf-8")
    refused = _cli("import", "actions", str(actions), "--board", "Bwrdd Môn", url=sqlite_url)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "nothing was imported" in refused.stderr and "line 5, column rag" in refused.stderr
    assert "Traceback" not in refused.stderr

    (tmp_path / "odd.csv").write_text("ref,title,colour\n", encoding="utf-8")
    odd = _cli("import", "actions", str(tmp_path / "odd.csv"), "--board", "X", url=sqlite_url)
    assert odd.returncode == 2 and "unknown column(s) 'colour'" in odd.stderr
    missing = _cli("import", "members", str(tmp_path / "nowhere.csv"), "--board", "X", url=sqlite_url)
    assert missing.returncode == 2 and "no such file" in missing.stderr

    meeting = _cli("meetings", "add", "--board", "Bwrdd Môn", "2031-03-14", url=sqlite_url)
    assert meeting.returncode == 0 and "Added board meeting on 2031-03-14" in meeting.stdout
    twice = _cli("meetings", "add", "--board", "Bwrdd Môn", "2031-03-14", url=sqlite_url)
    assert twice.returncode == 0 and "Already there" in twice.stdout
    nowhere = _cli("meetings", "add", "--board", "No Such Board", "2031-03-14", url=sqlite_url)
    assert nowhere.returncode == 2 and "no board called" in nowhere.stderr
    bad_date = _cli("meetings", "add", "--board", "Bwrdd Môn", "14/03/2031", url=sqlite_url)
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr


def test_cli_on_a_postgresql_database_without_tables_says_what_to_do(tmp_path, postgres_server):
    url = postgres_server.create_database(f"unmigrated_{os.getpid()}_{id(tmp_path)}")
    (tmp_path / "a.csv").write_text(ACTIONS, encoding="utf-8")
    result = _cli("import", "actions", str(tmp_path / "a.csv"), "--board", "B", url=url)
    assert result.returncode == 2 and "cyswllt db upgrade" in result.stderr
    assert "Traceback" not in result.stderr
