"""A small board for the Teams command tests: two boards, a member on both, one stranger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from storage.db import Database
from storage.models import Action, ActionLead, Board, Member, Organisation, Person, Priority
from tests.addresses import chat
from tests.teams.conftest import AAD_CERI

AAD_GWEN = "6d0c4b5e-2222-4000-8000-0000000000c2"


@dataclass
class Seeded:
    board_id: int
    other_board_id: int
    ceri_id: int
    gwen_id: int
    action_id: int


async def seed(db: Database) -> Seeded:
    async with db.session() as s:
        board = Board(name="Bwrdd Gwasanaethau Cyhoeddus Ceredigion")
        other = Board(name="Powys PSB")
        council = Organisation(name="Cyngor Sir Ceredigion", sector="local government")
        s.add_all([board, other, council])
        await s.flush()
        ceri = Person(email="ceri@example.org", name="Ceri Jones", language="en", current_board_id=board.id)
        gwen = Person(email="gwen@example.org", name="Gwen Morgan", language="cy", current_board_id=board.id)
        s.add_all([ceri, gwen])
        await s.flush()
        s.add_all([*chat(ceri, teams=AAD_CERI), *chat(gwen, teams=AAD_GWEN)])
        s.add_all([
            Member(board_id=board.id, person_id=ceri.id, organisation_id=council.id, role="secretariat"),
            Member(board_id=other.id, person_id=ceri.id, organisation_id=council.id, role="core"),
            Member(board_id=board.id, person_id=gwen.id, organisation_id=council.id, role="officer"),
        ])
        priority = Priority(board_id=board.id, ref="P-1", title="Open data for the county")
        s.add(priority)
        await s.flush()
        action = Action(board_id=board.id, priority_id=priority.id, ref="A-1", title="Publish the open data portal",
                        owner_email=ceri.email, owner_id=ceri.id, due=date(2007, 11, 30), due_text="Nov 07")
        s.add(action)
        await s.flush()
        s.add(ActionLead(action_id=action.id, organisation_id=council.id))
        await s.commit()
        return Seeded(board.id, other.id, ceri.id, gwen.id, action.id)
