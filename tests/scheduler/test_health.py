"""What /metrics and /healthz tell an operator about delivery and the schedule: the oldest message
waiting and for which platform, channels held by a rate limit or failures, send failures and 429s
by platform, when each job last ran to the end (on any replica), and the analysis backlog."""

import asyncio
from datetime import timedelta

import aiohttp
from aiohttp.test_utils import TestServer

from cyswllt.app import create_app
from cyswllt.appkeys import SETTINGS
from cyswllt.settings import Settings
from scheduler.jobs import run_job
from scheduler.outbox import RetryAfter, enqueue
from scheduler.service import WORKER
from storage.models import Board, Consultation, Response, utcnow


async def get(url: str):
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            body = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, body


class Limited:
    """A platform that answers every send with a 429."""

    async def send(self, message):
        raise RetryAfter(30, "HTTP 429")

    async def find_sent(self, message):
        return None


async def test_metrics_and_health_say_what_waits_what_failed_and_when_jobs_ran(db, database_url):
    app = create_app(Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=True,
                              outbox_poll_seconds=0.05, analysis_enabled=False, CYSWLLT_WORKING_HOURS="always"), db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    try:
        status, health = await get(f"{base}/healthz")
        assert status == 200 and health["outbox"]["running"] is True and health["outbox"]["due"] == 0
        assert health["scheduler"]["running"] is False  # not in this process
        assert health["scheduler"]["jobs"]["action-reminders"] == {"last_success": None, "late": True}

        worker = app[WORKER]
        worker.senders["teams"] = Limited()  # a platform that is rate limited
        async with db.session() as s:
            await enqueue(s, key="waiting", platform="teams", channel="a:1", payload={},
                          not_before=utcnow() - timedelta(minutes=5))
            board = Board(name="Metrics")
            s.add(board)
            await s.flush()
            consultation = Consultation(slug="m", board_id=board.id, title_en="M", title_cy="M", summary_en="S",
                                        summary_cy="S", opens_at=utcnow(), closes_at=utcnow())
            s.add(consultation)
            await s.flush()
            s.add(Response(consultation_id=consultation.id, reference="R1", withdrawal_token_hash="x", text="Da",
                           analysis_state="pending", received_at=utcnow() - timedelta(minutes=3)))
            await s.commit()
        worker.wake.set()
        for _ in range(100):
            status, text = await get(f"{base}/metrics")
            if "cyswllt_outbox_rate_limited_total" in text:
                break
            await asyncio.sleep(0.05)
        assert await run_job("escalations", db, app[SETTINGS]) == 0

        status, text = await get(f"{base}/metrics")
        assert status == 200
        assert 'cyswllt_outbox_rate_limited_total{platform="teams"} 1.0' in text
        oldest = next(line for line in text.splitlines() if line.startswith('cyswllt_outbox_oldest_pending_seconds{platform="teams"}'))
        assert 290 <= float(oldest.split()[-1]) < 400  # due five minutes ago
        assert 'cyswllt_outbox_held_channels{platform="teams",reason="rate_limited"} 1.0' in text
        assert "cyswllt_analysis_backlog 1.0" in text
        backlog_age = next(line for line in text.splitlines() if line.startswith("cyswllt_analysis_oldest_pending_seconds"))
        assert 170 <= float(backlog_age.split()[-1]) < 300
        ran = next(line for line in text.splitlines()
                   if line.startswith('cyswllt_job_last_success_timestamp_seconds{job="escalations"}'))
        assert abs(float(ran.split()[-1]) - utcnow().timestamp()) < 60
        assert 'cyswllt_job_last_queued{job="escalations"} 0.0' in text

        status, health = await get(f"{base}/healthz")
        assert health["outbox"]["due"] == 1 and health["outbox"]["held_channels"] == 1
        assert health["outbox"]["oldest_due_seconds"] >= 290
        escalations = health["scheduler"]["jobs"]["escalations"]
        assert escalations["late"] is False and escalations["last_success"].startswith(str(utcnow().year))
    finally:
        await server.close()
