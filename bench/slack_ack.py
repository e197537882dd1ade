"""Slash-command acknowledgement latency: the full service against a bare Bolt app that only acks.

Both are served by aiohttp on 127.0.0.1 in this process, with the same signing and mounting;
50 concurrent signed `/lsb actions` commands per round. Prints p50/p99 and the ratio.

    .venv/bin/python bench/slack_ack.py [--rounds 10] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request  # noqa: E402
from slack_bolt.async_app import AsyncApp  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from cyswllt.app import create_app  # noqa: E402
from cyswllt.settings import Settings  # noqa: E402
from storage.demo import load  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.fakes.slack_api import FakeSlackAPI  # noqa: E402

SECRET = "bench-signing-secret"


def bare_app(fake: FakeSlackAPI) -> web.Application:
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=fake.base_url), signing_secret=SECRET)

    @bolt.command("/lsb")
    async def only_ack(ack):
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


async def measure(base: str, fake: FakeSlackAPI, rounds: int, concurrency: int) -> list[float]:
    verifier = SignatureVerifier(SECRET)
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def one(i: int) -> None:
            body = urlencode({"command": "/lsb", "text": "actions", "user_id": "U0DEMOWAG", "channel_id": "D1",
                              "team_id": "T0001", "response_url": fake.response_url(f"r{i}"), "trigger_id": "1.2"})
            ts = str(int(time.time()))
            headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                       "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body)}
            started = time.perf_counter()
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(one(i) for i in range(concurrency)))  # warm-up
        latencies.clear()
        for r in range(rounds):
            await asyncio.gather(*(one(r * concurrency + i) for i in range(concurrency)))
    return latencies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


async def main(rounds: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database.from_url(url)
        async with db.session() as s:
            await load(s)
            await s.commit()
        async with FakeSlackAPI() as fake:
            settings = Settings(database_url=url, slack_signing_secret=SECRET, slack_bot_token="xoxb-bench",
                                slack_api_url=fake.base_url, scheduler_enabled=False, outbox_enabled=False,
                                analysis_enabled=False)
            servers = {"bare Bolt (ack only)": TestServer(bare_app(fake), host="127.0.0.1"),
                       "Cyswllt /lsb actions": TestServer(create_app(settings, db=db), host="127.0.0.1")}
            results = {}
            for name, server in servers.items():
                await server.start_server()
                results[name] = await measure(str(server.make_url("")).rstrip("/"), fake, rounds, concurrency)
            # Let the lazy listeners finish their replies before shutting down.
            await fake.wait_for("response_url", count=(rounds + 1) * concurrency, timeout=120)
            for server in servers.values():
                await server.close()
        await db.dispose()
    print(f"{rounds} rounds of {concurrency} concurrent signed slash commands")
    for name, values in results.items():
        print(f"  {name:24s} p50 {pct(values, 50):7.1f} ms   p99 {pct(values, 99):7.1f} ms   "
              f"mean {statistics.mean(values) * 1000:7.1f} ms")
    bare, ours = results.values()
    print(f"  ratio p99 (Cyswllt / bare): {pct(ours, 99) / pct(bare, 99):.2f}   (target ≤ 1.2; Slack allows 3000 ms)")
    print(f"  all {fake.calls_to('response_url').__len__()} commands were answered through response_url")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    options = parser.parse_args()
    asyncio.run(main(options.rounds, options.concurrency))
