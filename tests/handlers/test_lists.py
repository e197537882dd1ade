"""Complete lists: every list pages, its footer and buttons lead to the rest, and counts lead to
what they counted; "mine" is what a person owns, "org" their organisation's."""

from datetime import date, timedelta

from storage.models import Action, ActionLead, Board, Organisation
from tests.handlers.conftest import NOW


async def add_actions(db, count: int, *, overdue: bool = True, rag: str | None = None) -> None:
    """``count`` more actions on Bwrdd Ynys Môn, A-3 onwards, led by WAG, none owned."""
    async with db.session() as s:
        from sqlmodel import select

        board = (await s.exec(select(Board).where(Board.name == "Bwrdd Ynys Môn"))).one()
        wag = (await s.exec(select(Organisation).where(Organisation.name == "WAG"))).one()
        for n in range(3, 3 + count):
            due = NOW.date() - timedelta(days=30 + n) if overdue else date(2027, 6, 30)
            action = Action(board_id=board.id, ref=f"A-{n}", title=f"Plan action {n}", due=due, rag=rag)
            s.add(action)
            await s.flush()
            s.add(ActionLead(action_id=action.id, organisation_id=wag.id))
        await s.commit()


def refs(reply) -> list[str]:
    return [s.ref for s in reply.sections if s.ref]


async def test_actions_all_pages_with_a_more_button_and_the_words_for_the_next_page(board, say, db):
    await add_actions(db, 33)  # 35 actions on the board
    first = await say(board["owner"], "actions all")
    assert "All actions on Bwrdd Ynys Môn (35 actions)" in first.text
    assert refs(first) == [f"A-{n}" for n in range(1, 21)]
    assert "Showing 1–20 of 35. 15 more: type actions all 2 to see them." in first.text
    more = first.sections[-1]
    assert [(b.label, b.command) for b in more.buttons] == [("Next 15", "actions all 2")]
    second = await say(board["owner"], more.buttons[0].command)
    assert refs(second) == [f"A-{n}" for n in range(21, 36)]
    assert "Showing 21–35 of 35." in second.text and "type actions all 1 for the first page" in second.text
    assert [b.command for b in second.sections[-1].buttons] == ["actions all 1"]
    # Together the pages hold every action, once.
    assert sorted(refs(first) + refs(second)) == sorted(f"A-{n}" for n in range(1, 36))
    beyond = await say(board["owner"], "actions all 9")
    assert beyond.text == "There are only 2 pages: type actions all for the first."


async def test_welsh_pages_avoid_a_before_a_digit(board, say, db):
    await add_actions(db, 33)
    first = await say(board["owner"], "camau popeth")
    assert "Yn dangos 1–20 o 35. Mae 15 arall heb eu dangos: teipiwch camau popeth 2 i'w gweld." in first.text
    assert "…a 15" not in first.text
    assert [b.command for b in first.sections[-1].buttons] == ["camau popeth 2"]
    second = await say(board["owner"], "camau popeth 2")
    assert second.language == "cy" and refs(second)[0] == "A-21"


async def test_status_lists_every_overdue_action_or_leads_to_them(board, say, db):
    await add_actions(db, 33)  # 34 overdue: ..A-35
    reply = await say(board["owner"], "status")
    assert "35 actions on the plan; 34 overdue." in reply.text
    overdue = next(s for s in reply.sections if (s.heading or "").startswith("Overdue"))
    assert overdue.heading == "Overdue (34 actions)"
    assert overdue.text.count(" · Plan action") + overdue.text.count(" · Free up") == 15
    assert "…and 19 more: type actions overdue to see every one." in overdue.text
    assert [b.command for b in overdue.buttons] == ["actions overdue"]
    listed = await say(board["owner"], "actions overdue")
    listed2 = await say(board["owner"], "actions overdue 2")
    assert len(refs(listed)) + len(refs(listed2)) == 34
    # Each count is a button to the actions it counted.
    unrated = next(s for s in reply.sections if s.text.startswith("not yet rated:"))
    assert unrated.text == "not yet rated: 35" and [b.command for b in unrated.buttons] == ["actions unrated"]
    assert "(35 actions)" in (await say(board["owner"], "actions unrated")).text


async def test_actions_by_colour(board, say, db):
    await add_actions(db, 3, overdue=False, rag="amber")
    reply = await say(board["owner"], "actions amber")
    assert "Actions that are amber on Bwrdd Ynys Môn (3 actions)" in reply.text and refs(reply) == ["A-3", "A-4", "A-5"]
    assert (await say(board["owner"], "actions red")).text == "No action on Bwrdd Ynys Môn is red."
    welsh = await say(board["owner"], "camau ambr")
    assert welsh.language == "cy" and "Camau sy'n ambr ar Fwrdd Ynys Môn (3 cham)" in welsh.text


async def test_mine_is_what_a_person_owns_not_what_their_organisation_leads(board, say, db):
    await add_actions(db, 33)  # WAG leads all 35, as the Welsh Government co-leads every action
    colleague = await say(board["colleague"], "actions")  # a WAG member who owns nothing
    assert refs(colleague) == [] and "You own no actions on Bwrdd Ynys Môn." in colleague.text
    assert "WAG leads 34 actions here: type actions org to see them." in colleague.text
    org = await say(board["colleague"], "actions org")
    assert "Actions WAG leads on Bwrdd Ynys Môn (34 actions)" in org.text and len(refs(org)) == 20
    assert [b.command for b in org.sections[-1].buttons] == ["actions org 2"]
    owner = await say(board["owner"], "actions")
    assert refs(owner) == ["A-1"]
    home = await say(board["owner"], "home")
    assert [s.ref for s in home.sections if s.ref] == ["A-1"]
    assert ("not yet rated: 35", "actions unrated") in [(b.label, b.command) for s in home.sections for b in s.buttons]
    outsider = await say(board["outsider"], "actions org")  # Heddlu leads nothing
    assert outsider.text == "Heddlu leads no actions on Bwrdd Ynys Môn."
    no_org = await say(board["chair"], "camau sefydliad")
    assert no_org.language == "cy" and "Does dim sefydliad wrth eich sedd ar Fwrdd Ynys Môn" in no_org.text


async def test_history_and_scrutiny_list_page_too(board, say, db):
    for n in range(25):
        await say(board["owner"], f"update A-1 amber step {n}")
    first = await say(board["owner"], "history A-1")
    assert "Update history for A-1 (25 updates)" in first.text and "step 24" in first.text and "step 4" not in first.text
    assert [b.command for b in first.sections[-1].buttons] == ["history A-1 2"]
    second = await say(board["owner"], "history A-1 2")
    assert "step 4" in second.text and "step 0" in second.text and "step 24" not in second.text
    for n in range(22):
        await say(board["owner"], f"scrutiny A-1 Question {n}?")
    listing = await say(board["owner"], "scrutiny list")
    assert "(22 requests)" in listing.text and "Showing 1–20 of 22" in listing.text
    assert [b.command for b in listing.sections[-1].buttons] == ["scrutiny list 2"]
    rest = await say(board["owner"], "scrutiny list 2")
    assert "Question 1?" in rest.text and "Question 0?" in rest.text and "Question 21?" not in rest.text
