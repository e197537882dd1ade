"""Through signed Slack requests against the fake Slack Web API: lists page with a "more" button,
the update modal takes a public summary and refuses a red rating without a note, the scrutiny
modal asks whether to be named, a committee member declines with a reason, and misspellings or
questions get "Did you mean…?" or their answer."""

import asyncio
import json
from datetime import date

from sqlmodel import select

from storage.models import Action, ActionLead, ActionUpdate, Board, Organisation, ScrutinyRequest
from tests.slack.test_interactions import all_text, buttons, click


async def more_actions(db, count=34):
    async with db.session() as s:
        board = (await s.exec(select(Board))).one()
        wag = (await s.exec(select(Organisation))).one()
        for n in range(2, 2 + count):
            action = Action(board_id=board.id, ref=f"A-{n}", title=f"Plan action {n}", due=date(2007, 12, 1))
            s.add(action)
            await s.flush()
            s.add(ActionLead(action_id=action.id, organisation_id=wag.id))
        await s.commit()


def shown_refs(blocks) -> list[str]:
    text = all_text(blocks)
    return [f"A-{n}" for n in range(1, 40) if f"A-{n} · Plan action" in text or f"A-{n} · Free up" in text]


async def open_modal(slack, button, user):
    before = len(slack.fake.calls_to("views.open"))
    status, _ = await slack.interact(click(slack, button, user))
    assert status == 200
    opened = (await slack.fake.wait_for("views.open", count=before + 1))[-1].args
    return opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])


async def stored(db, model, count=1):
    """The rows of ``model`` once ``count`` are there: a form's work may finish just after Slack's ack."""
    for _ in range(50):
        async with db.session() as s:
            rows = (await s.exec(select(model))).all()
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.1)
    return rows


def submission(view, values, user):
    return {"type": "view_submission", "user": {"id": user}, "team": {"id": "T0001"},
            "view": {**view, "state": {"values": values}}}


def text_value(name, value):
    return {name: {name: {"type": "plain_text_input", "value": value}}}


def choice_value(name, value):
    return {name: {name: {"type": "radio_buttons", "selected_option": {"value": value}}}}


async def test_actions_all_pages_with_a_more_button(slack, db):
    await more_actions(db)
    await slack.command("actions all")
    first = (await slack.replies(1))[0]["blocks"]
    assert shown_refs(first) == [f"A-{n}" for n in range(1, 21)]
    assert "Showing 1–20 of 35." in all_text(first)
    more = [b for b in buttons(first) if b["text"]["text"] == "Next 15"]
    assert len(more) == 1 and more[0]["value"] == "actions all 2"
    assert (await slack.interact(click(slack, more[0])))[0] == 200
    second = (await slack.replies(2))[1]["blocks"]
    assert shown_refs(second) == [f"A-{n}" for n in range(21, 36)]
    assert len(first) <= 50 and len(second) <= 50


async def test_status_counts_lead_to_what_they_counted(slack, db):
    await more_actions(db)
    await slack.command("status")
    blocks = (await slack.replies(1))[0]["blocks"]
    assert "…and 19 more: type actions overdue to see every one." in all_text(blocks)
    values = [b["value"] for b in buttons(blocks)]
    assert "actions overdue" in values and "actions unrated" in values


async def test_update_modal_takes_a_public_summary(slack, db):
    await slack.command("actions")
    view = await open_modal(slack, buttons((await slack.replies(1))[0]["blocks"])[0], "UOWNER")
    assert [b["block_id"] for b in view["blocks"]] == ["rag", "note", "public"]
    assert view["blocks"][2]["optional"] is True
    values = {**choice_value("rag", "green"), **text_value("note", "Portal live;\nsupplier paid"),
              **text_value("public", "The open data portal is live.")}
    assert (await slack.interact(submission(view, values, "UOWNER")))[0] == 200
    (update,) = await stored(db, ActionUpdate)
    assert (update.rag, update.note, update.public_summary) == ("green", "Portal live;\nsupplier paid",
                                                                 "The open data portal is live.")


async def test_a_red_rating_without_a_note_is_refused_in_the_modal(slack, db):
    await slack.command("actions")
    view = await open_modal(slack, buttons((await slack.replies(1))[0]["blocks"])[0], "UOWNER")
    values = {**choice_value("rag", "red"), **text_value("note", ""), **text_value("public", "")}
    status, body = await slack.interact(submission(view, values, "UOWNER"))
    assert status == 200
    shown = all_text(json.loads(body)["view"]["blocks"]) if body else \
        all_text((await slack.fake.wait_for("chat.postEphemeral"))[0].args["blocks"])
    assert "A red update needs a note" in shown
    async with db.session() as s:
        assert (await s.exec(select(ActionUpdate))).all() == []


async def test_the_scrutiny_modal_asks_whether_to_be_named(slack, db):
    await slack.command("scrutiny A-1", user="USIAN")
    blocks = (await slack.replies(1))[0]["blocks"]
    view = await open_modal(slack, buttons(blocks)[0], "USIAN")
    named = next(b for b in view["blocks"] if b["block_id"] == "named")
    assert named["element"]["type"] == "radio_buttons" and named["element"]["initial_option"]["value"] == "no"
    assert [o["text"]["text"] for o in named["element"]["options"]] == ["Na — dweud “aelod o'r bwrdd”", "Caiff — enwch fi"]
    values = {**text_value("text", "Pam mae'r porth\nyn hwyr?"), **choice_value("named", "yes")}
    assert (await slack.interact(submission(view, values, "USIAN")))[0] == 200
    (request,) = await stored(db, ScrutinyRequest)
    assert (request.question, request.requester_named) == ("Pam mae'r porth\nyn hwyr?", True)


async def test_a_committee_member_declines_with_a_reason(slack, db):
    await slack.command("scrutiny A-1 Why?", user="USIAN")
    await slack.replies(1)
    await slack.command("scrutiny list", user="USCRUT")
    blocks = (await slack.replies(2))[1]["blocks"]
    decline = next(b for b in buttons(blocks) if b["text"]["text"] == "Decline")
    view = await open_modal(slack, decline, "USCRUT")
    assert (await slack.interact(submission(view, text_value("text", "Outside our remit"), "USCRUT")))[0] == 200
    for _ in range(50):
        (request,) = await stored(db, ScrutinyRequest)
        if request.status == "declined":
            break
        await asyncio.sleep(0.1)
    assert (request.status, request.decline_reason) == ("declined", "Outside our remit")


async def test_did_you_mean_and_questions_in_own_words(slack):
    await slack.command("acions all")
    blocks = (await slack.replies(1))[0]["blocks"]
    assert "Did you mean “actions all”?" in all_text(blocks)
    assert buttons(blocks)[0]["value"] == "actions all"
    await slack.command("Beth sy'n hwyr?", user="USIAN")
    answer = (await slack.replies(2))[1]
    assert "Camau hwyr ar Fwrdd Ynys Môn" in answer["text"] or "Does dim byd yn hwyr" in answer["text"]
