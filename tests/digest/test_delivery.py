"""Scheduled digests: due on each group's schedule, in the group's language(s), through the outbox to
the fake Slack API (chart uploaded with alt text) and to Teams (chart from a signed, expiring link)."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select, update

from bot.slack.sender import SlackSender
from bot.teams.cards import render as card
from cyswllt.app import create_app
from cyswllt.settings import Settings
from engagement.digest import links
from engagement.digest.schedule import enqueue_due_digests, latest_fire
from scheduler.worker import OutboxWorker
from storage import tallies
from storage.models import Digest, OutboxMessage
from tests.fakes.slack_api import FakeSlackAPI

from .conftest import ADMIN, MENTIONS, NOW, PERSONAL, SECRET

AFTER_NINE = NOW + timedelta(minutes=7)  # the digests sweep runs every 15 minutes


def settings_for(database_url: str, **extra) -> Settings:
    return Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False, analysis_enabled=False,
                    admin_token=ADMIN, secret_key=SECRET, base_url="https://cyswllt.example.cymru", **extra)


async def rows(db) -> list[OutboxMessage]:
    async with db.session() as s:
        return list((await s.exec(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all())


def test_crontab_days_count_from_sunday():
    zone = __import__("zoneinfo").ZoneInfo("Europe/London")
    # "1" is Monday in a crontab (APScheduler on its own would read it as Tuesday).
    assert latest_fire("0 9 * * 1", zone, AFTER_NINE) == NOW
    assert latest_fire("0 9 * * mon", zone, AFTER_NINE) == NOW
    assert latest_fire("0 9 * * 2", zone, AFTER_NINE) is None
    # Summer time: 09:00 in London is 08:00 UTC.
    june = datetime(2026, 6, 1, 8, 5, tzinfo=UTC)  # a Monday
    assert latest_fire("0 9 * * 1", zone, june) == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


async def test_due_groups_get_their_digest_once_in_their_languages(db, seeded, database_url):
    settings = settings_for(database_url)
    assert await enqueue_due_digests(db, settings, NOW - timedelta(hours=1)) == 0  # not yet nine o'clock
    queued = await enqueue_due_digests(db, settings, AFTER_NINE)
    found = {(r.platform, r.channel, r.language) for r in await rows(db)}
    # Young people read Welsh (Slack and Teams); older people both languages (Slack); business is monthly.
    assert found == {("slack", "CIFANC", "cy"), ("teams", "19:ifanc@thread.tacv2", "cy"),
                     ("slack", "CHYN", "cy"), ("slack", "CHYN", "en")}
    assert queued == 4
    keys = {r.idempotency_key for r in await rows(db)}
    assert "digest:pobl-ifanc:bysiau-a-llyfrgelloedd:2026-11-23:slack:cy" in keys
    assert all(r.respect_working_hours and r.kind == "digest" for r in await rows(db))
    # Running again (another sweep, another replica) queues and builds nothing more.
    assert await enqueue_due_digests(db, settings, AFTER_NINE + timedelta(minutes=15)) == 0
    async with db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Digest))).scalar_one() == 2
    welsh = next(r for r in await rows(db) if r.channel == "CIFANC")
    text = welsh.payload["reply"]["text"]
    assert text.startswith("Crynodeb ymgynghoriad: Bysiau a llyfrgelloedd — Pobl ifanc")
    assert "Consultation digest" not in text and "Effeithiau ar y Gymraeg" in text
    english = next(r for r in await rows(db) if r.channel == "CHYN" and r.language == "en")
    assert english.payload["reply"]["text"].startswith("Consultation digest: Buses and libraries — Older people")
    # Each digest brings the group's coordinators their signed, expiring link to check the themes.
    assert "Gwirio a phinio themâu'r crynodeb hwn: " in text
    assert "/admin/consultations/bysiau-a-llyfrgelloedd/themes?group=pobl-ifanc&exp=" in text and "&lang=cy" in text
    assert "Check and pin this digest's themes: " in english.payload["reply"]["text"]


async def test_slack_gets_the_digest_and_its_chart_through_the_outbox(db, seeded, database_url):
    settings = settings_for(database_url)
    await enqueue_due_digests(db, settings, AFTER_NINE)
    async with db.session() as s:  # due now by the worker's clock (enqueued at the real time)
        await s.exec(update(OutboxMessage).values(next_attempt_at=NOW))
        await s.commit()
    async with FakeSlackAPI() as slack:
        sender = SlackSender(AsyncWebClient(token="xoxb-test", base_url=slack.base_url))
        clock = {"now": AFTER_NINE}
        worker = OutboxWorker(db, {"slack": sender}, settings, now=lambda: clock["now"])
        for _ in range(3):  # CHYN has two digests (Welsh and English): one a second in a channel
            await worker.deliver_due()
            clock["now"] += timedelta(seconds=1)
        states = {(r.platform, r.channel, r.language): r.state for r in await rows(db)}
        assert {k: v for k, v in states.items() if k[0] == "slack"} == {
            ("slack", "CIFANC", "cy"): "sent", ("slack", "CHYN", "cy"): "sent", ("slack", "CHYN", "en"): "sent"}
        posts = slack.calls_to("chat.postMessage")
        assert {p.args["channel"] for p in posts} == {"CIFANC", "CHYN"}
        uploads = [u for u in slack.uploads.values() if u.get("bytes")]
        assert len(uploads) == 3 and all(u["bytes"].startswith(b"\x89PNG") for u in uploads)
        alts = sorted(u["alt_text"] for u in uploads)
        assert alts[0].startswith("Chart of sentiment for the 2 main themes")
        assert "Libraries: 1 positive, 0 neutral, 2 negative" in alts[0]
        assert "Responses per day: 3, all on 14 November 2026." in alts[0]
        assert any("Bysiau: 2 cadarnhaol, 0 niwtral, 1 negyddol" in a for a in alts[1:])
        assert any("Llyfrgelloedd: 1 cadarnhaol, 0 niwtral, 2 negyddol" in a for a in alts[1:])
        completed = slack.calls_to("files.completeUploadExternal")
        assert {c.args["channel_id"] for c in completed} == {"CIFANC", "CHYN"}
        seen = json.dumps([p.args for p in posts] + [c.args for c in completed], ensure_ascii=False)
        for value in PERSONAL + MENTIONS + ["HIDDEN-TEXT", "Siân"]:
            assert value.lower() not in seen.lower(), value
        welsh = next(p for p in posts if p.args["channel"] == "CIFANC")
        blocks = json.dumps(welsh.args["blocks"], ensure_ascii=False)
        assert "Prif themâu" in blocks and "Negyddol: “Mae'r gwasanaeth bws yn wael iawn" in blocks


async def test_teams_card_image_is_a_signed_link_that_expires(db, seeded, database_url):
    settings = settings_for(database_url)
    await enqueue_due_digests(db, settings, AFTER_NINE)
    teams = next(r for r in await rows(db) if r.platform == "teams")
    reply = teams.payload["reply"]
    url = reply["image_url"]
    assert url.startswith("https://cyswllt.example.cymru/digests/") and "/chart.png?exp=" in url and "&sig=" in url
    assert reply["image_alt"].startswith("Siart o deimlad")
    from handlers.core import Reply

    image = [b for b in card(Reply.from_dict(reply))["body"] if b["type"] == "Image"]
    assert image == [{"type": "Image", "url": url, "altText": reply["image_alt"]}]
    app = create_app(settings, db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        local = base + urlsplit(url).path + "?" + urlsplit(url).query
        async with aiohttp.ClientSession() as http:
            async with http.get(local) as r:
                assert r.status == 200 and r.content_type == "image/png"
                assert (await r.read()).startswith(b"\x89PNG")
            async with db.session() as s:
                digest = (await s.exec(select(Digest).order_by(Digest.id))).scalars().first()
            expired = links.signed(settings, digest, "/chart.png", now=datetime.now(UTC) - timedelta(days=31))
            async with http.get(base + urlsplit(expired).path + "?" + urlsplit(expired).query) as r:
                assert r.status == 403
            tampered = local.replace("sig=", "sig=0")
            async with http.get(tampered) as r:
                assert r.status == 403
            async with http.get(base + urlsplit(url).path) as r:
                assert r.status == 403
    finally:
        await server.close()


@pytest.mark.parametrize("schedule", ["not a schedule", "61 9 * * mon"])
async def test_a_bad_schedule_is_skipped_not_fatal(db, seeded, database_url, schedule):
    from storage.models import StakeholderGroup

    async with db.session() as s:
        await s.exec(update(StakeholderGroup).where(StakeholderGroup.slug == "pobl-hyn").values(digest_schedule=schedule))
        await s.commit()
    assert await enqueue_due_digests(db, settings_for(database_url), AFTER_NINE) == 2  # the Welsh group's two


async def test_a_schedule_firing_often_sends_one_digest_a_day(db, seeded, database_url):
    from storage.models import StakeholderGroup

    async with db.session() as s:
        await s.exec(update(StakeholderGroup).values(digest_schedule="*/5 * * * *"))
        await s.commit()
    settings = settings_for(database_url)
    first = await enqueue_due_digests(db, settings, AFTER_NINE)
    assert first == 5  # Welsh group 2, both-languages group 2, business group (Teams, English) 1
    assert await enqueue_due_digests(db, settings, AFTER_NINE + timedelta(minutes=15)) == 0
    async with db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Digest))).scalar_one() == 3


async def test_a_quote_with_slack_markup_reaches_slack_exactly_as_written(db, seeded, database_url):
    from storage.models import Response
    from tests.fakes.slack_api import visible_text

    marked = "The bus service is *excellent* and _reliable_ ~always~ `yes`, thank you for listening to us."
    async with db.session() as s:
        r1 = (await s.exec(select(Response).where(Response.reference == "REF-r1"))).scalar_one()
        async with tallies.keeping(s, r1.consultation_id, [r1.id]):  # as if its analysis had stored these words
            await s.exec(update(Response).where(Response.id == r1.id).values(text=marked, redacted_text=marked))
        await s.commit()
    settings = settings_for(database_url)
    await enqueue_due_digests(db, settings, AFTER_NINE)
    async with db.session() as s:
        await s.exec(update(OutboxMessage).values(next_attempt_at=NOW))
        await s.commit()
    async with FakeSlackAPI() as slack:
        worker = OutboxWorker(db, {"slack": SlackSender(AsyncWebClient(token="xoxb-test", base_url=slack.base_url))},
                              settings, now=lambda: AFTER_NINE)
        await worker.deliver_due()
        posted = next(p.args for p in slack.calls_to("chat.postMessage") if p.args["channel"] == "CIFANC")
    runs = [run for b in posted["blocks"] if b["type"] == "rich_text" for part in b["elements"] for run in part["elements"]]
    # The quote is one literal run: Slack shows its asterisks, underscores, tildes and backticks.
    assert any(marked in run["text"] for run in runs), visible_text(posted["blocks"])
    assert "mrkdwn" not in json.dumps(posted["blocks"]) and posted["mrkdwn"] in (False, "false", "0", 0)
    assert "*excellent*" not in posted["text"]  # the notification text cannot pair them either
