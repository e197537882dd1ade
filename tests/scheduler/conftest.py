from datetime import UTC, datetime, timedelta

import pytest

from storage.models import Action, Board, Meeting, Member, Person, ScrutinyRequest
from tests.addresses import chat

# Monday 23 November 2026, 10:00 in London.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
async def plan(db):
    """A board whose actions are due soon, overdue, stale and red; English and Welsh owners."""
    return await seed_plan(db, NOW)


async def seed_plan(db, now: datetime) -> dict[str, int]:
    NOW, TODAY = now, now.date()
    async with db.session() as s:
        board = Board(name="Bwrdd Môn")
        s.add(board)
        await s.flush()
        en = Person(email="en@x.cymru", name="Tom Jones", language="en")
        cy = Person(email="cy@x.cymru", name="Siân Ŵyn", language="cy")
        chair = Person(email="chair@x.cymru", name="Eleri", language="cy")
        scrutiny = Person(email="scr@x.cymru", name="Huw", language="en")
        s.add_all([en, cy, chair, scrutiny])
        await s.flush()
        s.add_all([*chat(en, slack="UEN"), *chat(cy, slack="UCY"), *chat(chair, slack="UCHAIR")])
        for person, role in ((en, "officer"), (cy, "officer"), (chair, "chair"), (scrutiny, "scrutiny")):
            s.add(Member(board_id=board.id, person_id=person.id, role=role))
        long_ago = NOW - timedelta(days=60)
        actions = [
            Action(board_id=board.id, ref="A-1", title="Due in a week", owner_id=en.id, due=TODAY + timedelta(days=7),
                   created_at=NOW, updated_at=NOW),
            Action(board_id=board.id, ref="A-2", title="Due tomorrow", owner_id=cy.id, due=TODAY + timedelta(days=1),
                   created_at=NOW, updated_at=NOW),
            Action(board_id=board.id, ref="A-3", title="Overdue", owner_id=en.id, due=TODAY - timedelta(days=20),
                   created_at=long_ago, updated_at=long_ago),
            Action(board_id=board.id, ref="A-4", title="Far off", owner_id=en.id, due=TODAY + timedelta(days=90),
                   created_at=NOW, updated_at=NOW),
            Action(board_id=board.id, ref="A-5", title="Done", owner_id=en.id, due=TODAY - timedelta(days=3),
                   rag="complete", created_at=NOW, updated_at=NOW),
        ]
        s.add_all(actions)
        s.add(Meeting(board_id=board.id, held_on=TODAY + timedelta(days=3)))
        s.add(Meeting(board_id=board.id, held_on=TODAY - timedelta(days=30)))
        s.add(ScrutinyRequest(board_id=board.id, requester_id=cy.id, subject_ref="A-3", question="Pam?",
                              due=TODAY - timedelta(days=2), created_at=long_ago, updated_at=long_ago))
        await s.commit()
    return {"en": en.id, "cy": cy.id, "chair": chair.id, "scrutiny": scrutiny.id}
