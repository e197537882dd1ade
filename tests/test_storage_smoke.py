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


async def test_work_run_by_the_database_is_committed_when_it_commits_and_rolled_back_when_it_fails(db):
    """``Database.run``: on SQLite a blocking session on a thread of its own; on PostgreSQL an async one.
    Either way the work sees its own writes, keeps what it commits and loses what it does not."""
    import threading

    import pytest

    async def add(session, name, fail=False):
        session.add(Board(name=name))
        await session.flush()
        assert (await session.exec(select(Board.name).where(Board.name == name))).one() == name
        if fail:
            raise ValueError("refused")
        await session.commit()
        return threading.current_thread().name

    thread = await db.run(lambda s: add(s, "Bwrdd Gwynedd"))
    with pytest.raises(ValueError):
        await db.run(lambda s: add(s, "Bwrdd Conwy", fail=True))
    assert thread.startswith("database") == (not db.is_postgres)
    async with db.session() as s:
        assert (await s.exec(select(Board.name))).all() == ["Bwrdd Gwynedd"]


async def test_work_that_awaits_more_than_its_session_is_refused_on_sqlite(sqlite_url):
    import asyncio

    import pytest

    from storage.db import Database

    database = Database.from_url(sqlite_url)
    await database.create_all()

    async def waits(session):
        session.add(Board(name="Bwrdd Môn"))
        await asyncio.sleep(0)

    try:
        with pytest.raises(RuntimeError, match="only its session"):
            await database.run(waits)
        async with database.session() as s:
            assert (await s.exec(select(Board))).all() == []
    finally:
        await database.dispose()
