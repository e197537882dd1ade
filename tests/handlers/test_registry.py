"""The platform registry: each platform registers itself from its folder under ``bot/`` (name,
setup, when it is set up here, its per-channel rate, how it carries a chart, how it knows people),
and a platform the neutral code has never heard of works end to end with no change outside its
own registration: identity, routing, channel linking, board notices and delivery by its sender."""

from datetime import date

import pytest
from aiohttp import web
from sqlmodel import select

from cyswllt import platforms
from cyswllt.app import create_app
from cyswllt.appkeys import SENDERS
from cyswllt.settings import Settings
from handlers.core import Command, Context
from handlers.dispatch import handle
from scheduler.messages import payload_reply
from scheduler.worker import OutboxWorker
from storage.models import Action, Board, OutboxMessage, Person
from storage.reach import addresses_of, reach
from tests.addresses import chat

from .conftest import NOW


def test_each_platform_registers_itself_from_its_folder():
    found = {p.name: p for p in platforms.platforms()}
    assert set(found) == {"console", "slack", "teams", "email"}
    for name, platform in found.items():
        # Its setup lives in its own folder (or, for the console, its own module).
        assert platform.setup.__module__.split(".")[:2] == ["bot", name], (name, platform.setup.__module__)
    assert {n: p.chart for n, p in found.items()} == {"console": "link", "slack": "upload", "teams": "link",
                                                      "email": "attach"}
    assert (found["slack"].per_channel_per_second, found["teams"].per_channel_per_second) == (1.0, 2.0)
    assert {n for n, p in found.items() if p.people_by_email} == {"console", "email"}
    assert platforms.platforms()[0].name == "console"  # set up first: the fallback the others lean on


def test_which_platforms_are_set_up_comes_from_each_platforms_own_test():
    nothing = Settings(database_url="sqlite://")
    assert nothing.usable_platforms == []
    everything = Settings(database_url="sqlite://", slack_signing_secret="s", slack_bot_token="xoxb-x",
                          teams_anonymous=True, CYSWLLT_SMTP_URL="smtp://127.0.0.1:25")
    assert everything.usable_platforms == ["slack", "teams", "email"]
    # Half of Slack's settings is not Slack set up; an unknown name in the order is passed over.
    assert Settings(database_url="sqlite://", slack_signing_secret="s", teams_anonymous=True,
                    CYSWLLT_PLATFORM_ORDER="carrier-pigeon,teams,slack").usable_platforms == ["teams"]


class Loft:
    """A platform's sender: keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[OutboxMessage] = []

    async def send(self, message: OutboxMessage) -> str | None:
        self.sent.append(message)
        return f"pigeon:{len(self.sent)}"

    async def find_sent(self, message: OutboxMessage) -> str | None:
        return None


@pytest.fixture
def pigeon():
    """A fifth platform, registered as its folder under bot/ would register it."""
    loft = Loft()
    mounted = []

    def setup(app: web.Application) -> None:
        mounted.append(app)
        app[SENDERS]["pigeon"] = loft

    platforms.register(platforms.Platform("pigeon", setup, ready=lambda settings: True, chart="upload",
                                          per_channel_per_second=0.5))
    try:
        yield loft, mounted
    finally:
        platforms._PLATFORMS.pop("pigeon", None)


async def test_a_new_platform_works_without_touching_handlers_engagement_or_scheduler(pigeon, board, db,
                                                                                      database_url):
    loft, mounted = pigeon
    settings = Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                        analysis_enabled=False, slack_signing_secret="s", slack_bot_token="xoxb-x",
                        CYSWLLT_PLATFORM_ORDER="pigeon,slack", CYSWLLT_WORKING_HOURS="always")
    assert settings.usable_platforms == ["pigeon", "slack"]
    async with db.session() as s:
        owner = (await s.exec(select(Person).where(Person.email == board["owner"]))).one()
        s.add_all(chat(owner, pigeon="P-TOM"))
        await s.commit()
        # The owner has a Slack id too; the order puts pigeon first.
        assert (await reach(s, settings.usable_platforms, [owner.id]))[owner.id] == ("pigeon", "P-TOM")

    ctx = Context(db, settings, now=lambda: NOW)
    # Identity: the platform's user id is the person's address there, and nothing else is.
    assert "Your actions on Bwrdd Ynys Môn" in (await handle(ctx, Command("pigeon", "P-TOM", "actions"))).text
    stranger = await handle(ctx, Command("pigeon", board["owner"], "actions"))
    assert "add you as a board member" in stranger.text
    # Channel linking: the chair links a loft to the board; a command there uses that board.
    async with db.session() as s:
        chair = (await s.exec(select(Person).where(Person.email == board["chair"]))).one()
        s.add_all(chat(chair, pigeon="P-CHAIR"))
        await s.commit()
    linked = await handle(ctx, Command("pigeon", "P-CHAIR", "board link Bwrdd Ynys Môn", channel_id="LOFT-1"))
    assert linked.text.startswith("Mae'r sianel hon bellach wedi'i chysylltu â Bwrdd Ynys Môn")  # she reads Welsh
    async with db.session() as s:
        bwrdd = (await s.exec(select(Board).where(Board.name == "Bwrdd Ynys Môn"))).one()
        assert (await addresses_of(s, bwrdd))["pigeon"] == "LOFT-1"

    # A red update is a notice in each of the board's channels, the loft among them, and the
    # platform's own sender delivers it.
    await handle(ctx, Command("pigeon", "P-TOM", "update A-1 red Funding withdrawn"))
    async with db.session() as s:
        rows = (await s.exec(select(OutboxMessage).where(OutboxMessage.kind == "notice"))).all()
    assert {(r.platform, r.channel) for r in rows} == {("pigeon", "LOFT-1"), ("slack", "CBOARD"),
                                                        ("teams", "19:board@thread")}
    app = create_app(settings, db=db)
    assert mounted == [app] and app[SENDERS]["pigeon"] is loft
    worker = OutboxWorker(db, {"pigeon": app[SENDERS]["pigeon"]}, settings)
    await worker.deliver_due()
    (sent,) = [m for m in loft.sent if m.kind == "notice"]
    assert sent.channel == "LOFT-1"
    assert "A-1" in payload_reply(sent.payload, sent.language).text
    async with db.session() as s:
        action = (await s.exec(select(Action).where(Action.ref == "A-1", Action.board_id == bwrdd.id))).one()
    assert action.rag == "red" and action.due == date(2026, 10, 31)
