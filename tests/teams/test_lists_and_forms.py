"""Teams cards: long lists page with a "more" button that submits the next page's words, the
update card has the public summary, and the scrutiny card asks whether to be named."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import select

from storage.models import Action, ActionLead, ActionUpdate, ScrutinyRequest
from tests.teams.conftest import actions, texts
from tests.teams.seed import seed
from tests.teams.test_commands import one_reply, say

pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture
async def seeded(db):
    found = await seed(db)
    async with db.session() as s:
        lead = (await s.exec(select(ActionLead))).one()
        for n in range(2, 36):
            action = Action(board_id=found.board_id, ref=f"A-{n}", title=f"Plan action {n}", due=date(2008, 3, 31))
            s.add(action)
            await s.flush()
            s.add(ActionLead(action_id=action.id, organisation_id=lead.organisation_id))
        await s.commit()
    return found


def refs(card) -> list[str]:
    return [line.split(" · ")[0] for line in texts(card) if " · Plan action" in line or " · Publish" in line]


@pytest.mark.parametrize("words, next_words, language", [("actions all", "actions all 2", "en"),
                                                         ("camau popeth", "camau popeth 2", "cy")])
async def test_a_long_list_pages_with_a_more_button(teams, connector, words, next_words, language):
    # A Teams card holds ten actions with their forms (Teams refuses a message over about 28 KB).
    first = one_reply(*await say(teams, connector, words))
    assert first["lang"] == language and refs(first) == [f"A-{n}" for n in range(1, 11)]
    assert len(json.dumps(first, ensure_ascii=False).encode()) < 28_000
    more = [a for a in actions(first) if a["type"] == "Action.Submit" and a["data"].get("cyswllt") == next_words]
    assert len(more) == 1 and more[0]["title"] in ("Next 10", "Y 10 nesaf")
    seen = refs(first)
    card = one_reply(*await say(teams, connector, value=more[0]["data"]))
    while True:
        seen += refs(card)
        following = [a for a in actions(card) if a["type"] == "Action.Submit"
                     and a["data"].get("cyswllt", "").startswith(next_words[:-1]) and a.get("style") == "positive"]
        if not following:
            break
        card = one_reply(*await say(teams, connector, value=following[0]["data"]))
    assert seen == [f"A-{n}" for n in range(1, 36)]  # every action, once, in four cards
    assert any(a["data"].get("cyswllt") == next_words[:-1] + "3" for a in actions(card) if a["type"] == "Action.Submit")


async def test_the_update_card_has_a_public_summary_field(teams, connector, db, seeded):
    listing = one_reply(*await say(teams, connector, "actions"))
    form = next(a for a in actions(listing) if a["type"] == "Action.ShowCard")
    inputs = {i["id"].rsplit("_", 1)[-1]: i for i in form["card"]["body"] if i["type"].startswith("Input.")}
    assert set(inputs) == {"rag", "note", "public"} and inputs["public"]["isRequired"] is False
    submit = form["card"]["actions"][0]["data"]
    fields = submit["cyswllt_fields"]
    value = {**submit, fields["rag"]: "green", fields["note"]: "Portal live", fields["public"]: "The portal is live."}
    await say(teams, connector, value=value)
    async with db.session() as s:
        update = (await s.exec(select(ActionUpdate))).one()
    assert (update.note, update.public_summary) == ("Portal live", "The portal is live.")


async def test_the_scrutiny_card_asks_whether_to_be_named(teams, connector, db):
    card = one_reply(*await say(teams, connector, "scrutiny A-1"))
    form = next(a for a in actions(card) if a["type"] == "Action.ShowCard")
    named = next(i for i in form["card"]["body"] if i.get("id", "").endswith("_named"))
    assert named["type"] == "Input.ChoiceSet" and named["value"] == "no"
    submit = form["card"]["actions"][0]["data"]
    fields = submit["cyswllt_fields"]
    await say(teams, connector, value={**submit, fields["text"]: "Why has the portal slipped?", fields["named"]: "yes"})
    async with db.session() as s:
        request = (await s.exec(select(ScrutinyRequest))).one()
    assert (request.question, request.requester_named) == ("Why has the portal slipped?", True)
