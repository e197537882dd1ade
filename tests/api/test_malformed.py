"""Malformed input gets a clear 4xx, never a 5xx: every JSON body endpoint in the OpenAPI document is
sent bodies that are JSON but not objects, and bodies that are not JSON at all; ids that overflow any
integer column; NUL characters in addresses. On SQLite and on PostgreSQL."""

import json

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from cyswllt.app import create_app
from cyswllt.settings import Settings
from storage.imports import import_actions
from tests.engagement_api.conftest import seed_consultation

TOKEN = "tok"
BODIES = [b"[]", b'"x"', b"1", b"null", b"true", b"{", b'{"text": ', b"\xff\xfe", b"[" * 100_000,
          b'{"text": "\\ud800"}', b'{"text": "a\\u0000b"}', b"", b'{"answers": []}', b'{"answers": {"q1": 5}}']


@pytest.fixture
async def base(db, database_url):
    await seed_consultation(db)
    async with db.session() as s:
        await import_actions(s, "Bwrdd Môn", "ref,priority,title,lead,owner_email,due,rag\nA-1,,Plan,WAG,,2027,\n")
        await s.commit()
    app = create_app(Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                              analysis_enabled=False, admin_token=TOKEN, CYSWLLT_RATE_LIMIT="100000/minute",
                              CYSWLLT_WITHDRAWAL_RATE_LIMIT="100000/minute"), db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def concrete(path: str) -> str:
    return (path.replace("{slug}", "bws").replace("{reference}", "CY-AAAA-BBBB").replace("{action}", "hide")
            .replace("{board_id}", "1").replace("{id}", "1"))


async def test_every_json_body_endpoint_refuses_what_is_not_an_object_with_a_4xx(base):
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        async with http.get(f"{base}/api/v1/openapi.json") as r:
            document = await r.json()
        endpoints = [(method, path) for path, operations in document["paths"].items()
                     for method, operation in operations.items()
                     if "application/json" in operation.get("requestBody", {}).get("content", {})]
        assert len(endpoints) >= 9
        for method, path in endpoints:
            for body in BODIES:
                async with http.request(method.upper(), base + concrete(path), data=body,
                                        headers={"Content-Type": "application/json"}) as r:
                    text = await r.text()
                    assert r.status < 500, (method, path, body[:20], r.status, text[:200])
                    if path.startswith("/api/v1/") and r.status >= 400:
                        assert "error" in json.loads(text), (method, path, body[:20], text[:200])


@pytest.mark.parametrize("path, status", [
    ("/api/v1/boards/-9999999999999999999/actions", 404), ("/api/v1/boards/99999999999999999999/actions", 404),
    ("/api/v1/boards/-1/actions", 404), ("/api/v1/boards/0/actions", 404), ("/api/v1/boards/1e3/actions", 404),
    ("/api/v1/admin/consultations/bws/responses?offset=-99999999999999999999&limit=99999999999999999999", 200),
    ("/api/v1/admin/consultations/bws/responses?offset=1e400", 400),
    ("/api/v1/admin/consultations/bws/responses?language=%00", 400),
    ("/api/v1/consultations/b%00ws", 400), ("/consultations/b%00ws", 400),
    ("/digests/-99999999999999999999", 404), ("/digests/0.5.csv", 404), ("/digests/99999999999999999999/chart.png", 404),
    ("/api/v1/no/such/thing", 404),
])
async def test_ids_and_numbers_out_of_range_are_4xx(base, path, status):
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        async with http.get(base + path) as r:
            text = await r.text()
            assert r.status == status, (path, r.status, text[:300])
            if path.startswith("/api/"):
                assert "error" in json.loads(text) if r.status >= 400 else True
