import asyncio

import aiohttp
from sqlmodel import select

from cyswllt.settings import Settings
from engagement.worker import ANALYSER
from storage.models import Answer, Response
from tests.engagement_api.conftest import seed_consultation

ADMIN = {"Authorization": "Bearer tok"}


async def stored(db):
    async with db.session() as s:
        return (await s.exec(select(Response).order_by(Response.id))).all()


async def test_public_consultation_json(api, db):
    await seed_consultation(db)
    status, body = await api.call("GET", "/api/v1/consultations")
    assert status == 200 and [c["slug"] for c in body["items"]] == ["bws"]
    status, body = await api.call("GET", "/api/v1/consultations/bws")
    assert body["title"] == {"en": "Local buses", "cy": "Bysiau lleol"}
    assert [q["id"] for q in body["questions"]] == ["q1", "welsh-language"]
    assert body["stakeholder_groups"][0]["id"] == "bws-young"
    assert (await api.call("GET", "/api/v1/consultations/nope"))[0] == 404


async def test_respond_in_welsh_then_withdraw(api, db):
    await seed_consultation(db)
    status, body = await api.call("POST", "/api/v1/consultations/bws/responses", json={
        "answers": {"q1": "Mae'r bws i Ŵyl y Gŵr yn wych", "welsh-language": "Da iawn i'r Gymraeg"},
        "language": "cy", "group": "bws-young"})
    assert status == 201 and body["reference"].startswith("CY-") and body["withdrawal_token"]
    (response,) = await stored(db)
    assert response.language == "cy" and response.anonymous and response.analysis_state == "pending"
    async with db.session() as s:
        answers = (await s.exec(select(Answer.text))).all()
    assert "Mae'r bws i Ŵyl y Gŵr yn wych" in answers
    path = f"/api/v1/responses/{body['reference']}"
    assert (await api.call("DELETE", path, headers={"X-Withdrawal-Token": "wrong"}))[0] == 404
    assert (await api.call("DELETE", path, headers={"X-Withdrawal-Token": body["withdrawal_token"]}))[0] == 204
    assert (await api.call("DELETE", path, headers={"X-Withdrawal-Token": body["withdrawal_token"]}))[0] == 404
    (gone,) = await stored(db)
    assert gone.withdrawn_at is not None and gone.text is None
    async with db.session() as s:
        assert set((await s.exec(select(Answer.text))).all()) == {None}


async def test_stored_even_when_the_analyser_fails_then_analysed_later(api, db):
    await seed_consultation(db)
    worker = api.app[ANALYSER]

    def broken(text, language=None, names=()):
        raise RuntimeError("analyser down")

    worker.analyse = broken
    status, body = await api.call("POST", "/api/v1/consultations/bws/responses",
                                  json={"text": "The buses are unreliable and always late"})
    assert status == 201
    await worker.analyse_pending()
    (response,) = await stored(db)
    assert response.analysis_state == "pending" and "analyser down" in response.analysis_error
    from engagement.analysis import analyse

    worker.analyse = analyse
    worker._not_before.clear()
    await worker.analyse_pending()
    (response,) = await stored(db)
    assert response.analysis_state == "done" and response.sentiment == "negative" and response.language == "en"


async def test_welsh_response_is_tagged_not_neutral(api, db):
    await seed_consultation(db)
    await api.call("POST", "/api/v1/consultations/bws/responses", json={"text": "Mae'r gwasanaeth bws yn ofnadwy"})
    await api.app[ANALYSER].analyse_pending()
    (response,) = await stored(db)
    assert response.language == "cy" and response.sentiment == "negative" and response.themes == ["buses"]


async def test_bad_input_gets_clear_4xx_and_nothing_is_lost(api, db):
    await seed_consultation(db)
    assert (await api.call("POST", "/api/v1/consultations/bws/responses", json={"text": "keep me"}))[0] == 201
    url = "/api/v1/consultations/bws/responses"
    cases = [
        (dict(data=b"{not json", headers={"Content-Type": "application/json"}), 400),
        (dict(data=b'{"text": "\xff\xfe"}', headers={"Content-Type": "application/json"}), 400),
        (dict(json=[1, 2]), 400),
        (dict(json={"text": 5}), 400),
        (dict(json={"text": "x", "anonymous": "yes"}), 400),
        (dict(json={"text": "x", "extra": 1}), 400),
        (dict(json={}), 422),
        (dict(json={"answers": {"nope": "x"}}), 422),
        (dict(json={"text": "x" * 5001}), 422),
        (dict(json={"text": "x", "email": "not-an-email", "contact_consent": True}), 422),
        (dict(json={"text": "x", "group": "nobody"}), 422),
        (dict(data=b"a" * (1024 * 1024), headers={"Content-Type": "application/json"}), 413),
    ]
    for kwargs, expected in cases:
        status, body = await api.call("POST", url, **kwargs)
        assert status == expected, (kwargs.get("json"), status, body)
        assert isinstance(body, dict) and body["error"]
    status, body = await api.call("POST", url, json={"text": "x" * 5001})
    assert body["errors"][0]["message"] == "Your answer must be 5,000 characters or fewer (it is 5,001 — 1 too many)"
    hostile = "<script>alert(1)</script> <!channel> <@U123>"
    assert (await api.call("POST", url, json={"text": hostile}))[0] == 201
    texts = [r.text for r in await stored(db)]
    assert texts == ["keep me", hostile]  # stored verbatim; every renderer escapes it
    assert (await api.call("POST", "/api/v1/consultations/nope/responses", json={"text": "x"}))[0] == 404


async def test_closed_consultation_refuses(api, db):
    from datetime import timedelta

    from storage.models import utcnow

    await seed_consultation(db, "old", opens=utcnow() - timedelta(weeks=20), closes=utcnow() - timedelta(weeks=1))
    status, body = await api.call("POST", "/api/v1/consultations/old/responses", json={"text": "late"})
    assert status == 409 and "closed on" in body["error"]


async def test_ten_thousand_requests_from_one_client(db, database_url, tmp_path):
    from aiohttp.test_utils import TestServer

    from cyswllt.app import create_app

    await seed_consultation(db)
    app = create_app(Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                              analysis_enabled=False, CYSWLLT_RATE_LIMIT="20/minute"), db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("/api/v1/consultations/bws/responses"))
    statuses: dict[int, int] = {}
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=20)) as http:
            async def one(i):
                async with http.post(url, json={"text": f"response {i}"}) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                    if r.status == 429:
                        assert int(r.headers["Retry-After"]) >= 1

            for start in range(0, 10_000, 500):
                await asyncio.gather(*(one(i) for i in range(start, start + 500)))
    finally:
        await server.close()
    assert statuses == {201: 20, 429: 9980}
    assert len(await stored(db)) == 20


async def test_admin_consultations_groups_export_and_moderation(api, db):
    assert (await api.call("GET", "/api/v1/admin/consultations"))[0] == 401
    short = {"slug": "byr", "title_en": "Short", "title_cy": "Byr", "summary_en": "s", "summary_cy": "s",
             "opens": "2026-11-01T09:00:00+00:00", "closes": "2026-12-01T09:00:00+00:00"}
    status, body = await api.call("POST", "/api/v1/admin/consultations", json=short, headers=ADMIN)
    assert status == 422 and "at least 8 weeks" in body["error"]
    status, _ = await api.call("POST", "/api/v1/admin/consultations", headers=ADMIN,
                               json={**short, "short_period_reason": "Statutory deadline"})
    assert status == 201
    status, group = await api.call("POST", "/api/v1/admin/groups", headers=ADMIN, json={
        "slug": "older", "name_en": "Older people", "name_cy": "Pobl hŷn", "digest_schedule": "0 9 * * mon"})
    assert status == 201
    assert (await api.call("POST", "/api/v1/admin/groups", headers=ADMIN, json={
        "slug": "bad", "name_en": "B", "name_cy": "B", "digest_schedule": "every tuesday"}))[0] == 422
    status, _ = await api.call("POST", "/api/v1/admin/consultations", headers=ADMIN, json={
        "slug": "tai", "title_en": "Housing", "title_cy": "Tai", "summary_en": "s", "summary_cy": "s",
        "questions": [{"id": "q1", "text_en": "Views?", "text_cy": "Barn?"}], "groups": ["older"]})
    assert status == 201
    _, public = await api.call("GET", "/api/v1/consultations/tai")
    assert [q["id"] for q in public["questions"]] == ["q1", "welsh-language"]
    for text in ("Email me at jo@example.com or 07700 900123", "Great plan"):
        await api.call("POST", "/api/v1/consultations/tai/responses", json={
            "text": text, "anonymous": False, "name": "Jo Bloggs", "email": "jo@example.com", "contact_consent": True})
    await api.app[ANALYSER].analyse_pending()
    status, csv_text = await api.call("GET", "/api/v1/admin/consultations/tai/responses.csv", headers=ADMIN)
    assert status == 200 and "jo@example.com" not in csv_text and "Jo Bloggs" not in csv_text
    assert "07700" not in csv_text and "[email]" in csv_text
    _, listing = await api.call("GET", "/api/v1/admin/consultations/tai/responses", headers=ADMIN)
    reference = listing["items"][1]["reference"]
    status, _ = await api.call("POST", f"/api/v1/admin/responses/{reference}/hide", headers=ADMIN,
                               json={"reason": "Off topic"})
    assert status == 200
    _, all_consultations = await api.call("GET", "/api/v1/admin/consultations", headers=ADMIN)
    counts = next(c for c in all_consultations["items"] if c["slug"] == "tai")["responses"]
    assert counts == {"received": 2, "visible": 1, "hidden": 1, "withdrawn": 0}


async def test_openapi_describes_every_json_endpoint(api):
    _, spec = await api.call("GET", "/api/v1/openapi.json")
    for route in api.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/v1/") and path != "/api/v1/openapi.json" and route.method != "HEAD":
            documented = path.replace("{action:hide|restore}", "{action}")
            assert route.method.lower() in spec["paths"].get(documented, {}), (route.method, path)


async def test_themes_never_hold_personal_data(api, db):
    await seed_consultation(db)
    await api.call("POST", "/api/v1/consultations/bws/responses", json={
        "text": "Ring Gwenllian Puw on 07700 900123 or gwen@example.cymru at LL77 7TW about the bus station",
        "anonymous": False, "name": "Gwenllian Puw", "email": "gwen@example.cymru", "contact_consent": True})
    await api.app[ANALYSER].analyse_pending()
    (response,) = await stored(db)
    joined = " ".join(response.themes).lower()
    for secret in ("gwenllian", "puw", "07700", "gwen@", "ll77", "email", "phone", "postcode"):
        assert secret not in joined, response.themes
    assert any("bus" in theme for theme in response.themes)


async def test_quote_consent_is_off_unless_given_and_goes_with_withdrawal(api, db):
    await seed_consultation(db)
    _, quiet = await api.call("POST", "/api/v1/consultations/bws/responses", json={"text": "Buses are late"})
    status, agreed = await api.call("POST", "/api/v1/consultations/bws/responses",
                                    json={"text": "Buses are always late", "quote_consent": True})
    assert status == 201
    assert (await api.call("POST", "/api/v1/consultations/bws/responses",
                           json={"text": "x", "quote_consent": "yes"}))[0] == 400
    by_ref = {r.reference: r for r in await stored(db)}
    assert by_ref[quiet["reference"]].quote_consent is False and by_ref[agreed["reference"]].quote_consent is True
    path = f"/api/v1/responses/{agreed['reference']}"
    assert (await api.call("DELETE", path, headers={"X-Withdrawal-Token": agreed["withdrawal_token"]}))[0] == 204
    assert {r.reference: r for r in await stored(db)}[agreed["reference"]].quote_consent is False
