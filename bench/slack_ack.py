"""Slash-command acknowledgement latency: the full service against a bare Bolt app that only acks.

Each app runs in its own process, served by aiohttp on 127.0.0.1 with the same signing and the same
mounting (``to_bolt_request``/``to_aiohttp_response``); the full service on SQLite with the demo
board, its Web API pointed at a fake Slack API in this process. This process sends bursts of 50
concurrent signed ``/lsb actions`` commands, alternating between the two apps so both meet the same
load on the machine, and prints p50/p99 of the time to the ack and the ratio. The service's answers
(through response_url) are counted too: every command must be answered.

    .venv/bin/python bench/slack_ack.py [--rounds 20] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402

SECRET = "bench-signing-secret"


# --- the two servers (run in child processes) -----------------------------------------------------

def bare_app(api_url: str) -> web.Application:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api_url), signing_secret=SECRET)

    @bolt.command("/lsb")
    async def only_ack(ack):
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


def service_app(api_url: str, database_url: str) -> web.Application:
    from cyswllt.app import create_app
    from cyswllt.settings import Settings

    # The outbox runs: answers after the ack go through it (decision 0017), as in the service.
    return create_app(Settings(database_url=database_url, slack_signing_secret=SECRET, slack_bot_token="xoxb-bench",
                               slack_api_url=api_url, scheduler_enabled=False, outbox_enabled=True,
                               outbox_poll_seconds=0.2, CYSWLLT_WORKING_HOURS="always", analysis_enabled=False))


async def serve(which: str, api_url: str, database_url: str) -> None:
    app = bare_app(api_url) if which == "bare" else service_app(api_url, database_url)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    try:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    finally:
        await runner.cleanup()


def start(which: str, api_url: str, database_url: str) -> tuple[subprocess.Popen, str]:
    child = subprocess.Popen([sys.executable, __file__, "--serve", which, "--api-url", api_url,
                              "--database-url", database_url],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    port = child.stdout.readline().strip()  # type: ignore[union-attr]
    if not port.isdigit():
        child.kill()
        raise SystemExit(f"the {which} server did not start")
    return child, f"http://127.0.0.1:{port}"


# --- the load -------------------------------------------------------------------------------------

class Burst:
    """Sends bursts of signed `/lsb actions` commands to one server and keeps the ack latencies."""

    def __init__(self, base: str, fake, http: aiohttp.ClientSession, answers: bool) -> None:
        self.base, self.fake, self.http, self.answers = base, fake, http, answers
        self.verifier = SignatureVerifier(SECRET)
        self.latencies: list[float] = []
        self.bursts: list[list[float]] = []
        self.sent = 0

    def request(self) -> tuple[bytes, dict[str, str]]:
        self.sent += 1
        body = urlencode({"command": "/lsb", "text": "actions", "user_id": "U0DEMOWAG", "channel_id": "D1",
                          "team_id": "T0001", "response_url": self.fake.response_url(f"r{self.sent}"),
                          "trigger_id": f"{next(TRIGGERS)}.2"})  # Slack's are unique (a repeat is a retry)
        ts = str(int(time.time()))
        return body.encode(), {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                               "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body)}

    async def one(self, body: bytes, headers: dict[str, str]) -> None:
        started = time.perf_counter()
        async with self.http.post(f"{self.base}/slack/events", data=body, headers=headers) as response:
            await response.read()
            assert response.status == 200, response.status
        self.latencies.append(time.perf_counter() - started)

    async def burst(self, concurrency: int, settle: bool) -> None:
        before = len(self.fake.calls_to("response_url"))
        signed = [self.request() for _ in range(concurrency)]  # signed before the clock starts
        first = len(self.latencies)
        await asyncio.gather(*(self.one(body, headers) for body, headers in signed))
        self.bursts.append(self.latencies[first:])
        if settle and self.answers:
            # The next burst meets a service that has answered this one.
            await self.fake.wait_for("response_url", count=before + concurrency, timeout=120)


TRIGGERS = itertools.count(1)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def typical_burst_p99(burst: Burst) -> float:
    """The median over bursts of each burst's p99: one stall on a busy machine moves all 50 samples
    of a burst together, so the overall p99 is that of the single worst burst."""
    ordered = sorted(pct(b, 99) for b in burst.bursts)
    return ordered[len(ordered) // 2]


def report(title: str, results: dict[str, Burst]) -> None:
    print(title)
    for name, burst in results.items():
        values = burst.latencies
        print(f"  {name:24s} p50 {pct(values, 50):7.1f} ms   p99 {pct(values, 99):7.1f} ms   "
              f"max {max(values) * 1000:7.1f} ms   median burst p99 {typical_burst_p99(burst):7.1f} ms   "
              f"(n={len(values)})")
    bare, ours = results.values()
    print(f"  ratio Cyswllt / bare: p50 {pct(ours.latencies, 50) / pct(bare.latencies, 50):.2f}   "
          f"p99 {pct(ours.latencies, 99) / pct(bare.latencies, 99):.2f}   "
          f"median burst p99 {typical_burst_p99(ours) / typical_burst_p99(bare):.2f}"
          "   (target p99 ≤ 1.2; Slack allows 3000 ms)")


async def main(rounds: int, concurrency: int) -> None:
    from storage.db import Database
    from storage.demo import load
    from storage.migrate import upgrade
    from tests.fakes.slack_api import FakeSlackAPI

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database.from_url(url)
        async with db.session() as s:
            await load(s)
            await s.commit()
        await db.dispose()
        async with FakeSlackAPI() as fake:
            children = {"bare Bolt (ack only)": start("bare", fake.base_url, url),
                        "Cyswllt /lsb actions": start("service", fake.base_url, url)}
            try:
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2 * concurrency)) as http:
                    def senders() -> dict[str, Burst]:
                        return {name: Burst(base, fake, http, not name.startswith("bare"))
                                for name, (_, base) in children.items()}

                    for burst in senders().values():  # warm-up, not counted
                        await burst.burst(concurrency, settle=True)
                    # Rounds alternate between the apps, so both meet the same load on the machine.
                    settled = senders()
                    for r in range(rounds):
                        order = list(settled.values()) if r % 2 == 0 else list(settled.values())[::-1]
                        for burst in order:
                            await burst.burst(concurrency, settle=True)
                    # Back to back: each burst starts once the last was acknowledged, while the work of
                    # earlier commands still runs (the service saturated on purpose).
                    saturated = senders()
                    for _ in range(rounds):
                        for burst in saturated.values():
                            await burst.burst(concurrency, settle=False)
                    answered = sum(b.sent for b in [*settled.values(), *saturated.values()] if b.answers)
                    await fake.wait_for("response_url", count=answered + concurrency, timeout=300)
            finally:
                for child, _ in children.values():
                    child.stdin.close()  # type: ignore[union-attr]
                    child.wait(timeout=30)
    print(f"{rounds} bursts of {concurrency} concurrent signed slash commands per app, each app in its own "
          "process (SQLite, demo board)")
    report("bursts, each after the service answered the last:", settled)
    report("bursts back to back, earlier work still running (informational):", saturated)
    print(f"  all {len(fake.calls_to('response_url'))} Cyswllt commands were answered through response_url")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--serve", choices=["bare", "service"], help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="a short run that only checks the script still works")
    options = parser.parse_args()
    if options.smoke:
        options.rounds, options.concurrency = 2, 10
    if options.serve:
        asyncio.run(serve(options.serve, options.api_url, options.database_url))
    else:
        asyncio.run(main(options.rounds, options.concurrency))
