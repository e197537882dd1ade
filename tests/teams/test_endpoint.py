"""The Teams endpoint over HTTP: who may post, what is ignored, what is remembered."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from cyswllt.app import create_app
from storage.models import ConversationReference
from tests.teams.conftest import AAD_CERI, BOT, CHANNEL, PERSONAL_CONVERSATION, activity, teams_settings


async def _serve(settings, db):
    client = TestClient(TestServer(create_app(settings, db=db), host="127.0.0.1"))
    await client.start_server()
    return client


async def test_with_app_credentials_a_request_without_token_gets_401(db, database_url, connector):
    settings = teams_settings(database_url, teams_anonymous=True, teams_app_id="00000000-0000-4000-8000-00000000a99",
                              teams_app_password="secret", teams_tenant_id="72f988bf-0000-4000-8000-000000000001")
    client = await _serve(settings, db)
    try:
        response = await client.post("/api/messages", json=activity(connector.url, text="help"))
        assert response.status == 401
        forged = await client.post("/api/messages", json=activity(connector.url, text="help"),
                                   headers={"Authorization": "Bearer not-a-token"})
        assert forged.status == 401
    finally:
        await client.close()
    assert connector.calls == []
    async with db.session() as s:
        assert (await s.exec(select(ConversationReference))).all() == []


async def test_with_nothing_configured_everything_is_refused(db, database_url, connector):
    client = await _serve(teams_settings(database_url, teams_anonymous=False), db)
    try:
        response = await client.post("/api/messages", json=activity(connector.url, text="help"))
        assert response.status == 401
        assert "TEAMS_APP_ID" in await response.text()
        assert "teams" not in client.server.app[__import__("cyswllt.appkeys").appkeys.SENDERS]
    finally:
        await client.close()
    assert connector.calls == []


async def test_not_an_activity_is_a_clear_400(teams, connector):
    assert (await teams.post("/api/messages", data=b"{not json", headers={"Content-Type": "application/json"})).status == 400
    assert (await teams.post("/api/messages", json=[1, 2])).status == 400
    assert (await teams.post("/api/messages", json={"type": "message"})).status == 400
    assert connector.calls == []


async def test_channel_message_without_mention_is_ignored(teams, connector, db):
    response = await teams.post("/api/messages", json=activity(
        connector.url, text="status", conversation=f"{CHANNEL};messageid=1700000000001", conversation_type="channel"))
    assert response.status == 202
    assert connector.calls == []
    async with db.session() as s:
        assert (await s.exec(select(ConversationReference))).all() == []


async def test_install_in_personal_scope_stores_the_reference(teams, connector, db):
    response = await teams.post("/api/messages", json=activity(
        connector.url, type="installationUpdate", action="add"))
    assert response.status == 202
    async with db.session() as s:
        row = (await s.exec(select(ConversationReference))).one()
    assert row.conversation_id == PERSONAL_CONVERSATION
    assert row.scope == "personal"
    assert row.teams_user_id == AAD_CERI
    assert row.reference["serviceUrl"] == connector.url
    assert row.reference["bot"]["id"] == BOT["id"]
    assert "activityId" not in row.reference


async def test_bot_added_to_a_channel_stores_the_channel_reference(teams, connector, db):
    response = await teams.post("/api/messages", json=activity(
        connector.url, type="conversationUpdate", conversation=CHANNEL, conversation_type="channel",
        membersAdded=[dict(BOT)]))
    assert response.status == 202
    async with db.session() as s:
        row = (await s.exec(select(ConversationReference))).one()
    assert (row.conversation_id, row.scope, row.teams_user_id, row.person_id) == (CHANNEL, "channel", None, None)
    # Removing the bot forgets it: nothing could be delivered there any more.
    await teams.post("/api/messages", json=activity(
        connector.url, type="conversationUpdate", conversation=CHANNEL, conversation_type="channel",
        membersRemoved=[dict(BOT)]))
    async with db.session() as s:
        assert (await s.exec(select(ConversationReference))).all() == []
    assert connector.calls == []


def test_the_mode_is_logged_at_start_up(database_url, caplog):
    caplog.set_level("INFO", logger="cyswllt.teams")
    create_app(teams_settings(database_url, teams_anonymous=True))
    assert "ANONYMOUS mode" in caplog.text
    caplog.clear()
    create_app(teams_settings(database_url, teams_anonymous=True, teams_app_id="00000000-0000-4000-8000-00000000a99"))
    assert "CYSWLLT_TEAMS_ANONYMOUS is ignored" in caplog.text and "credentials mode" in caplog.text
    caplog.clear()
    create_app(teams_settings(database_url, teams_anonymous=False))
    assert "Teams: off" in caplog.text


async def test_an_unreadable_token_is_refused_not_a_fault(db, database_url, connector):
    import base64

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    settings = teams_settings(database_url, teams_app_id="00000000-0000-4000-8000-00000000a99",
                              teams_app_password="secret", teams_tenant_id="72f988bf-0000-4000-8000-000000000001")
    client = await _serve(settings, db)
    try:
        for token in (f'{part(b"{\"alg\":\"none\"}")}.{part(b"{\"aud\":\"x\"}")}.', "a.b.c", "...."):
            response = await client.post("/api/messages", json=activity(connector.url, text="help"),
                                         headers={"Authorization": f"Bearer {token}"})
            assert response.status == 401, (token, response.status)
    finally:
        await client.close()
    assert connector.calls == []


async def test_an_activity_with_nowhere_to_answer_is_a_400(teams, connector):
    body = activity(connector.url, text="help")
    del body["serviceUrl"]
    assert (await teams.post("/api/messages", json=body)).status == 400
    assert (await teams.post("/api/messages", json={**body, "serviceUrl": "ftp://x"})).status == 400
    assert (await teams.post("/api/messages", json={**body, "serviceUrl": 12})).status == 400
    assert connector.calls == []


async def test_an_activity_sent_again_is_handled_once(teams, connector, db):
    from tests.teams.seed import seed

    await seed(db)
    body = activity(connector.url, text="update A-1 green sent twice")
    for _ in range(2):  # Teams resends an activity the bot was slow to answer, with the same id
        assert (await teams.post("/api/messages", json=body)).status in (200, 202)
    from storage.models import ActionUpdate

    async with db.session() as s:
        assert [u.note for u in (await s.exec(select(ActionUpdate))).all()] == ["sent twice"]
    assert len(connector.posts()) == 1


async def test_an_activity_a_dead_process_took_is_handled_when_teams_sends_it_again(teams, connector, db):
    from datetime import timedelta

    from storage import inbound
    from storage.models import ActionUpdate, utcnow
    from tests.teams.seed import seed

    await seed(db)
    body = activity(connector.url, text="update A-1 amber taken over")
    # Another process took this activity two minutes ago and died before answering.
    await inbound.remember(db, "teams", f"activity:{body['id']}", {"activity": body["id"]},
                           now=utcnow() - timedelta(minutes=2))
    assert (await teams.post("/api/messages", json=body)).status in (200, 202)
    async with db.session() as s:
        assert [u.note for u in (await s.exec(select(ActionUpdate))).all()] == ["taken over"]
    assert len(connector.posts()) == 1
