"""Slack: a slack-bolt ``AsyncApp`` mounted on the service's aiohttp app at ``POST /slack/events``."""

from __future__ import annotations

import logging
from collections import OrderedDict

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.listeners import Bot, register_all
from bot.slack.sender import SlackSender
from cyswllt.appkeys import DB, SENDERS, SETTINGS
from cyswllt.i18n import t
from handlers.core import Context

log = logging.getLogger("cyswllt.slack")

BOLT = web.AppKey("slack_bolt", AsyncApp)
SEEN_EVENTS = web.AppKey("slack_seen_events", OrderedDict)
REMEMBER_EVENTS = 10_000


def build_bolt(app: web.Application) -> AsyncApp:
    settings = app[SETTINGS]
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_base)
    bolt = AsyncApp(client=client, signing_secret=settings.slack_signing_secret)
    register_all(bolt, Bot(Context(app[DB], settings)))
    return bolt


async def slack_events(request: web.Request) -> web.Response:
    bolt = request.app.get(BOLT)
    if bolt is None:
        return web.Response(status=503, text=t("en", "slack.not_configured"))
    try:
        bolt_request = await to_bolt_request(request)
    except UnicodeDecodeError:
        return web.Response(status=400, text="The request body is not UTF-8.")
    event_id = _event_id(bolt_request)
    if request.headers.get("X-Slack-Retry-Num") and event_id in request.app[SEEN_EVENTS]:
        # Slack retries events it thinks we missed; this one was acknowledged, so do nothing twice.
        return web.Response(status=200, text="")
    response = await bolt.async_dispatch(bolt_request)
    if event_id and response.status < 300:
        seen = request.app[SEEN_EVENTS]
        seen[event_id] = True
        while len(seen) > REMEMBER_EVENTS:
            seen.popitem(last=False)
    return await to_aiohttp_response(response)


def _event_id(bolt_request) -> str | None:
    body = bolt_request.body if isinstance(bolt_request.body, dict) else {}
    return body.get("event_id")


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    app.router.add_post("/slack/events", slack_events)
    app[SEEN_EVENTS] = OrderedDict()
    if not settings.slack_signing_secret:
        log.info("Slack is off: SLACK_SIGNING_SECRET is not set")
        return
    app[BOLT] = build_bolt(app)
    if settings.slack_bot_token:
        app[SENDERS]["slack"] = SlackSender(app[BOLT].client)
    log.info("Slack is on: events at /slack/events, Web API at %s", settings.slack_api_base)
