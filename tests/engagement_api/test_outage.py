"""A PostgreSQL outage under load, with production durability (fsync and synchronous_commit on): the
server is killed mid-load and started again. Meanwhile the API answers 503 with Retry-After in JSON,
pages and the form answer a page in the reader's language (the form with the citizen's words kept),
the log has one line for the outage and one for the recovery, the service recovers without a restart,
and every response acknowledged with a 201 is in the database afterwards."""

import asyncio
import html as markup
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import psycopg
import pytest

from storage.db import Database
from storage.migrate import upgrade
from tests.engagement_api.conftest import seed_consultation
from tests.pgserver import PostgresServer
from tests.processes import free_port, wait_ready

CLIENTS = 16


@pytest.fixture
def durable_postgres():
    server = PostgresServer(durable=True).start()
    try:
        yield server
    finally:
        server.stop()


def serve(env: dict, log_path: Path) -> subprocess.Popen:
    with open(log_path, "w") as log_file:
        return subprocess.Popen([str(Path(sys.executable).with_name("cyswllt")), "serve"], env=env,
                                stdout=log_file, stderr=subprocess.STDOUT)


async def test_an_outage_mid_load_loses_nothing_acknowledged_and_recovers_without_a_restart(durable_postgres,
                                                                                             tmp_path):
    server = durable_postgres
    with psycopg.connect(server.url) as conn:
        assert conn.execute("SHOW fsync").fetchone() == ("on",)
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
    url = server.create_database("outage")
    upgrade(url)
    db = Database.from_url(url)
    await seed_consultation(db)
    await db.dispose()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "CYSWLLT_DATABASE_URL": url, "CYSWLLT_PORT": str(port), "CYSWLLT_HOST": "127.0.0.1",
           "CYSWLLT_SCHEDULER": "0", "CYSWLLT_OUTBOX": "0", "CYSWLLT_ANALYSIS": "1",
           "CYSWLLT_RATE_LIMIT": "1000000/minute", "CYSWLLT_FORM_MIN_SECONDS": "0"}
    process = serve(env, log_path)
    try:
        await wait_ready(base, process)
        acknowledged: dict[str, str] = {}
        outcomes: list[tuple[float, int]] = []  # (when, status)
        unavailable: list[tuple[str | None, str, str]] = []  # (Retry-After, content type, body)
        running = True

        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{base}/consultations/bws/respond?lang=cy") as r:  # a citizen opens the form
                form = dict(re.findall(r'name="(csrf|started)" value="([^"]+)"', await r.text()))

            async def client(c: int) -> None:
                i = 0
                while running:
                    text = f"Ymateb {c}-{i}: more buses to Llangefni"
                    i += 1
                    try:
                        async with http.post(f"{base}/api/v1/consultations/bws/responses", json={"text": text}) as r:
                            body = await r.text()
                            outcomes.append((time.monotonic(), r.status))
                            if r.status == 201:
                                acknowledged[(await r.json())["reference"]] = text
                            elif r.status == 503:
                                unavailable.append((r.headers.get("Retry-After"), r.content_type, body))
                    except aiohttp.ClientError:
                        outcomes.append((time.monotonic(), 0))
                    await asyncio.sleep(0.005)

            load = [asyncio.create_task(client(c)) for c in range(CLIENTS)]
            await asyncio.sleep(1.5)
            await asyncio.to_thread(server.halt)  # killed mid-load, as a crash would
            await asyncio.sleep(2.5)

            # Meanwhile, people: a page, the form they had open, and the health check.
            async with http.get(f"{base}/consultations?lang=cy") as r:
                page = markup.unescape(await r.text())
                assert r.status == 503 and r.content_type == "text/html" and int(r.headers["Retry-After"]) > 0
                assert "Mae'n ddrwg gennym, mae problem gyda'r gwasanaeth" in page
            words = "Plîs peidiwch â cholli hwn: mae'r bws olaf yn gadael yn rhy gynnar"
            async with http.post(f"{base}/consultations/bws/respond?lang=cy",
                                 data={**form, "answer-q1": words}) as r:
                page = markup.unescape(await r.text())
                assert r.status == 503 and int(r.headers["Retry-After"]) > 0
                assert "Doedden ni ddim yn gallu cadw eich ymateb" in page and f">{words}</textarea>" in page
            async with http.get(f"{base}/healthz") as r:
                assert r.status == 503

            restarted = time.monotonic()
            await asyncio.to_thread(server.resume)
            await asyncio.sleep(3.0)
            running = False
            await asyncio.gather(*load)

            # The form they kept can now be sent, as it is.
            again = dict(re.findall(r'name="(csrf|started)" value="([^"]+)"', page))
            async with http.post(f"{base}/consultations/bws/respond?lang=cy",
                                 data={**again, "answer-q1": words}) as r:
                assert r.status == 200 and "Ymateb wedi dod i law" in await r.text()
        assert process.poll() is None  # never restarted
    finally:
        process.terminate()
        process.wait(timeout=30)

    statuses = {status for _, status in outcomes}
    assert statuses <= {201, 503}, statuses  # never a 500, never a dropped connection
    assert unavailable, "the outage was never seen"
    for retry_after, content_type, body in unavailable:
        assert int(retry_after) >= 1 and content_type == "application/json" and '"error"' in body
    assert sum(1 for when, status in outcomes if when > restarted and status == 201) > 20  # recovered

    with psycopg.connect(url) as conn:
        stored = dict(conn.execute("SELECT reference, text FROM response").fetchall())
    lost = {ref: text for ref, text in acknowledged.items() if stored.get(ref) != text}
    assert not lost, f"{len(lost)} acknowledged responses are not stored"
    assert len(acknowledged) > 50 and words in {t for t in stored.values()} | {
        t for (t,) in psycopg.connect(url).execute("SELECT text FROM answer").fetchall()}

    log = log_path.read_text()
    refused = sum(1 for _, status in outcomes if status == 503)
    assert log.count("database unavailable") == 1, log[-3000:]
    assert log.count("database reachable again") == 1, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    problems = [line for line in log.splitlines() if " ERROR " in line or " WARNING " in line]
    assert len(problems) <= 3, (refused, problems)  # not one a request
