"""Fixtures for the Teams tests: the real app on 127.0.0.1 and a recording Bot Connector stub."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from cyswllt.app import create_app
from cyswllt.settings import Settings
from tests.fakes.teams_connector import FakeTeamsConnector

TENANT = "72f988bf-0000-4000-8000-000000000001"
BOT = {"id": "28:cyswllt-bot", "name": "Cyswllt"}
AAD_CERI = "6d0c4b5e-1111-4000-8000-0000000000c1"
PERSONAL_CONVERSATION = "a:1personal-chat-ceri"
CHANNEL = "19:board-channel@thread.tacv2"
_ids = itertools.count(1)


def teams_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(database_url=database_url, teams_anonymous=True, scheduler_enabled=False,
                                  outbox_enabled=False, analysis_enabled=False)
    values.update(overrides)
    return Settings(**values)


def activity(service_url: str, *, type: str = "message", text: str | None = None, user: str = AAD_CERI,
             user_name: str = "Ceri Jones", conversation: str = PERSONAL_CONVERSATION,
             conversation_type: str = "personal", mention_bot: bool = False, value: Any = None,
             reply_to_id: str | None = None, locale: str = "en-GB", **extra: Any) -> dict[str, Any]:
    """A Bot Framework activity shaped like the ones Teams posts."""
    body: dict[str, Any] = {
        "type": type,
        "id": f"1700000{next(_ids):06d}",
        "timestamp": "2024-05-01T09:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": f"29:{user}", "name": user_name, "aadObjectId": user},
        "conversation": {"id": conversation, "conversationType": conversation_type, "tenantId": TENANT},
        "recipient": dict(BOT),
        "locale": locale,
        "channelData": {"tenant": {"id": TENANT}},
    }
    if conversation_type == "channel":
        body["conversation"]["isGroup"] = True
        body["channelData"].update({"teamsChannelId": conversation.split(";")[0], "channel": {"id": conversation.split(";")[0]},
                                    "team": {"id": "19:team@thread.tacv2"}})
    if text is not None:
        body["text"] = f"<at>{BOT['name']}</at> {text}" if mention_bot else text
        body["textFormat"] = "plain"
    if mention_bot:
        body["entities"] = [{"type": "mention", "text": f"<at>{BOT['name']}</at>", "mentioned": dict(BOT)}]
    if value is not None:
        body["value"] = value
    if reply_to_id:
        body["replyToId"] = reply_to_id
    body.update(extra)
    return body


@pytest.fixture
async def connector():
    stub = await FakeTeamsConnector().start()
    try:
        yield stub
    finally:
        await stub.stop()


@pytest.fixture
async def teams(db, database_url):
    """The real app in anonymous (emulator) mode, served over HTTP on 127.0.0.1."""
    app = create_app(teams_settings(database_url), db=db)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def texts(card: dict[str, Any] | None) -> list[str]:
    """Every TextBlock text and fact in a card, in order."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node.get("text", ""))
            if node.get("type") == "FactSet":
                found.extend(f"{f['title']}: {f['value']}" for f in node.get("facts", []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def actions(card: dict[str, Any] | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def new_conversation() -> str:
    return f"a:1{uuid.uuid4().hex}"
