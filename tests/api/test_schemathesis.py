"""The OpenAPI document against the service that publishes it: a bounded schemathesis run over every
operation in /api/v1/openapi.json, admin ones included (with the token), against ``cyswllt serve`` on
SQLite and on PostgreSQL. Every check runs — no server errors, responses as documented (status,
content type, headers, schema), schema-invalid requests refused, schema-valid ones accepted but for the
business rules listed in schemathesis.toml — and the server logs no traceback meanwhile."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from storage.db import Database
from storage.imports import import_actions
from storage.migrate import upgrade
from tests.engagement_api.conftest import seed_consultation
from tests.processes import free_port, wait_ready

HERE = Path(__file__).parent
TOKEN = "schemathesis-admin"
EXAMPLES = int(os.environ.get("CYSWLLT_SCHEMATHESIS_EXAMPLES", "30"))  # per operation; bounded for CI
SEED = os.environ.get("CYSWLLT_SCHEMATHESIS_SEED", "20261201")


def serve(url: str, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "CYSWLLT_DATABASE_URL": url, "CYSWLLT_PORT": str(port), "CYSWLLT_HOST": "127.0.0.1",
           "CYSWLLT_ADMIN_TOKEN": TOKEN, "CYSWLLT_SCHEDULER": "0", "CYSWLLT_OUTBOX": "0", "CYSWLLT_ANALYSIS": "0",
           # The limits are tested on their own; here they would only hide operations behind 429s.
           "CYSWLLT_RATE_LIMIT": "1000000/minute", "CYSWLLT_WITHDRAWAL_RATE_LIMIT": "1000000/minute"}
    with open(log_path, "w") as log:
        return subprocess.Popen([str(Path(sys.executable).with_name("cyswllt")), "serve"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)


def schemathesis(base: str, report: Path) -> subprocess.CompletedProcess:
    st = Path(sys.executable).with_name("schemathesis")
    return subprocess.run(
        [str(st), "--config-file", str(HERE / "schemathesis.toml"), "run", f"{base}/api/v1/openapi.json",
         "--checks", "all", "--max-examples", str(EXAMPLES), "--seed", SEED, "--workers", "2",
         "-H", f"Authorization: Bearer {TOKEN}", "--output-truncate", "true", "--no-color",
         "--report", "junit", "--report-junit-path", str(report)],
        capture_output=True, text=True, timeout=1200, cwd=report.parent)


async def seed(url: str, base: str) -> None:
    db = Database.from_url(url)
    try:
        await seed_consultation(db)
        async with db.session() as s:
            await import_actions(s, "Bwrdd Môn", "ref,priority,title,lead,owner_email,due,rag\n"
                                 "A-1,,Joint transport plan,Cyngor Sir Ynys Môn;NHS,,Spring 2027,amber\n")
            await s.commit()
    finally:
        await db.dispose()
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        async with http.post(f"{base}/api/v1/consultations/bws/responses",
                             json={"text": "More buses on Sundays", "answers": {"q1": "Yes"}}) as r:
            assert r.status == 201
        async with http.post(f"{base}/api/v1/admin/consultations/bws/digests", json={}) as r:
            assert r.status == 201, await r.text()


async def test_the_api_does_what_its_openapi_document_says(database_url, tmp_path):
    upgrade(database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    process = serve(database_url, port, log_path)
    try:
        await wait_ready(base, process)
        await seed(database_url, base)
        async with aiohttp.ClientSession() as http, http.get(f"{base}/api/v1/openapi.json") as r:
            document = await r.json()
        assert "$defs" not in json.dumps(document) or "#/$defs" not in json.dumps(document)
        done = await asyncio.to_thread(schemathesis, base, tmp_path / "junit.xml")
        assert process.poll() is None, "the service stopped during the run"
    finally:
        process.terminate()
        process.wait(timeout=30)
    summary = done.stdout[done.stdout.find("SUMMARY"):] if "SUMMARY" in done.stdout else done.stdout[-4000:]
    assert done.returncode == 0, done.stdout[-12000:] + done.stderr[-2000:]
    assert "Tested: " in summary and "generated" in summary, summary
    log = log_path.read_text()
    assert "Traceback" not in log and "unhandled error" not in log, log[-5000:]
