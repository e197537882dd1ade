"""Consultation response submissions per second and p99 latency: the full service against a bare
aiohttp handler that does one INSERT into the same kind of database, in the same run.

Each server runs in its own process on 127.0.0.1 (as `cyswllt serve` would); this process is the
load generator: 50 concurrent clients on keep-alive connections, each posting responses one after
another. Both servers use the same engine set-up (storage.db.make_engine: aiosqlite with WAL, or
asyncpg with the same pool). The service runs its real request path — JSON parsing, the rate
limiter, the shared validation, the duplicate check, the response and its answers committed before
the 201 — with the analysis worker off by default (it runs after the reply; `--with-analysis`
runs it in the same process too, competing for the CPU).

    .venv/bin/python bench/submissions.py [--requests 4000] [--concurrency 50] [--rounds 4]
        [--postgres URL | --postgres auto] [--with-analysis]

`--postgres auto` starts a throwaway PostgreSQL cluster (as the tests do); a URL uses that database
(tables are created in it if missing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy import text  # noqa: E402

from storage.db import Database, make_engine  # noqa: E402
from storage.models import Consultation, Question, utcnow  # noqa: E402
from tests.processes import free_port, wait_ready  # noqa: E402

SLUG = "bench-bws"
BARE_TABLE = "bench_bare_response"


# --- the two servers (each started in a child process) -----------------------------------------


def serve_bare(url: str, port: int) -> None:
    """One route: read the JSON body, INSERT one row, answer 201 with a reference."""
    import secrets

    engine = make_engine(url)
    insert = text(f"INSERT INTO {BARE_TABLE} (reference, body) VALUES (:reference, :body)")

    async def submit(request: web.Request) -> web.Response:
        body = await request.json()
        reference = secrets.token_hex(6)
        async with engine.begin() as conn:
            await conn.execute(insert, {"reference": reference, "body": body.get("text")})
        return web.json_response({"reference": reference}, status=201)

    async def ready(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def dispose(app: web.Application):
        yield
        await engine.dispose()

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_post(f"/api/v1/consultations/{SLUG}/responses", submit)
    app.router.add_get("/healthz", ready)
    app.cleanup_ctx.append(dispose)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def serve_service(url: str, port: int, with_analysis: bool) -> None:
    from cyswllt.app import create_app
    from cyswllt.settings import Settings

    settings = Settings(database_url=url, host="127.0.0.1", port=port, scheduler_enabled=False,
                        outbox_enabled=False, analysis_enabled=with_analysis,
                        # The limiter still runs on every request; the limit is just out of reach.
                        CYSWLLT_RATE_LIMIT="100000000/second", secret_key="bench")
    web.run_app(create_app(settings), host="127.0.0.1", port=port, print=None, access_log=None)


# --- set-up ------------------------------------------------------------------------------------


async def prepare(url: str) -> None:
    """Tables, one open consultation with a question, and the bare handler's table."""
    db = Database.from_url(url)
    try:
        await db.create_all()
        async with db.engine.begin() as conn:
            await conn.execute(text(f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id "
                                    + ("SERIAL" if db.is_postgres else "INTEGER")
                                    + " PRIMARY KEY, reference VARCHAR(20) NOT NULL, body TEXT)"))
        async with db.session() as s:
            from sqlmodel import select

            if (await s.exec(select(Consultation).where(Consultation.slug == SLUG))).first() is None:
                now = utcnow()
                c = Consultation(slug=SLUG, title_en="Local buses", title_cy="Bysiau lleol",
                                 summary_en="About buses", summary_cy="Am fysiau",
                                 opens_at=now - timedelta(days=1), closes_at=now + timedelta(weeks=12))
                s.add(c)
                await s.flush()
                s.add(Question(consultation_id=c.id, key="q1", text_en="What do you think?",
                               text_cy="Beth yw eich barn?"))
                s.add(Question(consultation_id=c.id, key="welsh-language", position=1000, kind="welsh_language",
                               text_en="Effects on Welsh?", text_cy="Effaith ar y Gymraeg?"))
                await s.commit()
    finally:
        await db.dispose()


async def count_rows(url: str) -> tuple[int, int, int]:
    """Responses stored by the service, rows stored by the bare handler, responses analysed."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            responses, analysed = (await conn.execute(text(
                "SELECT count(*), sum(CASE WHEN analysis_state = 'done' THEN 1 ELSE 0 END) FROM response "
                "JOIN consultation ON consultation.id = response.consultation_id "
                "WHERE consultation.slug = :slug"), {"slug": SLUG})).one()
            bare = (await conn.execute(text(f"SELECT count(*) FROM {BARE_TABLE}"))).scalar_one()
        return responses, bare, analysed or 0
    finally:
        await engine.dispose()


def start(kind: str, url: str, with_analysis: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    args = [sys.executable, __file__, "--serve", kind, "--database", url, "--port", str(port)]
    if with_analysis:
        args.append("--with-analysis")
    process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return process, f"http://127.0.0.1:{port}"


# --- load ----------------------------------------------------------------------------------------


TEXTS = [
    "The new bus timetable is much better, thank you, but the evening buses are still too infrequent.",
    "Mae'r gwasanaeth bws yn wych ond mae angen mwy o fysiau gyda'r nos i Ŵyl y Gŵr.",
    "Buses are unreliable and always late; older people cannot get to the surgery on time.",
    "Da iawn. Rwy'n hapus gyda'r cynllun, yn enwedig y llwybrau newydd i'r ysgol.",
]


async def load(base: str, requests: int, concurrency: int, run: str) -> tuple[list[float], float, dict[int, int]]:
    url = f"{base}/api/v1/consultations/{SLUG}/responses"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)

    async with aiohttp.ClientSession(connector=connector) as http:
        async def client(c: int) -> None:
            for i in counter:
                body = {"text": f"{TEXTS[i % len(TEXTS)]} ({run} {i})",
                        "answers": {"q1": f"Answer {i}: more buses on Sundays, please."}}
                started = time.perf_counter()
                async with http.post(url, data=json.dumps(body), headers={"Content-Type": "application/json"}) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                latencies.append(time.perf_counter() - started)

        # Warm-up: open the connections and the servers' pools.
        warm = iter(range(concurrency))
        async def warm_one(c: int) -> None:
            for i in warm:
                async with http.post(url, json={"text": f"warm-up {run} {i}"}) as r:
                    await r.read()

        await asyncio.gather(*(warm_one(c) for c in range(concurrency)))
        started = time.perf_counter()
        await asyncio.gather(*(client(c) for c in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed, statuses


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


async def bench_backend(label: str, url: str, requests: int, concurrency: int, rounds: int,
                        with_analysis: bool) -> float:
    await prepare(url)
    before = await count_rows(url)
    servers = {kind: start(kind, url, with_analysis) for kind in ("bare", "service")}
    results: dict[str, list[tuple[list[float], float, dict[int, int]]]] = {"bare": [], "service": []}
    try:
        for process, base in servers.values():
            await wait_ready(base, process)
        # Alternate short rounds so that a change in the machine's load falls on both alike.
        for r in range(rounds):
            for kind, (_, base) in servers.items():
                results[kind].append(await load(base, requests // rounds, concurrency, f"{label}-{kind}-{r}"))
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
    after = await count_rows(url)
    total = requests // rounds * rounds
    print(f"{label}: {total} submissions by {concurrency} concurrent keep-alive clients, in {rounds} alternating "
          f"rounds (+{concurrency} warm-up a round)")
    rates = {}
    for kind, runs in results.items():
        name = "bare aiohttp + 1 INSERT" if kind == "bare" else "Cyswllt POST …/responses"
        latencies = [x for run in runs for x in run[0]]
        statuses: dict[int, int] = {}
        for run in runs:
            for status, n in run[2].items():
                statuses[status] = statuses.get(status, 0) + n
        rates[kind] = len(latencies) / sum(run[1] for run in runs)
        print(f"  {name:26s} {rates[kind]:8.0f} submissions/s   p50 {pct(latencies, 50):7.1f} ms   "
              f"p99 {pct(latencies, 99):7.1f} ms   mean {statistics.mean(latencies) * 1000:6.1f} ms   "
              f"statuses {dict(sorted(statuses.items()))}")
    per_round = [len(s[0]) / s[1] / (len(b[0]) / b[1]) for b, s in zip(results["bare"], results["service"])]
    stored = (after[0] - before[0], after[1] - before[1])
    print(f"  rows stored: service {stored[0]}, bare {stored[1]} (each should be {total + rounds * concurrency})"
          + (f"; analysed by the worker meanwhile: {after[2] - before[2]}" if with_analysis else ""))
    ratio = rates["service"] / rates["bare"]
    print(f"  ratio submissions/s (Cyswllt / bare): {ratio:.2f}   (rounds: "
          f"{', '.join(f'{x:.2f}' for x in per_round)}; target ≥ 0.6)")
    return ratio


async def main(options: argparse.Namespace) -> None:
    print(f"analysis worker in the service process: {'on' if options.with_analysis else 'off'}; "
          f"CPUs: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        await bench_backend("SQLite (file, WAL)", f"sqlite:///{tmp}/bench.db", options.requests,
                            options.concurrency, options.rounds, options.with_analysis)
    if options.postgres == "auto":
        from tests.pgserver import PostgresServer

        server = PostgresServer().start()
        try:
            url = server.create_database("bench")
            await bench_backend("PostgreSQL (throwaway cluster, fsync off)", url, options.requests,
                                options.concurrency, options.rounds, options.with_analysis)
        finally:
            server.stop()
    elif options.postgres:
        await bench_backend("PostgreSQL", options.postgres, options.requests, options.concurrency,
                            options.rounds, options.with_analysis)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--postgres", help="a PostgreSQL URL, or 'auto' for a throwaway cluster")
    parser.add_argument("--with-analysis", action="store_true")
    parser.add_argument("--serve", choices=["bare", "service"], help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="a short run that only checks the script still works")
    options = parser.parse_args()
    if options.smoke:
        options.requests, options.rounds = 300, 1
    if options.serve == "bare":
        serve_bare(options.database, options.port)
    elif options.serve == "service":
        serve_service(options.database, options.port, options.with_analysis)
    else:
        asyncio.run(main(options))
