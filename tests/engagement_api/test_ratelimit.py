"""Rate limits: counted in the database whenever more than one process may serve (PostgreSQL, or
SQLite with several workers), so the limit holds across processes, replicas and restarts; withdrawal
attempts are limited too, so codes cannot be guessed in bulk."""

import asyncio
import re

import aiohttp
from aiohttp.test_utils import TestServer
from sqlmodel import select

from cyswllt.app import create_app
from cyswllt.settings import Settings
from engagement.ratelimit import LIMITER, DatabaseCounts, MemoryCounts, parse
from storage.models import RateCount, Response
from tests.engagement_api.conftest import seed_consultation


def settings_for(url: str, **extra) -> Settings:
    return Settings(database_url=url, scheduler_enabled=False, outbox_enabled=False, analysis_enabled=False,
                    CYSWLLT_FORM_MIN_SECONDS=0, **extra)


async def started(app) -> tuple[TestServer, str]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, str(server.make_url("")).rstrip("/")


def test_limits_are_read_as_people_write_them():
    assert parse("20/minute") == (20, 60)
    assert parse("5/10minutes") == (5, 600)
    assert parse("100 / hour") == (100, 3600)
    assert parse("3/second") == (3, 1)


async def test_where_the_counts_live(db, database_url):
    one = create_app(settings_for(database_url), db=db)
    several = create_app(settings_for(database_url, workers=2), db=db)
    expected = DatabaseCounts if db.is_postgres else MemoryCounts  # replicas share PostgreSQL
    assert isinstance(one[LIMITER].counts, expected)
    assert isinstance(several[LIMITER].counts, DatabaseCounts)


async def test_two_processes_share_one_limit_and_a_restart_keeps_it(db, database_url):
    await seed_consultation(db)
    settings = settings_for(database_url, workers=2, CYSWLLT_RATE_LIMIT="20/minute")
    servers = [await started(create_app(settings, db=db)) for _ in range(2)]
    statuses: dict[int, int] = {}
    try:
        async with aiohttp.ClientSession() as http:
            async def one(i: int) -> None:
                base = servers[i % 2][1]
                async with http.post(f"{base}/api/v1/consultations/bws/responses", json={"text": f"Bws {i}"}) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                    if r.status == 429:
                        assert 1 <= int(r.headers["Retry-After"]) <= 60

            await asyncio.gather(*(one(i) for i in range(200)))
    finally:
        for server, _ in servers:
            await server.close()
    assert statuses == {201: 20, 429: 180}
    # A restart (a new process on the same database) does not give the client a fresh allowance.
    server, base = await started(create_app(settings, db=db))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/v1/consultations/bws/responses", json={"text": "again"}) as r:
                assert r.status == 429
    finally:
        await server.close()
    async with db.session() as s:
        assert len((await s.exec(select(Response))).all()) == 20
        (count,) = (await s.exec(select(RateCount))).all()
        assert count.bucket == "submit" and len(count.client) == 32  # a salted hash, never the address


async def test_every_attempt_counts_stored_or_refused(db, database_url):
    """With the counts in an SQLite file a submission is counted in the same transaction as its response;
    one refused before it is stored (not valid, no such consultation) is counted on its own. Every attempt
    counts either way, and one over the limit is not stored."""
    await seed_consultation(db)
    app = create_app(settings_for(database_url, workers=2, CYSWLLT_RATE_LIMIT="4/minute"), db=db)
    server, base = await started(app)
    try:
        async with aiohttp.ClientSession() as http:
            async def post(slug: str, body) -> int:
                async with http.post(f"{base}/api/v1/consultations/{slug}/responses", json=body) as r:
                    await r.read()
                    return r.status

            statuses = [await post("bws", {"text": "Mwy o fysiau"}), await post("bws", {"text": 5}),
                        await post("nowhere", {"text": "More buses"}), await post("bws", {"text": "More buses"}),
                        await post("bws", {"text": "Even more buses"}), await post("bws", {"text": 5})]
    finally:
        await server.close()
    assert statuses == [201, 400, 404, 201, 429, 429]
    async with db.session() as s:
        assert sorted(r.text for r in (await s.exec(select(Response))).all()) == ["More buses", "Mwy o fysiau"]
        (count,) = (await s.exec(select(RateCount))).all()
        assert count.count == 6


async def test_an_ended_window_starts_afresh(db, database_url):
    await seed_consultation(db)
    app = create_app(settings_for(database_url, workers=2, CYSWLLT_RATE_LIMIT="2/second"), db=db)
    server, base = await started(app)
    try:
        async with aiohttp.ClientSession() as http:
            async def post() -> int:
                async with http.post(f"{base}/api/v1/consultations/bws/responses", json={"text": "x"}) as r:
                    return r.status

            assert [await post() for _ in range(3)] == [201, 201, 429]
            await asyncio.sleep(1.1)
            assert [await post() for _ in range(3)] == [201, 201, 429]
    finally:
        await server.close()


async def test_withdrawal_attempts_are_limited(db, database_url):
    await seed_consultation(db)
    app = create_app(settings_for(database_url), db=db)
    server, base = await started(app)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/v1/consultations/bws/responses", json={"text": "Mine"}) as r:
                mine = await r.json()
            statuses = []
            for i in range(30):
                async with http.delete(f"{base}/api/v1/responses/{mine['reference']}",
                                       headers={"X-Withdrawal-Token": f"guess-{i}"}) as r:
                    statuses.append(r.status)
                    if r.status == 429:
                        assert int(r.headers["Retry-After"]) >= 1 and "withdraw" in (await r.json())["error"]
            assert statuses == [404] * 10 + [429] * 20
            # Even the right code waits: the limit is on attempts from this client.
            async with http.delete(f"{base}/api/v1/responses/{mine['reference']}",
                                   headers={"X-Withdrawal-Token": mine["withdrawal_token"]}) as r:
                assert r.status == 429
            await app[LIMITER].reset()  # a minute later
            async with http.delete(f"{base}/api/v1/responses/{mine['reference']}",
                                   headers={"X-Withdrawal-Token": mine["withdrawal_token"]}) as r:
                assert r.status == 204
    finally:
        await server.close()


async def test_the_withdrawal_page_is_limited_and_keeps_what_was_typed(db, database_url):
    await seed_consultation(db)
    app = create_app(settings_for(database_url, CYSWLLT_WITHDRAWAL_RATE_LIMIT="3/minute"), db=db)
    server, base = await started(app)
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{base}/consultations/withdraw?lang=cy") as r:
                csrf = re.search(r'name="csrf" value="([^"]+)"', await r.text()).group(1)
            statuses = []
            for i in range(4):
                async with http.post(f"{base}/consultations/withdraw?lang=cy",
                                     data={"csrf": csrf, "reference": "CY-AAAA-BBBB", "code": f"guess{i}"}) as r:
                    statuses.append(r.status)
                    html = await r.text()
            assert statuses == [404, 404, 404, 429] and int(r.headers["Retry-After"]) >= 1
            assert "Bu gormod o ymdrechion i dynnu ymateb yn ôl" in html
            assert 'value="CY-AAAA-BBBB"' in html and 'value="guess3"' in html
    finally:
        await server.close()
