"""The digest page, chart and CSV behind the admin token or a signed link; the admin API to build a
digest now and to record a "you said, we did", which reaches the public page, the next digest and,
by mail through a local SMTP server, the respondents who asked to hear."""

import asyncio
import email
import socket
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
from sqlalchemy import select

from cyswllt.app import create_app
from cyswllt.appkeys import SENDERS, SETTINGS
from cyswllt.settings import Settings
from engagement.digest import links
from engagement.worker import AnalysisWorker
from scheduler.worker import OutboxWorker
from storage.models import Digest, OutboxMessage, Response, utcnow

from .conftest import ADMIN, MENTIONS, PERSONAL, SECRET, seed

AUTH = {"Authorization": f"Bearer {ADMIN}"}
ENTRY = {"theme": "library", "you_said_en": "Keep the library open", "you_said_cy": "Cadwch y llyfrgell ar agor",
         "we_did_en": "The library stays open on Saturdays", "we_did_cy": "Mae'r llyfrgell yn aros ar agor ar ddydd Sadwrn"}


class Client:
    def __init__(self, base: str, app) -> None:
        self.base, self.app = base, app

    async def get(self, path: str, headers=None):
        async with aiohttp.ClientSession() as http:
            async with http.get(self.base + path, headers=headers) as r:
                return r.status, await r.read(), r.headers

    async def post(self, path: str, body=None, headers=None, data=None):
        async with aiohttp.ClientSession() as http:
            async with http.post(self.base + path, json=body, data=data, headers=headers) as r:
                try:
                    return r.status, await r.json(content_type=None)
                except ValueError:
                    return r.status, await r.text()


async def start(db, database_url, **extra):
    settings = Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                        analysis_enabled=False, admin_token=ADMIN, secret_key=SECRET, **extra)
    app = create_app(settings, db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, Client(str(server.make_url("")).rstrip("/"), app)


@pytest.fixture
async def site(db, database_url):
    seeded = await seed(db, utcnow())
    server, client = await start(db, database_url)
    try:
        yield seeded, client
    finally:
        await server.close()


def local(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


async def test_admin_builds_a_digest_and_the_page_needs_a_token_or_a_valid_signature(db, site):
    seeded, client = site
    status, _ = await client.post(f"/api/v1/admin/consultations/{seeded.slug}/digests", {"group": "pobl-ifanc"})
    assert status == 401
    status, body = await client.post(f"/api/v1/admin/consultations/{seeded.slug}/digests", {"group": "pobl-ifanc"},
                                     headers=AUTH)
    assert status == 201 and body["data"]["counts"]["total"] == 4 and "link_key" not in body["data"]
    page = f"/digests/{body['id']}"
    assert (await client.get(page))[0] == 403
    assert (await client.get(page + "?exp=99999999999&sig=abc"))[0] == 403
    assert (await client.get(page + "?exp=1&sig=abc"))[0] == 403
    assert (await client.get("/digests/999999"))[0] == 403  # unknown, to a stranger: no different
    assert (await client.get("/digests/999999", headers=AUTH))[0] == 404
    status, html, headers = await client.get(local(body["url"]))
    assert status == 200 and headers["Referrer-Policy"] == "no-referrer" and "no-store" in headers["Cache-Control"]
    text = html.decode()
    # The Welsh group's digest opens in Welsh, with the chart and its alt text.
    assert '<html lang="cy">' in text and "Crynodeb ymgynghoriad" in text and "Siart o deimlad" in text
    assert "Barn negyddol" in text and "gwasanaeth bws" in text
    status, html, _ = await client.get(page + "?lang=en", headers=AUTH)
    assert status == 200 and "Consultation digest" in html.decode()
    status, css, _ = await client.get("/digests/digest.css")
    assert status == 200 and b".digest-chart" in css
    async with db.session() as s:
        digest = await s.get(Digest, body["id"])
    expired = links.signed(client.app[SETTINGS], digest,
                           now=datetime.now(UTC) - timedelta(days=40))
    assert (await client.get(local(expired)))[0] == 403
    status, png, _ = await client.get(local(body["chart_url"]))
    assert status == 200 and png.startswith(b"\x89PNG")
    status, csv_body, headers = await client.get(local(body["csv_url"]))
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    lines = csv_body.decode().splitlines()
    assert lines[0] == "section,name,period,total,positive,neutral,negative"
    assert "theme,Buses,3,3,2,0,1" in lines


async def test_the_page_escapes_citizen_text_and_shows_no_personal_data(db, site):
    seeded, client = site
    async with db.session() as s:
        s.add(Response(consultation_id=seeded.consultation_id, reference="REF-X", withdrawal_token_hash="x",
                       text="<script>alert(1)</script> the library is a wonderful place <b>for</b> everyone",
                       group_id=seeded.groups["hyn"], received_at=utcnow() - timedelta(hours=1)))
        await s.commit()
    worker = AnalysisWorker(db)
    while await worker.analyse_pending():
        pass
    status, body = await client.post(f"/api/v1/admin/consultations/{seeded.slug}/digests", {"group": "pobl-hyn"},
                                     headers=AUTH)
    assert status == 201
    status, html, _ = await client.get(local(body["url"]) + "&lang=en")
    text = html.decode()
    # Counted, but text full of markup is never chosen as a quote, escaped or not.
    assert status == 200 and "alert(1)" not in text and "<script>" not in text and "<b>for</b>" not in text
    assert "The library is ok I suppose, it could be better." in text
    for value in PERSONAL + MENTIONS + ["HIDDEN-TEXT", "Siân"]:
        assert value.lower() not in text.lower(), value
        assert value.replace("<", "&lt;").lower() not in text.lower(), value


async def test_you_said_we_did_without_smtp_sends_no_mail(db, site):
    seeded, client = site
    status, body = await client.post(f"/api/v1/admin/consultations/{seeded.slug}/you-said-we-did", ENTRY,
                                     headers=AUTH)
    assert status == 201 and body["mails_queued"] == 0
    async with db.session() as s:
        assert (await s.exec(select(OutboxMessage).where(OutboxMessage.platform == "email"))).scalars().all() == []
    assert "email" not in client.app[SENDERS]
    status, html, _ = await client.get(f"/consultations/{seeded.slug}?lang=cy")
    assert status == 200 and "Mae&#39;r llyfrgell yn aros ar agor ar ddydd Sadwrn" in html.decode()
    status, html, _ = await client.get(f"/consultations/{seeded.slug}?lang=en")
    assert "The library stays open on Saturdays" in html.decode()
    # ... and in the next digest, marked new.
    status, digest = await client.post(f"/api/v1/admin/consultations/{seeded.slug}/digests", {}, headers=AUTH)
    assert [(i["theme"], i["new"]) for i in digest["data"]["you_said_we_did"]] == [("library", True)]
    status, html, _ = await client.get(local(digest["url"]))
    assert "The library stays open on Saturdays" in html.decode()


@pytest.mark.parametrize("body", [{}, {**ENTRY, "theme": ""}, {**ENTRY, "we_did_cy": 5}, {**ENTRY, "theme": "x" * 201}])
async def test_you_said_we_did_refuses_incomplete_entries(site, body):
    seeded, client = site
    status, answer = await client.post(f"/api/v1/admin/consultations/{seeded.slug}/you-said-we-did", body,
                                       headers=AUTH)
    assert status == 400 and answer["fields"]


async def test_admin_endpoints_refuse_bad_input_with_4xx(site):
    seeded, client = site
    path = f"/api/v1/admin/consultations/{seeded.slug}"
    assert (await client.post(path + "/digests", data=b"{nope", headers={**AUTH, "Content-Type": "application/json"}))[0] == 400
    assert (await client.post(path + "/digests", [1, 2], headers=AUTH))[0] == 400
    assert (await client.post(path + "/digests", {"group": "nobody"}, headers=AUTH))[0] == 400
    assert (await client.post("/api/v1/admin/consultations/nowhere/digests", {}, headers=AUTH))[0] == 404
    assert (await client.post("/api/v1/admin/consultations/nowhere/you-said-we-did", ENTRY, headers=AUTH))[0] == 404
    assert (await client.post(path + "/you-said-we-did", ENTRY))[0] == 401
    status, spec, _ = await client.get("/api/v1/openapi.json")
    import json

    paths = json.loads(spec)["paths"]
    assert "post" in paths["/api/v1/admin/consultations/{slug}/digests"]
    assert "post" in paths["/api/v1/admin/consultations/{slug}/you-said-we-did"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


async def test_consenting_respondents_are_told_by_mail_in_their_language(db, database_url):
    seeded = await seed(db, utcnow())
    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    await asyncio.to_thread(smtp.start)
    server, client = await start(db, database_url, CYSWLLT_SMTP_URL=f"smtp://127.0.0.1:{port}")
    try:
        status, body = await client.post(f"/api/v1/admin/consultations/{seeded.slug}/you-said-we-did", ENTRY,
                                         headers=AUTH)
        # r4 (English) and r6 (Welsh) consented; r12 left an address without consent.
        assert status == 201 and body["mails_queued"] == 2
        app = client.app
        worker = OutboxWorker(db, {"email": app[SENDERS]["email"]}, app[SETTINGS])
        while await worker.deliver_due():
            pass
        assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == ["jo@example.com", "sian@example.org"]
        mails = {rcpt[0]: message for rcpt, message in inbox.messages}
        welsh = mails["sian@example.org"]
        assert welsh["Subject"] == "Dywedoch chi, gwnaethom ni: Bysiau a llyfrgelloedd"
        assert "Mae'r llyfrgell yn aros ar agor ar ddydd Sadwrn" in welsh.get_content()
        english = mails["jo@example.com"]
        assert english["Subject"] == "You said, we did: Buses and libraries"
        assert "The library stays open on Saturdays" in english.get_content()
        async with db.session() as s:
            sent = (await s.exec(select(OutboxMessage).where(OutboxMessage.platform == "email"))).scalars().all()
        assert {m.state for m in sent} == {"sent"}
        # Recording it again is a new entry; the same entry is never mailed twice.
        while await worker.deliver_due():
            pass
        assert len(inbox.messages) == 2
    finally:
        await server.close()
        await asyncio.to_thread(smtp.stop)
