"""The admin reads, health and metrics, over real HTTP on 127.0.0.1."""

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from cyswllt.app import create_app
from cyswllt.settings import Settings
from scheduler.outbox import enqueue
from storage import tallies
from storage.imports import import_actions
from storage.models import Board, Consultation, Response, utcnow

ACTIONS = """ref,priority,title,lead,owner_email,due,rag
A-2,,Second,WAG;NHS,owner@x.cymru,Spring 2008,green
A-10,,Tenth,WAG,,Ongoing,
"""


@pytest.fixture
async def serve(db, database_url):
    servers = []

    async def start(**settings):
        app = create_app(Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                                  analysis_enabled=False, **settings), db=db)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


async def get(url, **headers):
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers=headers) as response:
            body = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, body


async def test_admin_api_refuses_without_configured_token(serve):
    base = await serve()
    status, body = await get(f"{base}/api/v1/boards", Authorization="Bearer anything")
    assert status == 403 and "CYSWLLT_ADMIN_TOKEN" in body["error"]


async def test_admin_api_lists_boards_and_actions(serve, db):
    async with db.session() as s:
        await import_actions(s, "Bwrdd Môn", ACTIONS)
        await s.commit()
    base = await serve(admin_token="s3cret")
    assert (await get(f"{base}/api/v1/boards"))[0] == 401
    assert (await get(f"{base}/api/v1/boards", Authorization="Bearer wrong"))[0] == 401
    assert (await get(f"{base}/api/v1/boards", Authorization="Basic s3cret"))[0] == 401
    assert (await get(f"{base}/api/v1/boards", Authorization="Bearer s3cret-and-more"))[0] == 401
    status, body = await get(f"{base}/api/v1/boards", Authorization="Bearer s3cret")
    assert status == 200 and body["items"][0]["name"] == "Bwrdd Môn"
    assert body["items"][0]["slug"] == "bwrdd-mon" and body["items"][0]["published"] is False
    board_id = body["items"][0]["id"]
    status, body = await get(f"{base}/api/v1/boards/{board_id}/actions", Authorization="Bearer s3cret")
    assert status == 200
    first, second = body["items"]
    assert [first["ref"], second["ref"]] == ["A-2", "A-10"]
    assert first["lead"] == ["WAG", "NHS"] and first["due"] == "2008-05-31" and first["due_text"] == "Spring 2008"
    assert first["rag"] == "green" and first["owner_email"] == "owner@x.cymru" and first["updated_at"]
    assert second["due"] is None and second["rag"] is None
    assert (await get(f"{base}/api/v1/boards/999/actions", Authorization="Bearer s3cret"))[0] == 404
    assert (await get(f"{base}/api/v1/boards/nope/actions", Authorization="Bearer s3cret"))[0] == 404


async def test_openapi_describes_admin_endpoints(serve):
    base = await serve()
    status, spec = await get(f"{base}/api/v1/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    assert {"/api/v1/boards", "/api/v1/boards/{board_id}/actions"} <= set(spec["paths"])


async def test_health_and_metrics(serve, db):
    base = await serve()
    status, health = await get(f"{base}/healthz")
    assert status == 200 and (health["status"], health["database"]) == ("ok", "ok")
    assert {"outbox", "scheduler"} <= set(health)
    async with db.session() as s:
        await enqueue(s, key="k1", platform="console", channel="c", payload={})
        await s.commit()
        board = Board(name="Metrics")
        s.add(board)
        await s.flush()
        consultation = Consultation(slug="m", board_id=board.id, title_en="M", title_cy="M", summary_en="S",
                                    summary_cy="S", opens_at=utcnow(), closes_at=utcnow())
        s.add(consultation)
        await s.flush()
        for ref, state in (("R1", "pending"), ("R2", "done"), ("R3", "done")):
            s.add(Response(consultation_id=consultation.id, reference=ref, withdrawal_token_hash="x",
                           text="Da iawn", analysis_state=state))
        await s.flush()
        # Written straight to the table as analysis would leave them: the digest totals are counted from them.
        await tallies.recount(s, consultation.id)
        await s.commit()
    await get(f"{base}/nowhere")
    for _ in range(2):
        await get(f"{base}/api/v1/boards/{board.id}/actions")
    status, text = await get(f"{base}/metrics")
    assert status == 200
    assert 'cyswllt_outbox_messages{state="pending"} 1.0' in text
    assert 'cyswllt_responses_stored{analysis_state="pending"} 1.0' in text
    assert 'cyswllt_responses_stored{analysis_state="done"} 2.0' in text
    # Requests are counted by route pattern, not by path, so the series stay few.
    assert 'route="/api/v1/boards/{board_id}/actions",status="403"} 2.0' in text
    assert 'cyswllt_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="unmatched",status="404"' in text


async def test_health_reports_an_unreachable_database(tmp_path):
    from storage.db import Database

    broken = Database.from_url("postgresql://nobody@127.0.0.1:1/none")
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none", scheduler_enabled=False,
                              outbox_enabled=False, analysis_enabled=False), db=broken)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        status, body = await get(str(server.make_url("/healthz")))
        assert status == 503 and body["database"] == "unreachable"
    finally:
        await server.close()
