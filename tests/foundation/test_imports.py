import pytest
from sqlmodel import select

from storage.imports import ImportRefused, import_actions, import_members
from storage.models import Action, ActionLead, ActionUpdate, Board, Member, Organisation, Person

ACTIONS = """ref,priority,title,lead,owner_email,due,rag
A-1,P-1,Free up local authorities to work on LSBs,WAG,sarah@example.cymru,October 07,amber
a-2,Healthier communities,Closer partnership working with the NHS,WAG;WLGA;NHS,,Ongoing,
A-3,,Gwella'r gwasanaeth bws i Ynys Môn — ŵ ŷ,Cyngor Sir Ynys Môn,,Spring 2008,coch
"""

MEMBERS = """name,email,organisation,sector,role,language,slack_user_id,teams_user_id
Sarah Evans,Sarah@example.cymru,WAG,welsh government,officer,en,U0SARAH,
Siân Ŵyn,sian@example.cymru,Cyngor Sir Ynys Môn,local government,chair,cy,U0SIAN,aad-1
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
        assert (sian.name, sian.language, sian.slack_user_id) == ("Siân Ŵyn", "cy", "U0SIAN")
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
