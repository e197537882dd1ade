"""Chat addresses for test seeds: ``s.add_all(chat(person, slack="U1", teams="aad-1"))`` once the
person, board or stakeholder group has its id (after a flush)."""

from storage.models import Address, Board, Person, StakeholderGroup

_OWNER = {Person: "person_id", Board: "board_id", StakeholderGroup: "group_id"}


def chat(owner, **where: str | None) -> list[Address]:
    assert owner.id is not None, "flush first: the address needs its owner's id"
    return [Address(platform=platform, address=address, **{_OWNER[type(owner)]: owner.id})
            for platform, address in where.items() if address]
