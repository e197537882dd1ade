from sqlmodel import select

from storage.models import Board, Member, Organisation, Person


async def test_board_with_members_round_trips(db):
    async with db.session() as s:
        board = Board(name="Bwrdd Gwasanaethau Cyhoeddus Ynys Môn")
        org = Organisation(name="Cyngor Sir Ynys Môn", sector="local government")
        person = Person(email="ŵyn@example.cymru", name="Siân Ŵyn", language="cy")
        s.add_all([board, org, person])
        await s.flush()
        s.add(Member(board_id=board.id, person_id=person.id, organisation_id=org.id, role="chair"))
        await s.commit()
    async with db.session() as s:
        member = (await s.exec(select(Member))).one()
        board = await s.get(Board, member.board_id)
        assert board.name.endswith("Ynys Môn")
        assert (await s.get(Person, member.person_id)).name == "Siân Ŵyn"


async def test_outbox_enqueue_is_idempotent_by_key(db):
    from scheduler.outbox import enqueue
    from storage.models import OutboxMessage

    async with db.session() as s:
        assert await enqueue(s, key="reminder:1:A-1:2026-11-23", platform="console", channel="x", payload={"t": 1})
        assert not await enqueue(s, key="reminder:1:A-1:2026-11-23", platform="console", channel="x", payload={"t": 2})
        await s.commit()
    async with db.session() as s:
        rows = (await s.exec(select(OutboxMessage))).all()
        assert [r.payload for r in rows] == [{"t": 1}]
