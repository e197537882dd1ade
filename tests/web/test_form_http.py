"""The form's defences over plain HTTP: CSRF, honeypot, minimum fill time, escaping, 404 and 409."""

import re
from datetime import timedelta

import aiohttp
from sqlmodel import select

from storage.models import Response, utcnow
from tests.engagement_api.conftest import seed_consultation


async def form_fields(http, base, slug="bws"):
    async with http.get(f"{base}/consultations/{slug}/respond?lang=en") as r:
        html = await r.text()
    return {name: value for name, value in re.findall(r'name="(csrf|started)" value="([^"]+)"', html)}


async def post(http, base, data, slug="bws"):
    async with http.post(f"{base}/consultations/{slug}/respond?lang=en", data=data) as r:
        return r.status, await r.text()


async def test_defences(site):
    base, db, app = site
    # The jar must keep cookies for 127.0.0.1, as a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        fields = await form_fields(http, base)
        status, body = await post(http, base, {**fields, "csrf": "forged", "answer-q1": "x"})
        assert status == 400 and "Your response was not sent because the form had expired" in body
        status, body = await post(http, base, {**fields, "website": "http://spam", "answer-q1": "x"})
        assert status == 400 and "Your response was not sent." in body and "http://spam" not in body
        app_settings = app[__import__("cyswllt.appkeys", fromlist=["SETTINGS"]).SETTINGS]
        app_settings.form_min_seconds = 60
        status, body = await post(http, base, {**fields, "answer-q1": "too fast"})
        assert status == 400 and "very soon after it opened" in body and ">too fast</textarea>" in body
        app_settings.form_min_seconds = 0
        status, body = await post(http, base, {**fields, "answer-q1": "<script>alert(1)</script>" + "x" * 5000})
        assert status == 400 and "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
        assert "(it is 5,025 — 25 too many)" in body and 'href="#answer-q1"' in body
        status, body = await post(http, base, {**fields, "answer-q1": "Fine"})
        assert status == 200 and "Response received" in body
    async with db.session() as s:
        assert [r.text for r in (await s.exec(select(Response))).all()] == [None]  # answers only, no general text


async def test_unknown_and_closed(site):
    base, db, _ = site
    await seed_consultation(db, "old", opens=utcnow() - timedelta(weeks=20), closes=utcnow() - timedelta(weeks=1))
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/consultations/nope") as r:
            assert r.status == 404 and "Page not found" in await r.text()
        async with http.get(f"{base}/consultations/old/respond") as r:
            assert r.status == 409 and "This consultation has closed" in await r.text()
        async with http.post(f"{base}/consultations/bws/respond", data=b"x" * 70_000,
                             headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
            assert r.status == 413


async def test_unreadable_form_body_is_a_400(site):
    base, db, _ = site
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/consultations/bws/respond", data=b"not gzip at all",
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "Content-Encoding": "gzip"}) as r:
            assert r.status == 400
    async with db.session() as s:
        assert (await s.exec(select(Response))).all() == []


async def test_the_same_form_sent_twice_is_stored_once(site):
    """A refreshed thank-you page posts the form again; a double click posts it twice at once."""
    base, db, _ = site
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        fields = await form_fields(http, base)
        body = {**fields, "answer-q1": "The school bus is late every morning"}
        status, first = await post(http, base, body)
        assert status == 200 and 'class="code"' in first
        reference = re.search(r'class="reference">([^<]+)<', first).group(1)
        status, again = await post(http, base, body)  # the refresh
        assert status == 200 and reference in again and "You sent this response already" in again
        assert 'class="code"' not in again  # the code is shown once only
        fields = await form_fields(http, base)  # a new form, clicked twice
        body = {**fields, "answer-q1": "Please reopen the youth club"}
        import asyncio

        (s1, one), (s2, two) = await asyncio.gather(post(http, base, body), post(http, base, body))
        assert s1 == s2 == 200
        assert re.search(r'class="reference">([^<]+)<', one).group(1) == re.search(
            r'class="reference">([^<]+)<', two).group(1)
        fields = await form_fields(http, base)  # the same words from a new form are a new response
        status, third = await post(http, base, {**fields, "answer-q1": "The school bus is late every morning"})
        assert status == 200 and 'class="code"' in third
    async with db.session() as s:
        stored = (await s.exec(select(Response).order_by(Response.id))).all()
    assert len(stored) == 3
    assert [r.duplicate_of_id for r in stored] == [None, None, stored[0].id]  # counted apart in digests
