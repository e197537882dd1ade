"""Slack: a slack-bolt ``AsyncApp`` mounted on the service's aiohttp app at ``POST /slack/events``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.ledger import Ledger
from bot.slack.listeners import Bot, register_all, work_of
from bot.slack.sender import SlackSender
from cyswllt.appkeys import DB, SENDERS, SETTINGS
from cyswllt.i18n import t
from handlers.core import Context
from storage import inbound
from storage.models import utcnow

log = logging.getLogger("cyswllt.slack")

BOLT = web.AppKey("slack_bolt", AsyncApp)
CLIENT = web.AppKey("slack_client", AsyncWebClient)
BOT = web.AppKey("slack_listeners_bot", Bot)
# A click on a message with many buttons carries the whole message back: far more than the 64 KB
# the rest of the service accepts.
MAX_SLACK_BODY = 1024 * 1024
# Work after an ack not done CYSWLLT_OUTBOX_LEASE_SECONDS after it started was cut off (the process
# died): it runs again, if it came in within the time Slack still takes an answer through its
# response_url.
ANSWERABLE_FOR = timedelta(minutes=25)


def build_bolt(app: web.Application) -> AsyncApp:
    settings = app[SETTINGS]
    # Bolt makes a client per request from this one and copies it, so it holds no live HTTP session:
    # listener calls open their own, the outbox sender and response_url answers use the pool.
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_base)

    def wake_outbox(urgent: bool = False) -> None:
        from scheduler.service import notify_outbox

        notify_outbox(app, urgent=urgent)

    # The bot token is checked lazily (auth.test on the first request), never at start-up,
    # so the service starts without reaching slack.com (tests, GovSlack, offline machines).
    bolt = AsyncApp(client=client, signing_secret=settings.slack_signing_secret, name="cyswllt")
    # Runs after Bolt's signature check: a request seen before (a retry, a replay, on any replica) is
    # answered 200 and never handled twice; every other one is in the ledger before it is acknowledged.
    bolt.use(Ledger(app[DB], work_of))
    app[BOT] = Bot(Context(app[DB], settings), wake_outbox)
    register_all(bolt, app[BOT])
    return bolt


def refusal(request: web.Request, raw: bytes) -> web.Response | None:
    """A 4xx for anything that is not a signed Slack request of a shape Slack sends, checked before
    Bolt sees it: Bolt expects a numeric timestamp and a JSON object, and answers 500 otherwise."""
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return web.Response(status=401, text="The request is not signed by Slack (bad timestamp).")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return web.Response(status=400, text="The request body is not UTF-8.")
    if not SignatureVerifier(request.app[SETTINGS].slack_signing_secret).is_valid(body, timestamp, signature):
        return web.Response(status=401, text="The request is not signed by Slack.")
    if request.content_type == "application/json" or body.lstrip().startswith(("{", "[", '"')):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    else:
        payload = parse_qs(body).get("payload")
        try:
            parsed = json.loads(payload[0]) if payload else {}
        except ValueError:
            parsed = None
    if not isinstance(parsed, dict):
        return web.Response(status=400, text="The request body is not a Slack request.")
    return None


async def slack_events(request: web.Request) -> web.Response:
    bolt = request.app.get(BOLT)
    if bolt is None:
        return web.Response(status=503, text=t("en", "slack.not_configured"))
    with request.app[BOT].backstage.acknowledging():
        request = request.clone(client_max_size=MAX_SLACK_BODY)
        problem = refusal(request, await request.read())
        if problem is not None:
            return problem
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))


async def http_ctx(app: web.Application):
    # One connection pool for the outbox sender: Web API calls and answers through response_url.
    session = aiohttp.ClientSession()
    bot = app[BOT]
    app[CLIENT].session = session
    yield
    await bot.drain()
    app[CLIENT].session = None
    await session.close()


async def run_unfinished(app: web.Application) -> int:
    """Work after an ack that a crash cut off is run again, once; old ledger rows are forgotten."""
    now = utcnow()
    lease = timedelta(seconds=app[SETTINGS].outbox_lease_seconds)
    rows = await inbound.unfinished(app[DB], "slack", now=now, lease=lease, window=ANSWERABLE_FOR)
    for row in rows:
        log.warning("Slack request %s was acknowledged but its work never finished: running it again", row.id)
        await app[BOT].perform(row.id, row.work)
    await inbound.forget_old(app[DB], now=now)
    return len(rows)


async def ledger_ctx(app: web.Application):
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            try:
                await run_unfinished(app)
            except Exception:
                log.exception("could not look at the Slack request ledger")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(10.0, max(0.5, app[SETTINGS].outbox_lease_seconds / 2)))

    task = asyncio.create_task(loop(), name="slack-ledger")
    yield
    # Let a look in hand finish: a query cancelled half way leaves its pooled connection to be reset
    # while the process is stopping.
    stop.set()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, timeout=10)


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    app.router.add_post("/slack/events", slack_events)
    if not settings.slack_signing_secret:
        log.info("Slack is off: SLACK_SIGNING_SECRET is not set")
        return
    app[BOLT] = build_bolt(app)
    app.cleanup_ctx.append(http_ctx)
    if settings.outbox_enabled:
        app.cleanup_ctx.append(ledger_ctx)
    # Answers go through a request's response_url, which needs no token; so the sender is there
    # even without one, and holds back what needs the Web API (notices, reminders) until one is set.
    app[CLIENT] = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_base)
    app[SENDERS]["slack"] = SlackSender(app[CLIENT], web_api=bool(settings.slack_bot_token))
    if not settings.slack_bot_token:
        log.warning("SLACK_BOT_TOKEN is not set: Slack requests are verified and answered, but notices and "
                    "reminders wait until it is set")
    log.info("Slack is on: events at /slack/events, Web API at %s", settings.slack_api_base)
