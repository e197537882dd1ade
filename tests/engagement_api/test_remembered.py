"""The consultation a submission is checked against is remembered for a few seconds: when it is forgotten
under load, the requests that arrive together read it once between them; a slug that does not exist is
still a 404 for each of them; and the form shown during an outage uses the consultation as last read."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event

from engagement import service
from engagement.service import ConsultationNotFound
from storage.models import utcnow
from tests.engagement_api.conftest import seed_consultation


def reads_of_consultations(db) -> list[str]:
    seen: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM consultation " in statement + " ":
            seen.append(statement)

    return seen


async def test_requests_that_find_it_forgotten_together_read_it_once(db):
    await seed_consultation(db)
    service._views.clear()
    seen = reads_of_consultations(db)

    async def one():
        async with db.session() as session:
            return await service.get_view(session, "bws", utcnow())

    views = await asyncio.gather(*(one() for _ in range(20)))
    assert len(seen) == 1
    assert {v.consultation.slug for v in views} == {"bws"} and all(v.is_open for v in views)
    assert [q.key for q in views[0].questions] == ["q1", "welsh-language"]


async def test_a_consultation_that_does_not_exist_is_not_found_by_every_request(db):
    await seed_consultation(db)

    async def one():
        async with db.session() as session:
            return await service.get_view(session, "dim-ffasiwn", utcnow())

    outcomes = await asyncio.gather(*(one() for _ in range(5)), return_exceptions=True)
    assert all(isinstance(o, ConsultationNotFound) for o in outcomes)
    assert not service._reading.get(db.engine)  # nothing left waiting


async def test_remembered_and_cached_views_say_whether_it_is_open_now(db):
    now = utcnow()
    await seed_consultation(db, slug="hwyr", closes=now + timedelta(seconds=2))
    service._views.clear()
    async with db.session() as session:
        assert (await service.get_view(session, "hwyr", now)).is_open
    assert service.cached_view(db.engine, "hwyr", now).is_open
    assert not service.cached_view(db.engine, "hwyr", now + timedelta(seconds=3)).is_open
    # What a page shown during an outage gets: the consultation itself, as last read.
    kept = service.remembered(db, "hwyr")
    assert kept is not None and kept.consultation.slug == "hwyr" and kept.question("q1").text_cy


@pytest.mark.parametrize("random", [bytes(5), b"\xff" * 5, b"\x12\x34\x56\x78\x9a"])
def test_references_use_the_whole_alphabet_one_for_one(random):
    reference = service._reference(random)
    assert reference.startswith("CY-") and len(reference) == 12 and reference[7] == "-"
    code = reference[3:7] + reference[8:]
    assert set(code) <= set(service.REFERENCE_ALPHABET)
    bits = int.from_bytes(random)
    assert code == "".join(service.REFERENCE_ALPHABET[(bits >> s) & 31] for s in range(35, -1, -5))
