"""The one `update` grammar: a red update needs a note, `public:`/`cyhoeddus:` gives the public
summary (stored on the append-only update), a rating from the plan reads "from the plan, DATE",
and overdue is said in words."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from cyswllt.i18n import overdue_phrase
from storage.models import Action, ActionUpdate, OutboxMessage


async def updates(db):
    async with db.session() as s:
        return (await s.exec(select(ActionUpdate).order_by(ActionUpdate.id))).all()


async def test_red_without_a_note_is_refused_and_nothing_is_stored(board, say, db):
    reply = await say(board["owner"], "update A-1 red")
    assert reply.text.startswith("A red update needs a note: what is wrong, and what happens next. Nothing has been saved.")
    assert "update A-1 red Funding bid refused" in reply.text
    assert reply.sections[0].buttons[0].form.command == "update A-1 {rag} {note} public: {public}"
    welsh = await say(board["owner"], "diweddaru A-1 coch")
    assert welsh.text.startswith("Mae angen nodyn gyda diweddariad coch")
    only_public = await say(board["owner"], "update A-1 red public: All is well")
    assert only_public.text.startswith("A red update needs a note")
    assert await updates(db) == []
    async with db.session() as s:
        assert (await s.exec(select(Action).where(Action.ref == "A-1"))).first().rag is None
        assert (await s.exec(select(OutboxMessage))).all() == []


async def test_public_summary_is_stored_apart_from_the_note(board, say, db):
    reply = await say(board["owner"], "update A-1 green Contract signed with Acme; invoices chased public: The contract is signed.")
    assert reply.text.startswith("Thank you — A-1 is now green. Public summary: The contract is signed.")
    await say(board["owner"], "diweddaru A-1 coch Mae'r cyllid wedi'i dynnu'n ôl cyhoeddus: Mae'r cyllid wedi'i oedi.")
    await say(board["owner"], "update A-1 amber Waiting on the council")
    stored = [(u.rag, u.note, u.public_summary) for u in await updates(db)]
    assert stored == [("green", "Contract signed with Acme; invoices chased", "The contract is signed."),
                      ("red", "Mae'r cyllid wedi'i dynnu'n ôl", "Mae'r cyllid wedi'i oedi."),
                      ("amber", "Waiting on the council", None)]
    history = await say(board["owner"], "history A-1")
    assert "(public: The contract is signed.)" in history.text


async def test_a_form_submission_with_no_public_summary_stores_none(board, say, db):
    # What a submitted modal or card with the optional field left empty turns into.
    await say(board["owner"], "update A-1 amber Waiting on the council public: ")
    assert [(u.note, u.public_summary) for u in await updates(db)] == [("Waiting on the council", None)]


async def test_a_red_notice_carries_the_note_and_a_complete_one_reads_without_a_dash(board, say, db):
    await say(board["owner"], "update A-1 red Funding withdrawn; new bid in January")
    await say(board["chair"], "update A-2 complete")
    async with db.session() as s:
        notices = [m.payload["reply"]["text"] for m in (await s.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "notice", OutboxMessage.platform == "slack").order_by(OutboxMessage.id))).all()]
    assert notices == ["A-1 “Free up local authorities” has turned red. Tom Jones: Funding withdrawn; new bid in January",
                       "Mae A-2 “Closer partnership working (yn Saesneg)” wedi'i gwblhau (Siân Ŵyn)."]
    assert not any("—" in n for n in notices)


async def test_a_rating_from_the_plan_reads_from_the_plan_with_its_date(board, say, db):
    async with db.session() as s:
        a2 = (await s.exec(select(Action).where(Action.ref == "A-2"))).first()
        a2.rag = "amber"
        s.add(a2)
        s.add(ActionUpdate(action_id=a2.id, rag="amber", note="", source="import",
                           created_at=datetime(2026, 12, 1, 12, 54, tzinfo=UTC)))
        await s.commit()
    reply = await say(board["owner"], "actions all")
    facts = {f.label: f.value for f in next(s for s in reply.sections if s.ref == "A-2").facts}
    assert facts["Last update"] == "from the plan, 1 December 2026"
    history = await say(board["owner"], "hanes A-2")
    assert "o'r cynllun, 1 Rhagfyr 2026 — ambr" in history.text and "rhywun" not in history.text


@pytest.mark.parametrize("due, today, english, welsh", [
    (date(2026, 11, 20), date(2026, 11, 23), "3 days overdue", "3 diwrnod yn hwyr"),
    (date(2026, 11, 22), date(2026, 11, 23), "1 day overdue", "1 diwrnod yn hwyr"),
    (date(2026, 10, 26), date(2026, 11, 23), "4 weeks overdue", "4 wythnos yn hwyr"),
    (date(2007, 11, 1), date(2026, 12, 1), "overdue since November 2007", "yn hwyr ers Tachwedd 2007"),
])
def test_overdue_in_words_people_use(due, today, english, welsh):
    assert overdue_phrase("en", due, today) == english
    assert overdue_phrase("cy", due, today) == welsh


async def test_the_status_fact_says_how_late(board, say):
    reply = await say(board["owner"], "actions")
    facts = {f.label: f.value for f in next(s for s in reply.sections if s.ref == "A-1").facts}
    assert facts["Status"] == "not yet rated (3 weeks overdue)"
