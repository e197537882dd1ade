"""How quickly a chat command is answered: the time from a signed Slack slash command's POST to its answer
reaching the (fake) Slack API through the command's response_url, one command at a time.

The service runs as deployed (``cyswllt serve``: scheduler, outbox and analysis on) on SQLite with the demo
board, its Slack Web API pointed at a fake Slack API in this process. Commands alternate between
``/lsb actions`` and ``/lsb update A-n green|amber NOTE`` (a member's own open actions, a different note
each time), each sent only once the last was answered. Prints p50, p95, p99 and max per command, and the
time to the ack beside it. Target: p95 under 150 ms for both, on a quiet machine.

    .venv/bin/python bench/chat.py [--commands 200] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
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
from sqlalchemy import text  # noqa: E402

from tests.fakes.slack_api import FakeSlackAPI  # noqa: E402
from tests.processes import free_port, wait_ready  # noqa: E402

SECRET = "bench-signing-secret"


class TimedSlackAPI(FakeSlackAPI):
    """The fake Slack API, noting when each response_url first receives an answer."""

    def __init__(self) -> None:
        super().__init__()
        self.first_answer: dict[str, float] = {}
        self.texts: dict[str, str] = {}
        self.answered = asyncio.Condition()

    async def _response_url(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        arrived = time.perf_counter()
        answer = await super()._response_url(request)
        async with self.answered:
            if name not in self.first_answer:
                self.first_answer[name] = arrived
                self.texts[name] = str(self.calls[-1].args.get("text", ""))
            self.answered.notify_all()
        return answer

    async def wait_answer(self, name: str, timeout: float) -> float:
        async with self.answered:
            await asyncio.wait_for(self.answered.wait_for(lambda: name in self.first_answer), timeout)
        return self.first_answer[name]


async def prepare(url: str) -> tuple[str, list[str]]:
    """The demo board; a member with a Slack id and the open actions they own."""
    from storage.db import Database
    from storage.demo import load
    from storage.migrate import upgrade

    await asyncio.to_thread(upgrade, url)
    db = Database.from_url(url)
    try:
        async with db.session() as s:
            await load(s)
            await s.commit()
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT s.address, a.ref FROM action AS a JOIN address AS s ON s.person_id = a.owner_id "
                "AND s.platform = 'slack' WHERE coalesce(a.rag, '') <> 'complete' ORDER BY s.person_id, a.id"))).all()
    finally:
        await db.dispose()
    if not rows:
        raise SystemExit("the demo board has no open action owned by a member with a Slack id")
    user = rows[0][0]
    return user, [ref for who, ref in rows if who == user]


def start(url: str, port: int, api: FakeSlackAPI, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CYSWLLT_DATABASE_URL": url, "CYSWLLT_PORT": str(port),
           "CYSWLLT_HOST": "127.0.0.1", "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": "xoxb-bench",
           "SLACK_API_URL": api.base_url, "CYSWLLT_WORKING_HOURS": "always"}
    with open(log, "w") as out:
        return subprocess.Popen([str(Path(sys.executable).with_name("cyswllt")), "serve"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def main(commands: int, warm_up: int) -> None:
    load = os.getloadavg()[0]
    print(f"CPUs: {os.cpu_count()}; load average {load:.2f}" + ("" if load < 1.5 else " (busy: not comparable)"))
    verifier = SignatureVerifier(SECRET)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/chat.db"
        user, refs = await prepare(url)
        async with TimedSlackAPI() as api:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            process = start(url, port, api, Path(tmp) / "serve.log")
            answered: dict[str, list[float]] = {"actions": [], "update": []}
            acked: dict[str, list[float]] = {"actions": [], "update": []}
            try:
                await wait_ready(base, process, seconds=60)
                await asyncio.sleep(1.0)  # the scheduler's start-up pass
                async with aiohttp.ClientSession() as http:
                    for n in range(warm_up + commands):
                        kind = "actions" if n % 2 == 0 else "update"
                        if kind == "actions":
                            words = "actions"
                        else:
                            ref = refs[(n // 2) % len(refs)]
                            words = f"update {ref} {'green' if (n // 2) % 2 else 'amber'} Progress note {n}"
                        name = f"c{n}"
                        body = urlencode({"command": "/lsb", "text": words, "user_id": user, "channel_id": "D1",
                                          "team_id": "T0001", "response_url": api.response_url(name),
                                          "trigger_id": f"{n}.{time.time_ns()}"})
                        ts = str(int(time.time()))
                        headers = {"Content-Type": "application/x-www-form-urlencoded",
                                   "X-Slack-Request-Timestamp": ts,
                                   "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body)}
                        started = time.perf_counter()
                        async with http.post(f"{base}/slack/events", data=body.encode(), headers=headers) as r:
                            await r.read()
                            if r.status != 200:
                                raise SystemExit(f"{words!r} answered {r.status}")
                        ack = time.perf_counter()
                        arrived = await api.wait_answer(name, timeout=30)
                        if n >= warm_up:
                            answered[kind].append((arrived - started) * 1000)
                            acked[kind].append((ack - started) * 1000)
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    print(f"{commands} signed slash commands, one at a time, `actions` and `update` alternating "
          f"(after {warm_up} not counted); cyswllt serve on SQLite, demo board; time from the POST to the "
          "answer reaching response_url:")
    for kind in ("actions", "update"):
        got = answered[kind]
        print(f"  {kind:8s} answer p50 {pct(got, 50):6.1f}  p95 {pct(got, 95):6.1f}  p99 {pct(got, 99):6.1f}  "
              f"max {max(got):6.1f} ms   (ack p50 {pct(acked[kind], 50):5.1f}, p95 {pct(acked[kind], 95):5.1f} ms;"
              f" n={len(got)})")
        sample = next(api.texts[f"c{n}"] for n in range(warm_up, warm_up + commands)
                      if (n % 2 == 0) == (kind == "actions"))
        print(f"           e.g. {' '.join(sample.split())[:110]!r}")
    ratio = pct(answered["update"], 95) / pct(answered["actions"], 95)
    worst = max(pct(answered[k], 95) for k in answered)
    print(f"  update / actions p95: {ratio:.2f}; target p95 < 150 ms for both: "
          f"{'met' if worst < 150 else 'NOT met'} ({worst:.1f} ms)")
    load = os.getloadavg()[0]
    print(f"at the end: load average {load:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="a short run that only checks the script still works")
    options = parser.parse_args()
    if options.smoke:
        options.commands, options.warm_up = 10, 2
    asyncio.run(main(options.commands, options.warm_up))
