import contextlib
import itertools
import json
import time
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier

from cyswllt.app import create_app
from cyswllt.settings import Settings
from storage.models import Action, ActionLead, Board, Member, Organisation, Person
from tests.addresses import chat
from tests.fakes.slack_api import FakeSlackAPI

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TRIGGERS = itertools.count(1)


def trigger() -> str:
    """Slack gives every command and click its own trigger id (a retry repeats it)."""
    return f"13345.{next(TRIGGERS)}"


async def seed(db):
    async with db.session() as s:
        board = Board(name="Bwrdd Ynys Môn")
        wag = Organisation(name="WAG")
        s.add_all([board, wag])
        await s.flush()
        owner = Person(email="owner@x.cymru", name="Tom Jones", language="en")
        welsh = Person(email="sian@x.cymru", name="Siân Ŵyn", language="cy")
        scrutiny = Person(email="huw@x.cymru", name="Huw Ellis", language="en")
        s.add_all([owner, welsh, scrutiny])
        await s.flush()
        s.add_all([*chat(board, slack="CBOARD"), *chat(owner, slack="UOWNER"), *chat(welsh, slack="USIAN"),
                   *chat(scrutiny, slack="USCRUT")])
        s.add_all([Member(board_id=board.id, person_id=owner.id, role="officer", organisation_id=wag.id),
                   Member(board_id=board.id, person_id=welsh.id, role="chair"),
                   Member(board_id=board.id, person_id=scrutiny.id, role="scrutiny")])
        action = Action(board_id=board.id, ref="A-1", title="Free up local authorities", owner_id=owner.id,
                        owner_email=owner.email, due_text="October 07")
        s.add(action)
        await s.flush()
        s.add(ActionLead(action_id=action.id, organisation_id=wag.id))
        await s.commit()


class SlackClient:
    """Sends requests signed the way Slack signs them."""

    def __init__(self, base: str, fake: FakeSlackAPI, secret: str = SECRET, app=None) -> None:
        self.base, self.fake, self.secret, self.app = base, fake, secret, app

    def headers(self, body: str, *, timestamp: int | None = None, secret: str | None = None, **extra) -> dict:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret or self.secret).generate_signature(timestamp=ts, body=body)
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, **extra}

    async def post(self, body: str, content_type: str, **kw) -> tuple[int, str]:
        return await self.post_raw(body, content_type, self.headers(body, **kw))

    async def post_raw(self, body: str, content_type: str, headers: dict) -> tuple[int, str]:
        headers = {"Content-Type": content_type, **headers}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{self.base}/slack/events", data=body.encode(), headers=headers) as response:
                return response.status, await response.text()

    async def command(self, text: str, user: str = "UOWNER", channel: str = "CBOARD", *, trigger_id: str | None = None,
                      **kw) -> tuple[int, str]:
        body = urlencode({"command": "/lsb", "text": text, "user_id": user, "channel_id": channel,
                          "team_id": "T0001", "response_url": self.fake.response_url(),
                          "trigger_id": trigger_id or trigger()})
        return await self.post(body, "application/x-www-form-urlencoded", **kw)

    async def interact(self, payload: dict, **kw) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **kw)

    async def event(self, event: dict, event_id: str = "Ev01", **kw) -> tuple[int, str]:
        body = json.dumps({"type": "event_callback", "team_id": "T0001", "api_app_id": "A1", "event": event,
                           "event_id": event_id, "event_time": int(time.time())})
        return await self.post(body, "application/json", **kw)

    async def replies(self, count: int = 1) -> list[dict]:
        # Answers go through the outbox after the ack: on a busy machine they take a few seconds.
        calls = await self.fake.wait_for("response_url", count=count, timeout=20)
        return [c.args for c in calls]


@contextlib.asynccontextmanager
async def running(db, database_url, **overrides):
    """The real service on 127.0.0.1 with Slack pointed at a fresh fake Web API. The outbox runs (a
    command's answer goes through it); notices wait for working hours unless a test says otherwise."""
    async with FakeSlackAPI() as fake:
        options = dict(database_url=database_url, slack_signing_secret=SECRET, slack_bot_token="xoxb-test",
                       slack_api_url=fake.base_url, scheduler_enabled=False, outbox_enabled=True,
                       outbox_poll_seconds=0.1, analysis_enabled=False)
        server = TestServer(create_app(Settings(**{**options, **overrides}), db=db), host="127.0.0.1")
        await server.start_server()
        try:
            yield SlackClient(str(server.make_url("")).rstrip("/"), fake, app=server.app)
        finally:
            await server.close()


@pytest.fixture
async def slack(db, database_url):
    await seed(db)
    async with running(db, database_url) as client:
        yield client


@pytest.fixture
async def slack_delivering(db, database_url):
    """The same, with the outbox worker delivering at any hour."""
    await seed(db)
    async with running(db, database_url, outbox_enabled=True, outbox_poll_seconds=0.1,
                       CYSWLLT_WORKING_HOURS="always") as client:
        yield client
