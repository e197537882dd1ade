"""A citizen's words are never lost: a form served before a restart, or by another replica, is accepted
(the secret is kept in the database when CYSWLLT_SECRET_KEY is unset), and every refusal of the form
shows it again with what they wrote, ready to send."""

import asyncio
import html as markup
import re
import time
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select
from yarl import URL

from cyswllt.app import create_app
from cyswllt.appkeys import SECRET, SETTINGS
from cyswllt.settings import Settings
from engagement import forms
from engagement.ratelimit import LIMITER
from storage.models import Response, ServiceSecret, utcnow
from tests.engagement_api.conftest import seed_consultation

WORDS = "Mae angen bws hwyr i Lanfair — and a later one on Sundays, please"


def settings_for(url: str, **extra) -> Settings:
    return Settings(database_url=url, scheduler_enabled=False, outbox_enabled=False, analysis_enabled=False,
                    CYSWLLT_FORM_MIN_SECONDS=0, **extra)


class Site:
    def __init__(self, app) -> None:
        self.app = app
        self.server = TestServer(app, host="127.0.0.1")

    async def __aenter__(self):
        await self.server.start_server()
        self.base = str(self.server.make_url("")).rstrip("/")
        return self

    async def __aexit__(self, *exc):
        await self.server.close()


def jar() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(csrf|started)" value="([^"]+)"', html))


def textarea(html: str, name: str = "answer-q1") -> str:
    found = re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', html)
    return markup.unescape(found.group(1)) if found else ""


async def open_form(http, base: str, lang: str = "en") -> dict[str, str]:
    async with http.get(f"{base}/consultations/bws/respond?lang={lang}") as r:
        assert r.status == 200
        return hidden(await r.text())


async def send(http, base: str, data: dict, lang: str = "en") -> tuple[int, str, aiohttp.ClientResponse]:
    async with http.post(f"{base}/consultations/bws/respond?lang={lang}", data=data) as r:
        return r.status, markup.unescape(await r.text()), r


async def stored(db) -> list[str]:
    from storage.models import Answer

    async with db.session() as s:
        return [a.text for a in (await s.exec(select(Answer).join(Response).order_by(Answer.id))).all()]


async def test_a_form_loaded_before_a_restart_is_accepted_after_it(db, database_url):
    await seed_consultation(db)
    async with jar() as http:
        async with Site(create_app(settings_for(database_url), db=db)) as first:
            fields = await open_form(http, first.base)
        # The service restarts (a new process would read the same database): no CYSWLLT_SECRET_KEY.
        async with Site(create_app(settings_for(database_url), db=db)) as second:
            status, body, _ = await send(http, second.base, {**fields, "answer-q1": WORDS})
            assert status == 200 and "Response received" in body
    assert await stored(db) == [WORDS]
    async with db.session() as s:
        assert len((await s.exec(select(ServiceSecret))).all()) == 1


async def test_replicas_starting_together_share_one_secret(db, database_url):
    await seed_consultation(db)
    apps = [create_app(settings_for(database_url), db=db) for _ in range(3)]
    sites = [Site(app) for app in apps]
    await asyncio.gather(*(site.__aenter__() for site in sites))
    try:
        assert len({app[SECRET].value for app in apps}) == 1
        async with jar() as http:
            fields = await open_form(http, sites[0].base)
            status, body, _ = await send(http, sites[2].base, {**fields, "answer-q1": WORDS})
            assert status == 200 and "Response received" in body
    finally:
        await asyncio.gather(*(site.__aexit__(None, None, None) for site in sites))


async def test_a_configured_secret_is_used_and_nothing_is_stored(db, database_url):
    await seed_consultation(db)
    async with Site(create_app(settings_for(database_url, secret_key="configured"), db=db)) as site, jar() as http:
        assert await site.app[SECRET].get() == "configured"
        fields = await open_form(http, site.base)
        assert fields["csrf"] == forms.csrf_token("configured", http.cookie_jar.filter_cookies(
            URL(site.base))[forms.CSRF_COOKIE].value)
    async with db.session() as s:
        assert (await s.exec(select(ServiceSecret))).all() == []


async def two_days_old(app) -> str:
    return forms.started_stamp(await app[SECRET].get(), time.time() - 2 * 86400)


@pytest.mark.parametrize("refusal", ["forged token", "no cookie", "a new secret", "expired form", "too fast",
                                     "honeypot", "invalid email"])
async def test_every_refusal_shows_the_form_again_with_the_words_and_it_can_be_sent(sqlite_url, refusal):
    from storage.db import Database

    db = Database.from_url(sqlite_url)
    await db.create_all()
    await seed_consultation(db)
    app = create_app(settings_for(sqlite_url), db=db)
    async with Site(app) as site, jar() as http:
        fields = await open_form(http, site.base, "cy")
        data = {**fields, "answer-q1": WORDS, "name": "Siân", "language": "cy"}
        expected = {
            "forged token": "Ni chafodd eich ymateb ei anfon oherwydd bod y ffurflen wedi dod i ben",
            "no cookie": "Ni chafodd eich ymateb ei anfon oherwydd bod y ffurflen wedi dod i ben",
            "a new secret": "Ni chafodd eich ymateb ei anfon oherwydd bod y ffurflen wedi dod i ben",
            "expired form": "Ni chafodd eich ymateb ei anfon oherwydd bod y ffurflen wedi dod i ben",
            "too fast": "yn fuan iawn ar ôl iddi agor",
            "honeypot": "Ni chafodd eich ymateb ei anfon. Mae'r hyn a ysgrifennoch yn dal isod",
            "invalid email": "Rhowch gyfeiriad e-bost",
        }[refusal]
        if refusal == "forged token":
            data["csrf"] = "forged"
        elif refusal == "no cookie":
            http.cookie_jar.clear()
        elif refusal == "a new secret":  # e.g. CYSWLLT_SECRET_KEY set or changed between load and send
            app[SECRET].value = "a different secret"
        elif refusal == "expired form":
            data["started"] = await two_days_old(app)
        elif refusal == "too fast":
            app[SETTINGS].form_min_seconds = 0.5
        elif refusal == "honeypot":
            data[forms.HONEYPOT] = "http://spam.example"
        elif refusal == "invalid email":
            data["email"] = "not an address"
        status, body, response = await send(http, site.base, data, "cy")
        assert status == 400, body
        assert expected in body, body
        assert textarea(body) == WORDS and 'value="Siân"' in body and "http://spam.example" not in body
        assert '<html lang="cy">' in body and response.headers["Cache-Control"] == "no-store"
        assert await stored(db) == []
        # Send it again as shown (once a person has read the message), with its fields corrected.
        again = {**hidden(body), "answer-q1": textarea(body), "name": "Siân", "language": "cy"}
        if refusal == "too fast":
            await asyncio.sleep(0.6)
        status, body, _ = await send(http, site.base, again, "cy")
        assert status == 200 and "Ymateb wedi dod i law" in body
    assert await stored(db) == [WORDS]
    await db.dispose()


async def test_the_rate_limit_keeps_the_words(db, database_url):
    await seed_consultation(db)
    app = create_app(settings_for(database_url, CYSWLLT_RATE_LIMIT="1/minute"), db=db)
    async with Site(app) as site, jar() as http:
        fields = await open_form(http, site.base)
        assert (await send(http, site.base, {**fields, "answer-q1": "First"}))[0] == 200
        fields = await open_form(http, site.base)
        status, body, response = await send(http, site.base, {**fields, "answer-q1": WORDS})
        assert status == 429 and 0 < int(response.headers["Retry-After"]) <= 60
        assert "You have sent a lot of responses in a short time" in body and textarea(body) == WORDS
        await app[LIMITER].reset()  # a minute later
        status, body, _ = await send(http, site.base, {**hidden(body), "answer-q1": textarea(body)})
        assert status == 200
    assert await stored(db) == ["First", WORDS]


async def test_a_consultation_that_closed_while_they_wrote_gives_the_words_back(db, database_url):
    await seed_consultation(db)
    async with Site(create_app(settings_for(database_url), db=db)) as site, jar() as http:
        fields = await open_form(http, site.base)
        from storage.models import Consultation

        async with db.session() as s:
            (c,) = (await s.exec(select(Consultation))).all()
            c.closes_at = utcnow() - timedelta(minutes=1)
            s.add(c)
            await s.commit()
        from engagement import service

        service._views.clear()  # as after the five seconds consultations are remembered
        status, body, _ = await send(http, site.base, {**fields, "answer-q1": WORDS})
        assert status == 409 and "This consultation closed on" in body
        assert WORDS in body and "readonly" in body and "What you wrote" in body
