"""What every response carries, who may read /metrics, and who a request comes from behind the reverse
proxies the operator trusts (CYSWLLT_METRICS_TOKEN, CYSWLLT_TRUSTED_PROXIES), over real HTTP."""

import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from cyswllt.app import create_app
from cyswllt.appkeys import SECRET
from cyswllt.settings import Settings
from engagement.service import client_hash
from storage.models import Response
from tests.engagement_api.conftest import seed_consultation

HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


@pytest.fixture
async def serve(db, database_url):
    servers = []

    async def start(**settings):
        app = create_app(Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                                  analysis_enabled=False, **settings), db=db)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/"), app

    yield start
    for server in servers:
        await server.close()


async def call(method, url, **kwargs):
    async with aiohttp.ClientSession() as http:
        async with http.request(method, url, **kwargs) as r:
            return r.status, r.headers, await r.read()


async def test_every_response_carries_the_security_headers(serve, db):
    await seed_consultation(db)
    base, _ = await serve(admin_token="tok")
    for method, path, status in [
        ("GET", "/api/v1/consultations", 200), ("GET", "/api/v1/openapi.json", 200),
        ("GET", "/static/cyswllt.css", 200), ("GET", "/no/such/page", 404), ("GET", "/static/nothing.css", 404),
        ("GET", "/healthz", 200), ("GET", "/metrics", 200), ("GET", "/consultations", 200),
        ("PUT", "/api/v1/consultations", 405), ("GET", "/api/v1/boards", 401),
        ("POST", "/api/v1/consultations/bws/responses", 400), ("HEAD", "/healthz", 200),
    ]:
        got, headers, _ = await call(method, base + path, data=b"[" if method == "POST" else None)
        assert got == status, (method, path, got)
        for name, value in HEADERS.items():
            assert headers.get(name) == value, (path, name, headers.get(name))
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
    # Pages keep their own, fuller policy.
    _, headers, _ = await call("GET", base + "/consultations")
    assert "script-src 'self'" in headers["Content-Security-Policy"]


async def test_metrics_are_for_this_host_unless_a_token_is_set(serve):
    base, _ = await serve()
    assert (await call("GET", base + "/metrics"))[0] == 200
    # Through a proxy on this host (that the operator has not declared), the world is asking: refused.
    status, _, body = await call("GET", base + "/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert status == 403 and b"CYSWLLT_METRICS_TOKEN" in body
    base, _ = await serve(trusted_proxies="127.0.0.1")
    assert (await call("GET", base + "/metrics", headers={"X-Forwarded-For": "203.0.113.7"}))[0] == 403
    assert (await call("GET", base + "/metrics", headers={"X-Forwarded-For": "127.0.0.1"}))[0] == 200
    base, _ = await serve(metrics_token="scrape-me")
    status, headers, _ = await call("GET", base + "/metrics")
    assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
    assert (await call("GET", base + "/metrics", headers={"Authorization": "Bearer wrong"}))[0] == 401
    status, _, body = await call("GET", base + "/metrics", headers={"Authorization": "Bearer scrape-me",
                                                                     "X-Forwarded-For": "203.0.113.7"})
    assert status == 200 and b"cyswllt_http_requests" in body


async def submit(base, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    status, _, _ = await call("POST", base + "/api/v1/consultations/bws/responses",
                              json={"text": "More buses"}, headers=headers)
    return status


async def test_behind_trusted_proxies_each_citizen_has_their_own_limit(serve, db):
    await seed_consultation(db)
    base, app = await serve(CYSWLLT_RATE_LIMIT="1/minute", trusted_proxies="127.0.0.1, 10.0.0.0/8")
    assert await submit(base, "203.0.113.7") == 201
    assert await submit(base, "203.0.113.7") == 429
    assert await submit(base, "198.51.100.2") == 201  # another citizen behind the same proxy
    # Hops to the left of the right-most untrusted one were written by the client: forging them changes nothing.
    assert await submit(base, "192.0.2.99, 203.0.113.7") == 429
    # Through a second, trusted proxy (10.0.0.2), the client is still the right-most untrusted hop.
    assert await submit(base, "203.0.113.7, 10.0.0.2") == 429
    assert await submit(base, "192.0.2.50, 10.0.0.2") == 201
    secret = await app[SECRET].get()
    async with db.session() as s:
        hashes = [r.client_hash for r in (await s.exec(select(Response).order_by(Response.id))).all()]
    assert hashes == [client_hash(secret, ip) for ip in ("203.0.113.7", "198.51.100.2", "192.0.2.50")]


async def test_without_trusted_proxies_forwarded_addresses_are_ignored(serve, db):
    await seed_consultation(db)
    base, _ = await serve(CYSWLLT_RATE_LIMIT="1/minute")
    assert await submit(base, "203.0.113.7") == 201
    assert await submit(base, "198.51.100.2") == 429  # the header is anyone's to write: the peer is the client


def test_a_bad_proxy_list_is_a_plain_error_at_start():
    cyswllt = str(Path(sys.executable).with_name("cyswllt"))
    done = subprocess.run([cyswllt, "serve"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "CYSWLLT_TRUSTED_PROXIES": "10.0.0.1, proxy.example"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "CYSWLLT_TRUSTED_PROXIES: 'proxy.example' is not an IP address or CIDR range" in done.stderr
