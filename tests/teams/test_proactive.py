"""Proactive messages: an outbox row delivered to a stored conversation reference."""

from __future__ import annotations

import pytest
from sqlmodel import select

from cyswllt.appkeys import SENDERS
from handlers.core import Button, Fact, Reply, Section
from scheduler import outbox
from scheduler.outbox import PermanentFailure, RetryAfter
from storage.models import OutboxMessage, Person
from tests.addresses import chat
from tests.teams.conftest import AAD_CERI, BOT, CHANNEL, PERSONAL_CONVERSATION, activity, texts

REMINDER = Reply(
    language="cy",
    text="Atgoffa: A-1 yn ddyledus",
    sections=[Section(heading="A-1 Cynllun <at>Pawb</at>", rag="amber", ref="A-1",
                      facts=[Fact("Dyddiad", "31 Mai 2008")], buttons=[Button("Diweddaru", "diweddaru A-1")])],
    image_url="https://cyswllt.example/charts/1.png", image_alt="Siart",
)


async def _install(teams, connector, **kw):
    response = await teams.post("/api/messages", json=activity(connector.url, type="installationUpdate", action="add", **kw))
    assert response.status == 202


async def _enqueue(db, key: str, channel: str, recipient_id: int | None = None) -> OutboxMessage:
    async with db.session() as s:
        assert await outbox.enqueue(s, key=key, platform="teams", channel=channel, payload={"reply": REMINDER.to_dict()},
                                    language="cy", kind="reminder", recipient_id=recipient_id)
        await s.commit()
        return (await s.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))).one()


async def _deliver(teams, db, message: OutboxMessage) -> str | None:
    """The registered Teams sender given the enqueued row, as the outbox worker does."""
    return await teams.server.app[SENDERS]["teams"].send(message)


async def test_a_reminder_reaches_the_stored_personal_chat_once(teams, connector, db):
    await _install(teams, connector)
    message = await _enqueue(db, "reminder:A-1:2024-05-01", PERSONAL_CONVERSATION)
    # Enqueueing the same reminder again is a no-op.
    async with db.session() as s:
        assert not await outbox.enqueue(s, key="reminder:A-1:2024-05-01", platform="teams", channel=PERSONAL_CONVERSATION,
                                        payload={"reply": REMINDER.to_dict()})
        await s.commit()
    external_id = await _deliver(teams, db, message)
    posts = connector.posts(PERSONAL_CONVERSATION)
    assert len(posts) == 1 and len(connector.calls) == 1
    sent = posts[0]
    assert sent.activity_id is None  # a new message, not a reply to anything
    assert external_id == sent.answered_id
    assert sent.body["recipient"]["aadObjectId"] == AAD_CERI
    assert sent.body["from"]["id"] == BOT["id"]
    assert sent.body["summary"] == "Atgoffa: A-1 yn ddyledus"
    card = sent.card
    assert card["version"] == "1.5" and card["lang"] == "cy"
    shown = texts(card)
    assert "A-1 Cynllun \\<\u200bat\\>Pawb\\<\u200b/at\\>" in shown  # the mention is inert
    assert "🟠 ambr" in shown
    assert {"type": "Image", "url": "https://cyswllt.example/charts/1.png", "altText": "Siart"} in card["body"]


async def test_a_member_reached_by_their_teams_id_or_person(teams, connector, db):
    await _install(teams, connector)
    async with db.session() as s:
        person = Person(email="ceri@example.org", name="Ceri Jones")
        s.add(person)
        await s.flush()
        s.add_all(chat(person, teams=AAD_CERI))
        await s.commit()
    await _deliver(teams, db, await _enqueue(db, "by-aad", AAD_CERI))
    await _deliver(teams, db, await _enqueue(db, "by-person", "ignored", recipient_id=person.id))
    assert [c.conversation_id for c in connector.posts()] == [PERSONAL_CONVERSATION, PERSONAL_CONVERSATION]


async def test_a_channel_notice_goes_to_the_channel(teams, connector, db):
    await teams.post("/api/messages", json=activity(connector.url, type="conversationUpdate", conversation=CHANNEL,
                                                    conversation_type="channel", membersAdded=[dict(BOT)]))
    await _deliver(teams, db, await _enqueue(db, "notice", CHANNEL))
    (post,) = connector.posts()
    assert post.conversation_id == CHANNEL and post.activity_id is None
    # A channel is not pinged; a member's personal chat is (the reminder also reaches their activity feed).
    assert "notification" not in (post.body.get("channelData") or {})


async def test_a_reminder_in_a_personal_chat_alerts_the_member(teams, connector, db):
    await _install(teams, connector)
    await _deliver(teams, db, await _enqueue(db, "alerting", PERSONAL_CONVERSATION))
    (post,) = connector.posts()
    assert post.body["channelData"]["notification"]["alert"] is True


async def test_429_from_teams_means_retry_after(teams, connector, db):
    await _install(teams, connector)
    message = await _enqueue(db, "rate-limited", PERSONAL_CONVERSATION)
    connector.fail_next(status=429, retry_after=2)
    with pytest.raises(RetryAfter) as caught:
        await _deliver(teams, db, message)
    assert caught.value.seconds == 2
    assert connector.calls == []
    # The next attempt goes through, once.
    await _deliver(teams, db, message)
    assert len(connector.posts()) == 1


@pytest.mark.parametrize("status", [403, 404])
async def test_gone_conversation_is_a_permanent_failure(teams, connector, db, status):
    await _install(teams, connector)
    connector.fail_next(status=status)
    with pytest.raises(PermanentFailure):
        await _deliver(teams, db, await _enqueue(db, f"gone-{status}", PERSONAL_CONVERSATION))


async def test_no_stored_reference_is_a_permanent_failure(teams, connector, db):
    with pytest.raises(PermanentFailure):
        await _deliver(teams, db, await _enqueue(db, "nobody", "a:unknown-conversation"))
    assert connector.calls == []


async def test_a_members_reminders_due_together_are_one_card_each_with_its_buttons(teams, connector, db):
    from cyswllt.settings import Settings
    from scheduler.messages import reminder_payload
    from scheduler.worker import OutboxWorker

    await _install(teams, connector)
    async with db.session() as s:
        for ref in ("A-1", "A-2"):
            await outbox.enqueue(s, key=f"reminder:{ref}", platform="teams", channel=PERSONAL_CONVERSATION,
                                 payload=reminder_payload(f"Mae {ref} i fod i'w gwblhau yfory.", ref, "amber"),
                                 language="cy", kind="reminder")
        await s.commit()
    settings = Settings(database_url="sqlite://", CYSWLLT_WORKING_HOURS="always")
    worker = OutboxWorker(db, teams.server.app[SENDERS], settings)
    assert await worker.deliver_due() == 2
    (sent,) = connector.posts(PERSONAL_CONVERSATION)
    assert sent.body["summary"] == "Mae angen eich sylw ar y camau hyn (2):"
    shown = texts(sent.card)
    assert "Mae A-1 i fod i'w gwblhau yfory." in shown and "Mae A-2 i fod i'w gwblhau yfory." in shown
    titles = [a["title"] for block in sent.card["body"] for item in block.get("items", [])
              if item.get("type") == "ActionSet" for a in item["actions"]]
    assert titles == ["Diweddaru nawr", "Atgoffa fi yfory", "Atgoffa fi'r wythnos nesaf"] * 2
    async with db.session() as s:
        rows = (await s.exec(select(OutboxMessage))).all()
    assert {r.state for r in rows} == {"sent"} and len({r.external_id for r in rows}) == 1
