"""Every command word over HTTP, in English and Welsh: what was stored and what Teams received."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bot.teams.escape import escape_markdown
from cyswllt.i18n import t
from storage.models import Action, ActionUpdate, ConversationReference, Person, ScrutinyRequest
from tests.fakes.teams_connector import ConnectorCall
from tests.teams.conftest import CHANNEL, PERSONAL_CONVERSATION, actions, activity, new_conversation, texts
from tests.teams.seed import AAD_GWEN, seed

# The command logic lives in handlers/; until its dispatcher exists these tests cannot run.
pytest.importorskip("handlers.dispatch", reason="handlers.dispatch (the shared command handlers) is not there yet")

pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture
async def seeded(db):
    return await seed(db)


async def say(teams, connector, text: str | None = None, **kw: Any) -> tuple[dict[str, Any], list[ConnectorCall]]:
    """Post one activity; return it and the calls the bot made to the connector while handling it."""
    before = len(connector.calls)
    body = activity(connector.url, text=text, **kw)
    response = await teams.post("/api/messages", json=body)
    assert response.status == 202, await response.text()
    return body, connector.calls[before:]


def one_reply(sent: dict[str, Any], calls: list[ConnectorCall]) -> dict[str, Any]:
    """The single card the bot answered with, as a reply to the message it got."""
    assert len(calls) == 1, calls
    (call,) = calls
    assert call.method == "POST" and call.activity_id == sent["id"]
    assert call.conversation_id == sent["conversation"]["id"]
    assert call.card is not None and call.card["version"] == "1.5"
    return call.card


def shown(card: dict[str, Any]) -> str:
    return "\n".join(texts(card))


async def test_help_and_cymorth(teams, connector):
    english = one_reply(*await say(teams, connector, "help"))
    welsh = one_reply(*await say(teams, connector, "cymorth"))
    assert english["lang"] == "en" and welsh["lang"] == "cy"
    assert shown(english) != shown(welsh)
    assert "diweddaru" in shown(welsh).replace("\\", "")


async def test_actions_and_camau_list_the_action_with_an_update_form(teams, connector):
    english = one_reply(*await say(teams, connector, "actions all"))
    welsh = one_reply(*await say(teams, connector, "camau popeth"))
    for card, lang in ((english, "en"), (welsh, "cy")):
        assert card["lang"] == lang
        assert "A-1" in shown(card) and "Publish the open data portal" in shown(card)
    forms = [a for a in actions(english) if a["type"] == "Action.ShowCard"]
    assert forms, "an action offers an update form"
    assert any(i["type"] == "Input.ChoiceSet" for i in forms[0]["card"]["body"])


async def test_update_stores_an_appended_update(teams, connector, db, seeded):
    card = one_reply(*await say(teams, connector, "update A-1 amber Waiting for the data sharing agreement"))
    assert card["lang"] == "en"
    welsh = one_reply(*await say(teams, connector, "diweddaru a-1 gwyrdd Cytundeb wedi'i lofnodi"))
    assert welsh["lang"] == "cy"
    async with db.session() as s:
        updates = (await s.exec(select(ActionUpdate).order_by(ActionUpdate.id))).all()
        action = await s.get(Action, seeded.action_id)
    assert [(u.rag, u.note, u.author_id) for u in updates] == [
        ("amber", "Waiting for the data sharing agreement", seeded.ceri_id),
        ("green", "Cytundeb wedi'i lofnodi", seeded.ceri_id),
    ]
    assert action.rag == "green"


async def test_update_form_submit_refreshes_the_card_in_place(teams, connector, db, seeded):
    listing_sent, listing_calls = await say(teams, connector, "actions")
    listing = one_reply(listing_sent, listing_calls)
    card_id = listing_calls[0].answered_id
    form = next(a for a in actions(listing) if a["type"] == "Action.ShowCard")
    submit = form["card"]["actions"][0]["data"]
    fields = submit["cyswllt_fields"]
    value = {**submit, fields["rag"]: "red"}
    if "note" in fields:
        value[fields["note"]] = "Supplier went into administration <at>Everyone</at> [here](https://evil.example)"
    _, calls = await say(teams, connector, value=value, reply_to_id=card_id)
    assert [(c.method, c.activity_id) for c in calls] == [("PUT", card_id)]
    refreshed = calls[0].card
    assert refreshed is not None and refreshed["version"] == "1.5"
    raw = str(refreshed)
    assert "<at>" not in raw and "[here](" not in raw
    async with db.session() as s:
        (update,) = (await s.exec(select(ActionUpdate))).all()
        action = await s.get(Action, seeded.action_id)
    assert update.rag == "red" and action.rag == "red"
    if "note" in fields:
        assert update.note.startswith("Supplier went into administration")


async def test_status_and_statws(teams, connector):
    english = one_reply(*await say(teams, connector, "status"))
    welsh = one_reply(*await say(teams, connector, "statws"))
    assert english["lang"] == "en" and welsh["lang"] == "cy"


async def test_scrutiny_and_craffu_store_requests(teams, connector, db, seeded):
    one_reply(*await say(teams, connector, "scrutiny A-1 Why has the portal slipped?"))
    welsh = one_reply(*await say(teams, connector, "craffu A-1 Pam mae'r porth yn hwyr?", user=AAD_GWEN,
                                 conversation=new_conversation()))
    assert welsh["lang"] == "cy"
    listing = one_reply(*await say(teams, connector, "scrutiny list"))
    assert listing["lang"] == "en"
    async with db.session() as s:
        requests = (await s.exec(select(ScrutinyRequest).order_by(ScrutinyRequest.id))).all()
    assert [(r.subject_ref.upper(), r.question, r.requester_id) for r in requests] == [
        ("A-1", "Why has the portal slipped?", seeded.ceri_id),
        ("A-1", "Pam mae'r porth yn hwyr?", seeded.gwen_id),
    ]


async def test_lang_and_iaith_change_the_stored_language(teams, connector, db, seeded):
    card = one_reply(*await say(teams, connector, "lang cy"))
    assert card["lang"] == "cy"
    async with db.session() as s:
        assert (await s.get(Person, seeded.ceri_id)).language == "cy"
    # The stored choice now answers English-free commands in Welsh…
    assert one_reply(*await say(teams, connector, "status"))["lang"] == "cy"
    card = one_reply(*await say(teams, connector, "iaith en"))
    async with db.session() as s:
        assert (await s.get(Person, seeded.ceri_id)).language == "en"


async def test_board_and_bwrdd_switch_the_current_board(teams, connector, db, seeded):
    one_reply(*await say(teams, connector, "board Powys PSB"))
    async with db.session() as s:
        assert (await s.get(Person, seeded.ceri_id)).current_board_id == seeded.other_board_id
    card = one_reply(*await say(teams, connector, "bwrdd Bwrdd Gwasanaethau Cyhoeddus Ceredigion"))
    assert card["lang"] == "cy"
    async with db.session() as s:
        assert (await s.get(Person, seeded.ceri_id)).current_board_id == seeded.board_id


async def test_unknown_user_gets_guidance_and_nothing_is_stored(teams, connector, db):
    stranger = "6d0c4b5e-9999-4000-8000-000000000099"
    conversation = new_conversation()
    card = one_reply(*await say(teams, connector, "update A-1 red Not mine", user=stranger, conversation=conversation))
    welsh = one_reply(*await say(teams, connector, "camau", user=stranger, conversation=conversation))
    for lang, reply in (("en", card), ("cy", welsh)):
        assert reply["lang"] == lang
        guidance = t(lang, "handlers.unknown_user", who="\0").split("\0")[0]  # the words before who to ask
        assert escape_markdown(guidance) in shown(reply)
    async with db.session() as s:
        assert (await s.exec(select(ActionUpdate))).all() == []
        row = (await s.exec(select(ConversationReference).where(ConversationReference.conversation_id == conversation))).one()
    # First contact is remembered, so the person can be reached once they are added to the board.
    assert row.teams_user_id == stranger and row.person_id is None


async def test_first_contact_stores_a_reference_linked_to_the_member(teams, connector, db, seeded):
    await say(teams, connector, "help")
    async with db.session() as s:
        row = (await s.exec(select(ConversationReference))).one()
    assert (row.conversation_id, row.person_id, row.scope) == (PERSONAL_CONVERSATION, seeded.ceri_id, "personal")


async def test_in_a_channel_only_an_at_mention_is_answered(teams, connector, db):
    thread = f"{CHANNEL};messageid=1700000000123"
    _, calls = await say(teams, connector, "status", conversation=thread, conversation_type="channel")
    assert calls == []
    sent, calls = await say(teams, connector, "status", conversation=thread, conversation_type="channel", mention_bot=True)
    card = one_reply(sent, calls)
    assert card["lang"] == "en"
    async with db.session() as s:
        row = (await s.exec(select(ConversationReference))).one()
    assert (row.conversation_id, row.scope, row.person_id) == (CHANNEL, "channel", None)


async def test_hostile_text_is_inert_in_the_reply(teams, connector, db):
    # Teams sends typed angle brackets as entities; only real mentions arrive as <at> tags.
    hostile = "A-1 amber &lt;at&gt;Everyone&lt;/at&gt; **urgent** [login](https://evil.example/phish)"
    card = one_reply(*await say(teams, connector, f"update {hostile}"))
    raw = str(card)
    assert "<at>" not in raw.lower() and "[login](" not in raw and "https://evil" not in raw
    async with db.session() as s:
        (update,) = (await s.exec(select(ActionUpdate))).all()
    assert update.note == "<at>Everyone</at> **urgent** [login](https://evil.example/phish)"  # stored as typed
