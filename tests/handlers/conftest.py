from datetime import UTC, date, datetime

import pytest

from cyswllt.settings import Settings
from handlers.core import Command, Context
from handlers.dispatch import handle
from storage.models import Action, ActionLead, Board, Member, Organisation, Person, Priority
from tests.addresses import chat

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Board1:
    """A board with a chair, an officer who owns A-1, a lead-organisation colleague, an outsider
    member, a scrutiny member, and someone on two boards."""


@pytest.fixture
async def board(db):
    async with db.session() as s:
        board = Board(name="Bwrdd Ynys Môn")
        other = Board(name="Gwynedd Local Service Board")
        wag, nhs, police = Organisation(name="WAG"), Organisation(name="NHS"), Organisation(name="Heddlu")
        s.add_all([board, other, wag, nhs, police])
        await s.flush()
        s.add_all(chat(board, slack="CBOARD", teams="19:board@thread"))
        people = {
            "chair": Person(email="chair@x.cymru", name="Siân Ŵyn", language="cy"),
            "owner": Person(email="owner@x.cymru", name="Tom Jones", language="en"),
            "colleague": Person(email="colleague@x.cymru", name="Ann Lead", language="en"),
            "outsider": Person(email="outsider@x.cymru", name="Pat Police", language="en"),
            "scrutiny": Person(email="scrutiny@x.cymru", name="Huw Ellis", language="en"),
            "scrutiny_cy": Person(email="scrutiny2@x.cymru", name="Mair Ŵynne", language="cy"),
            "twoboards": Person(email="two@x.cymru", name="Dai Dau", language="en"),
        }
        s.add_all(people.values())
        await s.flush()
        s.add_all([*chat(people["chair"], slack="UCHAIR"), *chat(people["owner"], slack="UOWNER"),
                   *chat(people["scrutiny"], slack="USCRUT"), *chat(people["scrutiny_cy"], teams="aad-mair")])
        seats = [("chair", "chair", None), ("owner", "officer", nhs), ("colleague", "core", wag),
                 ("outsider", "core", police), ("scrutiny", "scrutiny", None), ("scrutiny_cy", "scrutiny", None),
                 ("twoboards", "core", None)]
        for key, role, org in seats:
            s.add(Member(board_id=board.id, person_id=people[key].id, role=role, organisation_id=org.id if org else None))
        s.add(Member(board_id=other.id, person_id=people["twoboards"].id, role="core"))
        s.add(Priority(board_id=board.id, ref="P-1", title="Healthier communities"))
        a1 = Action(board_id=board.id, ref="A-1", title="Free up local authorities", owner_id=people["owner"].id,
                    owner_email="owner@x.cymru", due=date(2026, 10, 31), due_text="October 26")
        a2 = Action(board_id=board.id, ref="A-2", title="Closer partnership working", due_text="Ongoing")
        a3 = Action(board_id=other.id, ref="A-1", title="Gwynedd action", due=date(2027, 5, 31), due_text="Spring 2027")
        s.add_all([a1, a2, a3])
        await s.flush()
        s.add(ActionLead(action_id=a1.id, organisation_id=wag.id))
        await s.commit()
    return {k: p.email for k, p in people.items()}


@pytest.fixture
def say(db):
    ctx = Context(db, Settings(database_url="sqlite://", slack_signing_secret="s", slack_bot_token="xoxb-test", teams_anonymous=True), now=lambda: NOW)

    async def say(user: str, text: str, platform: str = "console", channel: str | None = None):
        return await handle(ctx, Command(platform=platform, user_id=user, text=text, channel_id=channel))

    return say
