"""Every board gets a unique URL slug made from its name, however it is added."""

from sqlalchemy import insert
from sqlmodel import select

from storage.imports import board_named
from storage.models import Board, utcnow
from storage.slugs import slugify

NOW = utcnow()


def test_slugs_are_ascii_words_from_the_name():
    assert slugify("Ynys Môn Local Service Board") == "ynys-mon-local-service-board"
    assert slugify("Bwrdd Gwasanaethau Cyhoeddus Gŵyr a'r Fro") == "bwrdd-gwasanaethau-cyhoeddus-gwyr-a-r-fro"
    assert slugify("  —  ") == "board"
    assert len(slugify("Partneriaeth " * 20)) <= 80 and not slugify("Partneriaeth " * 20).endswith("-")


async def test_boards_get_unique_slugs_one_by_one_together_and_in_bulk(db):
    async with db.session() as s:
        board, created = await board_named(s, "Ynys Môn Local Service Board", create=True)
        assert created and board.slug == "ynys-mon-local-service-board" and board.published is False
        s.add_all([Board(name="Ynys Mon Local Service Board!"), Board(name="YNYS MÔN local service board")])
        await s.commit()
        connection = await s.connection()  # a bulk insert, as the benches load boards
        await connection.execute(insert(Board), [{"name": "Ynys-Môn Local Service Board", "created_at": NOW},
                                                 {"name": "Gwynedd", "created_at": NOW}])
        await s.commit()
        slugs = {b.name: b.slug for b in (await s.exec(select(Board))).all()}
    assert sorted(slugs.values()) == ["gwynedd", "ynys-mon-local-service-board", "ynys-mon-local-service-board-2",
                                      "ynys-mon-local-service-board-3", "ynys-mon-local-service-board-4"]
