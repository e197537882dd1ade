"""``cyswllt serve --workers N``: several processes on one port, the background work (scheduler, outbox,
analysis) in exactly one of them, a worker that dies started again — and kill -9 of one worker under
load loses no response that was acknowledged. On SQLite and on PostgreSQL."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, text

from storage.db import Database, sync_url
from storage.migrate import upgrade
from tests.engagement_api.conftest import seed_consultation
from tests.fakes.slack_api import FakeSlackAPI
from tests.processes import free_port, wait_ready


def serve(url: str, port: int, workers: int, log_path: Path, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "CYSWLLT_DATABASE_URL": url, "CYSWLLT_PORT": str(port), "CYSWLLT_HOST": "127.0.0.1",
           "CYSWLLT_RATE_LIMIT": "1000000/minute", "CYSWLLT_WORKING_HOURS": "always", **extra}
    with open(log_path, "w") as log:
        return subprocess.Popen([str(Path(sys.executable).with_name("cyswllt")), "serve", "--workers", str(workers)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def stored(url: str) -> dict[str, str]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT reference, text FROM response")).all())
    finally:
        engine.dispose()


def pending(url: str) -> int:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM response WHERE analysis_state = 'pending'")).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
async def seeded(database_url):
    upgrade(database_url)
    db = Database.from_url(database_url)
    await seed_consultation(db)
    await db.dispose()
    return database_url


async def test_two_workers_share_the_port_and_one_runs_the_background_work(seeded, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    process = serve(seeded, port, 2, log_path)
    try:
        await wait_ready(base, process)
        for _ in range(100):  # both workers up
            if len(children(process.pid)) == 2 and log_path.read_text().count("serving on") >= 3:
                break
            await asyncio.sleep(0.1)
        assert len(children(process.pid)) == 2
        references = []
        async with aiohttp.ClientSession() as http:
            for i in range(40):  # new connections: the kernel spreads them over both workers
                async with http.post(f"{base}/api/v1/consultations/bws/responses", json={"text": f"Bysiau {i}"},
                                     headers={"Connection": "close"}) as r:
                    assert r.status == 201
                    references.append((await r.json())["reference"])
        # The one analysis worker analyses what either process stored.
        deadline = time.monotonic() + 60
        for _ in range(120):
            if (waiting := pending(seeded)) == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert waiting == 0
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    log = log_path.read_text()
    assert log.count("worker 0 (with the background work) serving on") == 1
    assert log.count("worker 1 (without the background work) serving on") == 1
    assert log.count("scheduler started") == 1 and log.count("outbox worker started") == 1
    assert "Traceback" not in log
    assert set(references) <= set(stored(seeded))


async def test_kill_9_of_one_worker_under_load_loses_nothing_acknowledged(seeded, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    process = serve(seeded, port, 2, log_path)
    acknowledged: dict[str, str] = {}
    outcomes: list[tuple[float, int]] = []
    try:
        await wait_ready(base, process)
        for _ in range(100):
            if len(children(process.pid)) == 2 and log_path.read_text().count("serving on") >= 3:
                break
            await asyncio.sleep(0.1)
        running = True

        async def client(c: int) -> None:
            i = 0
            # A new connection now and then, so both workers keep getting some.
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
                while running:
                    words = f"Ymateb {c}-{i}: bws i Fangor"
                    i += 1
                    try:
                        async with http.post(f"{base}/api/v1/consultations/bws/responses", json={"text": words}) as r:
                            outcomes.append((time.monotonic(), r.status))
                            if r.status == 201:
                                acknowledged[(await r.json())["reference"]] = words
                    except (TimeoutError, aiohttp.ClientError):
                        outcomes.append((time.monotonic(), 0))  # in flight on the worker that was killed

        load = [asyncio.create_task(client(c)) for c in range(12)]
        await asyncio.sleep(2.0)
        victim = children(process.pid)[-1]
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        await asyncio.sleep(4.0)
        running = False
        await asyncio.gather(*load)
        assert process.poll() is None
        assert victim not in children(process.pid) and len(children(process.pid)) == 2  # started again
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    statuses = {status for _, status in outcomes}
    assert statuses <= {201, 0}, statuses  # never a 5xx
    assert sum(1 for when, status in outcomes if when > killed + 1 and status == 201) > 20  # still serving
    kept = stored(seeded)
    lost = [ref for ref, words in acknowledged.items() if kept.get(ref) != words]
    assert not lost and len(acknowledged) > 50, f"{len(lost)} of {len(acknowledged)} acknowledged responses lost"
    log = log_path.read_text()
    assert f"(pid {victim}) exited with -9" in log


async def test_each_worker_sends_the_answers_to_the_commands_it_took_at_once(seeded, tmp_path):
    """The outbox runs in worker 0 only (here looking for new rows only when woken); the other worker
    runs the answers lane (tests/slack/test_answers_lane.py shows it alone sends), and every command,
    whichever worker took it, is answered."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    secret = "workers-signing-secret"
    async with FakeSlackAPI() as fake:
        process = serve(seeded, port, 2, log_path, SLACK_SIGNING_SECRET=secret, SLACK_BOT_TOKEN="xoxb-test",
                        SLACK_API_URL=fake.base_url, CYSWLLT_SCHEDULER="0", CYSWLLT_OUTBOX_POLL_SECONDS="3600")
        try:
            await wait_ready(base, process)
            for _ in range(300):
                if log_path.read_text().count("serving on") >= 3:
                    break
                await asyncio.sleep(0.1)
            verifier = SignatureVerifier(secret)
            async with aiohttp.ClientSession() as http:
                for i in range(16):  # each on a new connection: the kernel spreads them over both workers
                    body = (f"command=%2Flsb&text=help&user_id=U0W{i}&channel_id=D1&team_id=T0001"
                            f"&response_url={fake.response_url(f'w{i}')}&trigger_id={i}.{time.time_ns()}")
                    ts = str(int(time.time()))
                    async with http.post(f"{base}/slack/events", data=body.encode(), headers={
                            "Content-Type": "application/x-www-form-urlencoded", "Connection": "close",
                            "X-Slack-Request-Timestamp": ts,
                            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body)}) as r:
                        assert r.status == 200
            answers = await fake.wait_for("response_url", count=16, timeout=60)
            assert len(answers) == 16
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
    log = log_path.read_text()
    assert log.count("outbox worker started") == 1
    assert log.count("answers to commands sent from this process") == 1
    assert "Traceback" not in log
