"""Group commit of responses: many submissions at once are all stored, each with its own answers,
repeated text is flagged, one bad row does not sink its neighbours, and an admin edit is seen at once."""

import asyncio
import os
import time
from functools import partial

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from engagement import service
from engagement.schemas import ResponseIn
from engagement.writer import writer_for
from storage.db import Database
from storage.models import Answer, Question, Response, utcnow
from tests.engagement_api.conftest import seed_consultation

ADMIN = {"Authorization": "Bearer tok"}


async def submit(db, data: ResponseIn) -> service.Submitted:
    async with db.session() as s:
        return await service.submit(s, "bws", data, channel="api", client_hash="c", now=utcnow())


async def test_a_burst_of_submissions_is_stored_whole(db):
    await seed_consultation(db)
    results = await asyncio.gather(*(submit(db, ResponseIn(text=f"general {i}", answers={"q1": f"answer {i}"}))
                                     for i in range(120)))
    assert len({r.reference for r in results}) == 120
    async with db.session() as s:
        responses = {r.id: r for r in (await s.exec(select(Response))).all()}
        answers = (await s.exec(select(Answer, Question.key).join(Question))).all()
    assert sorted(r.response_id for r in results) == sorted(responses)
    for result in results:
        response = responses[result.response_id]
        assert response.reference == result.reference and response.analysis_state == "pending"
        assert service.token_hash(result.withdrawal_token) == response.withdrawal_token_hash
    # Each answer sits with the response it was sent with.
    assert len(answers) == 120
    for answer, key in answers:
        assert key == "q1"
        assert answer.text.split()[-1] == responses[answer.response_id].text.split()[-1]


async def test_repeated_text_is_flagged_against_the_first(db):
    await seed_consultation(db)
    first = await submit(db, ResponseIn(text="Bring back the Sunday bus"))
    again = await asyncio.gather(*(submit(db, ResponseIn(text="bring back  the SUNDAY bus ")) for _ in range(3)))
    other = await submit(db, ResponseIn(text="Something else entirely"))
    async with db.session() as s:
        rows = {r.id: r for r in (await s.exec(select(Response))).all()}
    assert rows[first.response_id].duplicate_of_id is None
    assert {rows[r.response_id].duplicate_of_id for r in again} == {first.response_id}
    assert rows[other.response_id].duplicate_of_id is None


async def test_one_bad_row_does_not_sink_its_batch(db):
    slug = await seed_consultation(db)
    async with db.session() as s:
        view = await service.get_view(s, slug, utcnow())
    writer = writer_for(db.engine)

    def row(i, consultation_id):
        values, answers = service.response_rows(view, ResponseIn(text=f"row {i}"), token=f"t{i}", channel="api",
                                                client_hash=None, received_at=utcnow())
        return {**values, "consultation_id": consultation_id}, answers

    good = [writer.write(*row(i, view.consultation.id)) for i in range(5)]
    bad = writer.write(*row(99, 987654))  # no such consultation: a foreign-key violation
    outcomes = await asyncio.gather(*good, bad, return_exceptions=True)
    assert all(isinstance(o, int) for o in outcomes[:5])
    assert isinstance(outcomes[5], IntegrityError)
    async with db.session() as s:
        texts = sorted((await s.exec(select(Response.text))).all())
    assert texts == [f"row {i}" for i in range(5)]


async def test_a_submission_over_its_limit_is_refused_when_its_batch_is_redone_one_by_one(db):
    """Counted with its response, a submission over its client's limit is refused (nothing stored), also
    when a bad neighbour makes the writer redo the batch one response at a time."""
    from engagement.ratelimit import DatabaseCounts, Limit, RateLimited, WithWrite

    slug = await seed_consultation(db)
    async with db.session() as s:
        view = await service.get_view(s, slug, utcnow())
    writer = writer_for(db.engine)
    limit = Limit("submit", 1, 60)
    counts = DatabaseCounts(db)

    def row(i, consultation_id):
        values, answers = service.response_rows(view, ResponseIn(text=f"row {i}"), token=f"t{i}", channel="api",
                                                client_hash=None, received_at=utcnow())
        return {**values, "consultation_id": consultation_id}, answers

    async def outcome(write) -> tuple[str, object]:
        try:
            return "stored", await write
        except Exception as exc:
            return "refused", exc

    same_client = [outcome(writer.write(*row(i, view.consultation.id), WithWrite(counts, limit, "one-client")))
                   for i in range(3)]
    bad = outcome(writer.write(*row(99, 987654)))  # no such consultation: the batch is redone one by one
    outcomes = await asyncio.gather(*same_client, bad)
    assert outcomes[0][0] == "stored" and isinstance(outcomes[0][1], int)
    assert [(kind, type(value)) for kind, value in outcomes[1:]] == [
        ("refused", RateLimited), ("refused", RateLimited), ("refused", IntegrityError)]
    async with db.session() as s:
        assert (await s.exec(select(Response.text))).all() == ["row 0"]


async def test_an_admin_edit_is_seen_by_the_next_submission(api, db):
    await seed_consultation(db)
    url = "/api/v1/consultations/bws/responses"
    assert (await api.call("GET", "/api/v1/consultations/bws"))[0] == 200  # now remembered
    assert (await api.call("POST", url, json={"answers": {"q2": "too early"}}))[0] == 422
    status, _ = await api.call("PATCH", "/api/v1/admin/consultations/bws", headers=ADMIN, json={
        "questions": [{"id": "q1", "text_en": "Views?", "text_cy": "Barn?"},
                      {"id": "q2", "text_en": "Anything else?", "text_cy": "Unrhyw beth arall?"}]})
    assert status == 200
    assert (await api.call("POST", url, json={"answers": {"q2": "now it exists"}}))[0] == 201
    _, public = await api.call("GET", "/api/v1/consultations/bws")
    assert [q["id"] for q in public["questions"]] == ["q1", "q2", "welsh-language"]
    status, _ = await api.call("PATCH", "/api/v1/admin/consultations/bws", headers=ADMIN, json={
        "closes": "2020-01-01T00:00:00+00:00", "opens": "2019-01-01T00:00:00+00:00"})
    assert status == 200
    status, body = await api.call("POST", url, json={"answers": {"q1": "after the close"}})
    assert status == 409, body


@pytest.mark.parametrize("count", [1, 3])
async def test_submitters_are_answered_only_after_the_commit(db, count):
    """Read back on a separate connection as soon as each submit returns."""
    await seed_consultation(db)

    async def submit_and_look(i):
        submitted = await submit(db, ResponseIn(text=f"look {i}"))
        async with db.session() as s:
            return (await s.exec(select(Response.text).where(Response.id == submitted.response_id))).first()

    assert await asyncio.gather(*(submit_and_look(i) for i in range(count))) == [f"look {i}" for i in range(count)]


async def test_responses_waiting_for_a_retry_do_not_hide_newer_ones(api, db):
    """120 responses whose analysis keeps failing must not stop a new one being analysed."""
    from engagement.analysis import analyse
    from engagement.worker import ANALYSER

    await seed_consultation(db)
    worker = api.app[ANALYSER]

    def fragile(text, language=None, names=()):
        if "boom" in text:
            raise RuntimeError("cannot analyse this one")
        return analyse(text, language, names)

    worker.analyse = fragile
    for i in range(120):
        await submit(db, ResponseIn(text=f"boom {i}"))
    fine = await submit(db, ResponseIn(text="The new timetable is excellent, thank you"))
    for _ in range(4):
        await worker.analyse_pending()
    async with db.session() as s:
        rows = {r.id: r for r in (await s.exec(select(Response))).all()}
    assert rows[fine.response_id].analysis_state == "done" and rows[fine.response_id].sentiment == "positive"
    failing = [r for r in rows.values() if r.id != fine.response_id]
    assert {(r.analysis_state, r.analysis_attempts) for r in failing} == {("pending", 1)}
    assert all("cannot analyse" in r.analysis_error for r in failing)


async def test_a_response_the_database_refuses_to_store_fails_alone_and_its_batch_is_stored(api, db):
    """Responses are analysed in batches, one transaction each; when storing one fails (here a trigger
    refuses it), the others are stored and only that one records a failed attempt."""
    from sqlalchemy import text

    from engagement.worker import ANALYSER

    await seed_consultation(db)
    async with db.engine.begin() as conn:
        if db.is_postgres:
            await conn.execute(text("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                                    "RAISE EXCEPTION 'refused by the database'; END $$ LANGUAGE plpgsql"))
            await conn.execute(text("CREATE TRIGGER refuse BEFORE UPDATE ON response FOR EACH ROW WHEN "
                                    "(NEW.text LIKE '%crash%' AND NEW.analysis_state = 'done') EXECUTE FUNCTION refuse()"))
        else:
            await conn.execute(text("CREATE TRIGGER refuse BEFORE UPDATE ON response WHEN NEW.text LIKE '%crash%' "
                                    "AND NEW.analysis_state = 'done' BEGIN SELECT RAISE(ABORT, 'refused by the "
                                    "database'); END"))
    texts = ["The new timetable is excellent", "The bus crash site needs a barrier",
             "Litter in the park is awful", "Youth clubs are wonderful"]
    ids = [(await submit(db, ResponseIn(text=t))).response_id for t in texts]
    await api.app[ANALYSER].analyse_pending()
    async with db.session() as s:
        rows = {r.id: r for r in (await s.exec(select(Response))).all()}
    assert [rows[i].analysis_state for i in ids] == ["done", "pending", "done", "done"]
    assert [rows[i].sentiment for i in ids] == ["positive", None, "negative", "positive"]
    assert rows[ids[1]].analysis_attempts == 1 and "refused by the database" in rows[ids[1]].analysis_error
    assert all(rows[i].analysis_attempts == 0 for i in ids if i != ids[1])


async def test_a_response_withdrawn_during_its_analysis_keeps_nothing(api, db, database_url):
    """The withdrawal commits (on another connection) while the analyser is working on the response."""
    from sqlalchemy import create_engine, text

    from engagement.analysis import analyse
    from engagement.worker import ANALYSER
    from storage.db import sync_url

    await seed_consultation(db)
    status, body = await api.call("POST", "/api/v1/consultations/bws/responses", json={
        "text": "Call Jo Bloggs on 07700 900123", "answers": {"q1": "Jo Bloggs likes the buses"},
        "anonymous": False, "name": "Jo Bloggs", "email": "jo@example.com", "contact_consent": True})
    assert status == 201
    other = create_engine(sync_url(database_url))
    worker = api.app[ANALYSER]

    def analyse_while_withdrawn(text_, language=None, names=()):
        with other.begin() as conn:  # what DELETE /api/v1/responses/{reference} does, from elsewhere
            conn.execute(text("UPDATE response SET withdrawn_at = CURRENT_TIMESTAMP, text = NULL, name = NULL, "
                              "email = NULL WHERE reference = :r"), {"r": body["reference"]})
            conn.execute(text("UPDATE answer SET text = NULL"))
        return analyse(text_, language, names)

    worker.analyse = analyse_while_withdrawn
    try:
        await worker.analyse_pending()
    finally:
        other.dispose()
    async with db.session() as s:
        response = (await s.exec(select(Response))).one()
        answer = (await s.exec(select(Answer))).one()
    assert response.withdrawn_at is not None
    assert (response.redacted_text, response.themes, response.sentiment) == (None, None, None)
    assert (answer.redacted_text, answer.themes) == (None, None)


# --- the SQLite writer's turns (storage.direct) ------------------------------------------------------------


def _count_buckets(conn, buckets):
    for bucket in buckets:
        conn.execute("INSERT INTO ratecount (bucket, client, window_start, expires, count) "
                     "VALUES (?, 'c', 0, 1, 1)", (bucket,))
    return buckets


async def test_writes_that_share_a_turn_fail_alone(sqlite_url):
    """Rate counts and responses waiting together go in one transaction; a write that fails is rolled back
    alone (what it wrote before failing too), and its neighbours are committed."""
    import sqlite3

    from storage.direct import direct_for

    database = Database.from_url(sqlite_url)
    await database.create_all()
    try:
        direct = direct_for(database.engine, "responses")
        assert direct is direct_for(database.engine, "rate-counts")  # one writer a process

        def insert(*buckets):
            return partial(_count_buckets, buckets=buckets)  # (a work goes to the writer process by pickle)

        outcomes = await asyncio.gather(direct.sqlite(insert("a")), direct.sqlite(insert("b", "a")),
                                        direct.sqlite(insert("c")), return_exceptions=True)
        assert outcomes[0] == ("a",) and outcomes[2] == ("c",)
        assert isinstance(outcomes[1], IntegrityError)
        with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
            stored = sorted(b for (b,) in conn.execute("SELECT bucket FROM ratecount"))
        assert stored == ["a", "c"]  # "b" went with the failed write
    finally:
        await database.dispose()


def _wait_then_count(conn, seconds):
    time.sleep(seconds)
    return _count_buckets(conn, ("late",))


async def test_a_writer_process_that_stops_is_an_outage_for_its_turn_and_is_started_again(sqlite_url):
    """The SQLite writer is a process of its own. Killed with a turn in hand, that turn fails as the
    database being unavailable (a 503, never a 201 for something perhaps not stored); killed between
    turns, the next submission starts a new one and is stored; and it stops with the database."""
    import signal

    from cyswllt.outage import is_unavailable
    from storage.direct import direct_for

    database = Database.from_url(sqlite_url)
    await database.create_all()
    await seed_consultation(database)
    try:
        first = await submit(database, ResponseIn(text="The Sunday bus, please"))
        direct = direct_for(database.engine, "responses")
        process = direct._process.process

        in_hand = asyncio.ensure_future(direct.sqlite(partial(_wait_then_count, seconds=5)))
        await asyncio.sleep(0.5)
        os.kill(process.pid, signal.SIGKILL)
        with pytest.raises(ConnectionError) as lost:
            await asyncio.wait_for(in_hand, timeout=10)
        assert is_unavailable(lost.value)

        second = await submit(database, ResponseIn(text="And the library on Saturdays"))
        assert direct._process.process.pid != process.pid
        os.kill(direct._process.process.pid, signal.SIGKILL)
        await direct._process.process.wait()
        third = await submit(database, ResponseIn(text="And a crossing by the school"))

        async with database.session() as s:
            stored = sorted((await s.exec(select(Response.id, Response.text))).all())
        assert stored == [(first.response_id, "The Sunday bus, please"),
                          (second.response_id, "And the library on Saturdays"),
                          (third.response_id, "And a crossing by the school")]
        last = direct._process.process
    finally:
        await database.dispose()
    assert last.returncode == 0  # it stopped when its socket closed, with the database


async def test_the_log_is_copied_into_the_database_beside_the_writers(sqlite_url, monkeypatch):
    """The log is copied beside the writers, not in their turns (bar the last few frames: see
    ``Turns._copy_rest``); responses still reach the database file itself (not only its write-ahead
    log) while they are being written."""
    import sqlite3

    from storage import direct as direct_module

    monkeypatch.setattr(direct_module, "CHECKPOINT_EVERY", 0.05)
    database = Database.from_url(sqlite_url)
    await database.create_all()
    await seed_consultation(database)
    path = sqlite_url.removeprefix("sqlite:///")
    try:
        for i in range(5):
            await submit(database, ResponseIn(text=f"The Sunday bus, please ({i})"))
            await asyncio.sleep(0.1)
        # Read the database file alone, as if the log were lost: the responses are in it.
        with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
            in_file = conn.execute("SELECT count(*) FROM response").fetchone()[0]
        assert in_file >= 4
    finally:
        await database.dispose()


def test_a_log_written_to_without_pause_is_begun_again(tmp_path):
    """Writers that never pause still let the write-ahead log be copied to its end and begun again, so
    its file stays small. Copied only beside them, it never caught up with them, and grew by every page
    written (600 MB in ten seconds of submissions)."""
    import sqlite3

    from storage.direct import Turns

    path = str(tmp_path / "log.db")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, words BLOB)")
    turns = Turns(path, checkpoint_every=0.0)
    words = os.urandom(6000)  # two pages of the log a turn at least

    def add(conn):
        conn.execute("INSERT INTO note (words) VALUES (?)", (words,))

    largest = 0
    try:
        for _ in range(3000):  # 43 MB written to the log
            turns.run([add])
            largest = max(largest, os.path.getsize(path + "-wal"))
    finally:
        turns.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM note").fetchone() == (3000,)
    assert largest < 15_000_000  # begun again, more than once (it holds everything written if never)


async def test_earlier_copies_are_found_through_the_words_index(db):
    """The duplicate check looks earlier copies up by their words' hash alone: naming the consultation as
    well let PostgreSQL, on a table it had not yet analysed, read every response of the consultation for
    each new one (submissions fell to a seventh of their rate as the table grew)."""
    from sqlalchemy import text

    from engagement.writer import FLAG_DUPLICATES_SQL

    await seed_consultation(db)
    submitted = await asyncio.gather(*(submit(db, ResponseIn(text=f"response number {i}")) for i in range(300)))
    ids = ", ".join(str(r.response_id) for r in submitted[-3:])
    explain = "EXPLAIN " if db.is_postgres else "EXPLAIN QUERY PLAN "
    async with db.engine.connect() as conn:
        plan = "\n".join(str(row[-1]) for row in (await conn.execute(text(
            explain + FLAG_DUPLICATES_SQL + f" IN ({ids})"))).all())
    assert "ix_response_text_hash" in plan
    assert "ix_response_consultation" not in plan


async def test_answers_stay_with_their_responses_when_ids_are_not_one_after_another(db, caplog):
    """SQLite numbers the rows one statement inserts one after another, and the writer counts on that to
    learn their ids without reading each back; when it does not hold (here: the largest id is taken, so
    SQLite picks free ids at random), each response is found by its reference instead."""
    from sqlalchemy import text

    await seed_consultation(db)
    first = await submit(db, ResponseIn(text="the first of them"))
    if not db.is_postgres:
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE response SET id = 9223372036854775807 WHERE id = :id"),
                               {"id": first.response_id})
    plain = await asyncio.gather(*(submit(db, ResponseIn(text=f"plain {i}")) for i in range(40)))
    answered = await asyncio.gather(*(submit(db, ResponseIn(text=f"general {i}", answers={"q1": f"answer {i}"}))
                                      for i in range(40)))
    async with db.session() as s:
        responses = {r.id: r for r in (await s.exec(select(Response))).all()}
        answers = (await s.exec(select(Answer))).all()
    assert len(responses) == 81
    for result in plain + answered:
        assert responses[result.response_id].reference == result.reference
    assert len(answers) == 40
    for answer in answers:
        assert answer.text.split()[-1] == responses[answer.response_id].text.split()[-1]
    assert "one by one" not in caplog.text  # no batch failed on the way
