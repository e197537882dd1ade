"""Consultation submissions per second, p50 and p99, measured so that they cannot flatter: wrk (a C load
generator) posting a different response on every request, against a floor that is the least any server
could do and the service as it is deployed, alternating in one run, on SQLite and on PostgreSQL.

- **floor**: aiohttp and the raw driver, no framework: read the JSON body, one INSERT and COMMIT per
  request (aiosqlite: one connection, execute then commit; asyncpg: a pool, one INSERT in autocommit),
  answer 201 with a reference.
- **service**: ``cyswllt serve`` as an operator runs it — the analysis worker, the scheduler and the
  outbox on, the rate limit counting every request (set out of the load generator's reach: wrk is one
  client), the security headers, the metrics — and ``cyswllt serve --workers N``.

Each server runs on its own copy of the same seeded database, started before its round and stopped
after it, so nothing one leaves behind (an analysis backlog) runs during another's round; each gets
the same few seconds of load first (not counted), as a server that has been running would have had. At the end the
service's analysis backlog from its last round is reported, and how long it takes to drain. Each server's
row says how many of the machine's cores were busy during its rounds (wrk, the server, PostgreSQL and
anything else): a ratio between two servers that both kept every core busy is the machine's, not theirs.

    .venv/bin/python bench/submissions.py [--seconds 10] [--connections 50] [--rounds 2] [--workers 2]
        [--postgres auto|none] [--skip-sqlite] [--drain] [--smoke]

wrk comes from Debian (``apt-get install wrk``). ``--postgres auto`` starts a throwaway cluster (as the
tests do: fsync off, for the floor and the service alike).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from storage.db import Database  # noqa: E402
from storage.models import Consultation, Question, StakeholderGroup, utcnow  # noqa: E402
from tests.processes import free_port, wait_ready  # noqa: E402

SLUG = "bench-bws"
PATH = f"/api/v1/consultations/{SLUG}/responses"
FLOOR_TABLE = "bench_floor_response"

# Every request a different response: a counter and one of several texts, English and Welsh.
WRK_SCRIPT = r"""
local run = os.getenv("BENCH_RUN") or "run"
local texts = {
  "The new bus timetable is much better, thank you, but the evening buses are still too infrequent.",
  "Mae'r gwasanaeth bws yn wych ond mae angen mwy o fysiau gyda'r nos i Ŵyl y Gŵr.",
  "Buses are unreliable and always late; older people cannot get to the surgery on time.",
  "Da iawn. Rwy'n hapus gyda'r cynllun, yn enwedig y llwybrau newydd i'r ysgol.",
  "Please keep the library open on Saturdays; the youth club needs a safe place to meet.",
}
local n = 0
request = function()
  n = n + 1
  local body = '{"text":"' .. texts[(n % #texts) + 1] .. ' (' .. run .. ' ' .. n .. ')",' ..
               '"answers":{"q1":"Answer ' .. n .. ': more buses on Sundays, please."}}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""


# --- the floor (run in a child process) ---------------------------------------------------------------


def serve_floor(url: str, port: int) -> None:
    import json
    import secrets

    from aiohttp import web

    async def setup(app: web.Application):
        if url.startswith("sqlite"):
            import aiosqlite

            db = await aiosqlite.connect(url.removeprefix("sqlite:///"))
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
                await db.execute(f"PRAGMA {pragma}")

            async def insert(reference: str, body: str | None) -> None:
                await db.execute(f"INSERT INTO {FLOOR_TABLE} (reference, body) VALUES (?, ?)", (reference, body))
                await db.commit()
        else:
            import asyncpg

            db = await asyncpg.create_pool(url, min_size=10, max_size=10)

            async def insert(reference: str, body: str | None) -> None:
                await db.execute(f"INSERT INTO {FLOOR_TABLE} (reference, body) VALUES ($1, $2)", reference, body)

        app["insert"] = insert
        yield
        await db.close()

    async def submit(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        reference = secrets.token_hex(6)
        await request.app["insert"](reference, body.get("text"))
        return web.json_response({"reference": reference}, status=201)

    async def ready(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_post(PATH, submit)
    app.router.add_get("/healthz", ready)
    app.cleanup_ctx.append(setup)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- databases -------------------------------------------------------------------------------------------


async def seed(url: str) -> None:
    """Schema (as `cyswllt db upgrade` leaves it), one open consultation with a question and a group, and
    the floor's table."""
    from storage.migrate import upgrade

    await asyncio.to_thread(upgrade, url)
    db = Database.from_url(url)
    try:
        async with db.engine.begin() as conn:
            serial = "SERIAL" if db.is_postgres else "INTEGER"
            await conn.execute(text(f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (id {serial} PRIMARY KEY, "
                                    "reference VARCHAR(20) NOT NULL, body TEXT)"))
        async with db.session() as s:
            now = utcnow()
            c = Consultation(slug=SLUG, title_en="Local buses", title_cy="Bysiau lleol", summary_en="About buses",
                             summary_cy="Am fysiau", opens_at=now - timedelta(days=1),
                             closes_at=now + timedelta(weeks=12))
            s.add(c)
            s.add(StakeholderGroup(slug="bench-young", name_en="Young people", name_cy="Pobl ifanc"))
            await s.flush()
            s.add(Question(consultation_id=c.id, key="q1", text_en="What do you think?", text_cy="Beth yw eich barn?"))
            s.add(Question(consultation_id=c.id, key="welsh-language", position=1000, kind="welsh_language",
                           text_en="Effects on Welsh?", text_cy="Effaith ar y Gymraeg?"))
            await s.commit()
    finally:
        await db.dispose()


class Databases:
    """A fresh copy of the seeded database for each server's round."""

    def __init__(self, kind: str, workdir: Path, postgres=None) -> None:
        self.kind, self.workdir, self.postgres = kind, workdir, postgres
        self.count = 0

    @property
    def template(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.workdir / 'template.db'}"
        return self.postgres.url_for("bench_template")

    async def prepare(self) -> None:
        if self.kind == "postgresql":
            self.postgres.create_database("bench_template")
        await seed(self.template)

    def fresh(self) -> str:
        self.count += 1
        if self.kind == "sqlite":
            path = self.workdir / f"round-{self.count}.db"
            shutil.copy(self.workdir / "template.db", path)
            return f"sqlite:///{path}"
        import psycopg

        name = f"bench_{self.count}"
        with psycopg.connect(self.postgres.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE bench_template')
        return self.postgres.url_for(name)


async def rows(url: str) -> tuple[int, int, int]:
    """Responses stored by the service, rows stored by the floor, responses still waiting for analysis."""
    db = Database.from_url(url)
    try:
        async with db.engine.connect() as conn:
            stored, pending = (await conn.execute(text(
                "SELECT count(*), coalesce(sum(CASE WHEN analysis_state = 'pending' THEN 1 ELSE 0 END), 0) "
                "FROM response"))).one()
            floor = (await conn.execute(text(f"SELECT count(*) FROM {FLOOR_TABLE}"))).scalar_one()
        return stored, floor, pending
    finally:
        await db.dispose()


# --- servers and load --------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    kind: str  # floor | service
    workers: int = 1


@dataclass
class Run:
    rate: float
    p50: float  # ms
    p99: float  # ms
    requests: int
    errors: int
    stored: int
    pending: int
    cores: float  # how many of the machine's cores were busy during the round, on average (everything)


@dataclass
class Results:
    runs: dict[str, list[Run]] = field(default_factory=dict)


def start(server: Server, url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if server.kind == "floor":
        args = [sys.executable, __file__, "--serve-floor", "--database", url, "--port", str(port)]
    else:
        env.update({"CYSWLLT_DATABASE_URL": url, "CYSWLLT_PORT": str(port), "CYSWLLT_HOST": "127.0.0.1",
                    "CYSWLLT_RATE_LIMIT": "100000000/minute", "CYSWLLT_WORKING_HOURS": "always"})
        args = [str(Path(sys.executable).with_name("cyswllt")), "serve"]
        if server.workers > 1:
            args += ["--workers", str(server.workers)]
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(base: str, seconds: int, connections: int, script: Path, run: str) -> tuple[float, float, float, int, int]:
    done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
                           base + PATH], capture_output=True, text=True, env={**os.environ, "BENCH_RUN": run},
                          timeout=seconds + 60)
    out = done.stdout
    if done.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed: {done.stderr or out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\n\s+50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\n\s+99%\s+(\S+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in m.groups())
    return rate, p50, p99, requests, errors


async def one_round(server: Server, databases: Databases, seconds: int, connections: int, script: Path,
                    label: str, keep: bool = False, warm_up: int = 2):
    url = databases.fresh()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start(server, url, port)
    try:
        await wait_ready(base, process, seconds=60)
        if warm_up:
            await asyncio.sleep(1.0)  # let start-up work (the scheduler's first pass) settle
            # Warm-up, the same for every server: connections, pools, lazily loaded code. Not counted.
            await asyncio.to_thread(wrk, base, warm_up, connections, script, label + "-warm-up")
        before = await rows(url)
        busy = busy_cores()
        rate, p50, p99, requests, errors = await asyncio.to_thread(wrk, base, seconds, connections, script, label)
        cores = busy_cores(busy)
        after = await rows(url)
        stored, floor, pending = after[0] - before[0], after[1] - before[1], after[2]
        run = Run(rate, p50, p99, requests, errors, floor if server.kind == "floor" else stored, pending, cores)
    except BaseException:
        stop(process)
        raise
    if keep:
        return run, process, url
    stop(process)
    return run, None, url


def busy_cores(since: tuple[int, int] | None = None):
    """The machine's busy and total CPU time so far (/proc/stat, every core); given an earlier reading,
    how many cores were busy on average since (1.0: one core's worth, whoever used it)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle, waiting for I/O
    now = (sum(fields) - idle, sum(fields))
    if since is None:
        return now
    busy, total = now[0] - since[0], now[1] - since[1]
    return busy / total * (os.cpu_count() or 1) if total else 0.0


async def drain(process: subprocess.Popen, url: str, limit: float) -> tuple[int, float | None]:
    """Waiting analysis at the end of the round, and the seconds until none is left (None: still
    waiting after ``limit`` seconds)."""
    started = time.perf_counter()
    backlog = (await rows(url))[2]
    try:
        while time.perf_counter() - started < limit:
            if (await rows(url))[2] == 0:
                return backlog, time.perf_counter() - started
            await asyncio.sleep(0.5)
        return backlog, None
    finally:
        stop(process)


def summary(values: list[float]) -> str:
    return f"{min(values):.0f}–{max(values):.0f}" if len(values) > 1 else f"{values[0]:.0f}"


def summary_ms(values: list[float]) -> str:
    return f"{min(values):.1f}–{max(values):.1f}" if len(values) > 1 else f"{values[0]:.1f}"


async def bench(kind: str, label: str, options, postgres=None) -> None:
    servers = [Server("floor (aiohttp + raw driver)", "floor"), Server("cyswllt serve", "service")]
    if options.workers > 1:
        servers.append(Server(f"cyswllt serve --workers {options.workers}", "service", options.workers))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        script = workdir / "vary.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        databases = Databases(kind, workdir, postgres)
        await databases.prepare()
        runs: dict[str, list[Run]] = {s.name: [] for s in servers}
        last = None
        for r in range(options.rounds):
            for server in servers:
                final = r == options.rounds - 1 and server is servers[1] and options.drain
                run, process, url = await one_round(server, databases, options.seconds, options.connections,
                                                    script, f"{kind}-{r}-{server.kind}{server.workers}", keep=final,
                                                    warm_up=options.warm_up)
                runs[server.name].append(run)
                if final:
                    last = (process, url)
        print(f"\n{label}: wrk -t1 -c{options.connections} -d{options.seconds}s, a different response each "
              f"request, {options.rounds} alternating round(s) per server")
        print(f"  {'server':34s} {'req/s':>13s} {'p50 ms':>11s} {'p99 ms':>13s}  non-2xx  stored/acknowledged"
              f"  cores busy (of {os.cpu_count()})")
        for name, got in runs.items():
            acknowledged = sum(x.requests - x.errors for x in got)
            print(f"  {name:34s} {summary([x.rate for x in got]):>13s} {summary_ms([x.p50 for x in got]):>11s} "
                  f"{summary_ms([x.p99 for x in got]):>13s}  {sum(x.errors for x in got):7d}  "
                  f"{sum(x.stored for x in got)}/{acknowledged}  "
                  f"{'–'.join(f'{c:.2f}' for c in sorted({min(x.cores for x in got), max(x.cores for x in got)}))}")
        floor = runs[servers[0].name]
        one = runs[servers[1].name]
        rates = ", ".join(f"{s.rate / f.rate:.2f}" for f, s in zip(floor, one))
        p99s = ", ".join(f"{s.p99 / f.p99:.1f}" for f, s in zip(floor, one))
        print(f"  one process / floor: req/s {rates} (must be ≥ 0.5); p99 {p99s} (must be ≤ 5)")
        if options.workers > 1:
            many = runs[servers[2].name]
            print(f"  --workers {options.workers} / one process: req/s "
                  f"{', '.join(f'{m.rate / o.rate:.2f}' for o, m in zip(one, many))} (must be ≥ 1.3)")
        print(f"  analysis waiting at the end of each service round: "
              f"{', '.join(str(x.pending) for x in one)} (one process)"
              + (f", {', '.join(str(x.pending) for x in runs[servers[2].name])} (--workers {options.workers})"
                 if options.workers > 1 else ""))
        if last is not None:
            backlog, seconds = await drain(*last, limit=options.drain_limit)
            if seconds is None:
                print(f"  drain: {backlog} waiting after the last one-process round; not drained within "
                      f"{options.drain_limit:.0f} s")
            else:
                print(f"  drain: {backlog} waiting after the last one-process round, all analysed "
                      f"{seconds:.1f} s later ({backlog / max(seconds, 0.001):.0f}/s)")


def quiet_machine() -> str:
    load = os.getloadavg()[0]
    return f"load average {load:.2f}" + ("" if load < 1.5 else " (busy: figures are not comparable)")


async def main(options) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    print(f"CPUs: {os.cpu_count()}; {quiet_machine()}")
    if not options.skip_sqlite:
        await bench("sqlite", "SQLite (file, WAL)", options)
    if options.postgres == "auto":
        from tests.pgserver import PostgresServer

        server = PostgresServer().start()
        try:
            await bench("postgresql", "PostgreSQL (throwaway cluster, fsync off)", options, server)
        finally:
            server.stop()
    elif options.postgres not in (None, "none"):
        raise SystemExit("--postgres takes 'auto' or 'none' (the bench makes and drops its own databases)")
    print(f"\nat the end: {quiet_machine()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warm-up", type=int, default=3, help="seconds of load before each measured round")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", default="auto", help="auto (a throwaway cluster) or none")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--drain", action=argparse.BooleanOptionalAction, default=True,
                        help="time the analysis backlog draining after the last round")
    parser.add_argument("--drain-limit", type=float, default=600.0)
    parser.add_argument("--smoke", action="store_true", help="a short run that only checks the script still works")
    parser.add_argument("--serve-floor", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.smoke:
        # One short round of each server on each database (CI runs it once): it checks that the script,
        # wrk, the floor and the service still work together, not how fast they are.
        options.seconds, options.rounds, options.connections, options.drain_limit, options.warm_up = 1, 1, 10, 3.0, 0
    if options.serve_floor:
        serve_floor(options.database, options.port)
    else:
        asyncio.run(main(options))
