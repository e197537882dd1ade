"""Teams: the Agents SDK at POST /api/messages, and the Teams sender for the outbox."""

from __future__ import annotations

import logging
import warnings

from aiohttp import web
from microsoft_agents.hosting.aiohttp import jwt_authorization_decorator
from pydantic import ValidationError

from bot.teams.agent import CyswlltAgent, on_turn_error
from bot.teams.runtime import ANONYMOUS, CREDENTIALS, OFF, TeamsRuntime, mode_for
from bot.teams.sender import TeamsSender
from cyswllt.appkeys import DB, SENDERS, SETTINGS
from cyswllt.openapi import describe

log = logging.getLogger("cyswllt.teams")

TEAMS = web.AppKey("teams", TeamsRuntime)
TEAMS_AGENT = web.AppKey("teams_agent", CyswlltAgent)
# The SDK's JWT check reads its configuration from this plain string key.
SDK_AUTH_KEY = "agent_configuration"

NOT_CONFIGURED = ("Teams is not configured on this service: set TEAMS_APP_ID, TEAMS_APP_PASSWORD and "
                  "TEAMS_TENANT_ID (or CYSWLLT_TEAMS_ANONYMOUS=1 for local emulator use only).")


async def refuse(request: web.Request) -> web.Response:
    return web.Response(status=401, text=NOT_CONFIGURED)


NOT_AN_ACTIVITY = "The body is not a Bot Framework activity."
STARTED = web.RequestKey("cyswllt_teams_started", bool)


async def messages(request: web.Request) -> web.Response:
    request[STARTED] = True  # the token was accepted: what fails from here is not an authentication problem
    runtime = request.app[TEAMS]
    try:
        body = await request.json()
    except ValueError:
        return web.Response(status=400, text=NOT_AN_ACTIVITY)
    service_url = body.get("serviceUrl") if isinstance(body, dict) else None
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        # Every answer goes to the activity's serviceUrl: without one there is nowhere to reply.
        return web.Response(status=400, text=NOT_AN_ACTIVITY + " It has no serviceUrl to answer to.")
    try:
        return await runtime.adapter.process(request, request.app[TEAMS_AGENT])
    except ValidationError:
        return web.Response(status=400, text=NOT_AN_ACTIVITY)


def guarded(handler):
    """The SDK's token check, where a token it cannot read is refused (401), not a fault (500): a
    bearer such as ``{"alg":"none"}.{"aud":"x"}.`` makes the SDK's validator raise a KeyError."""
    authorised = jwt_authorization_decorator(handler)

    async def endpoint(request: web.Request) -> web.StreamResponse:
        try:
            return await authorised(request)
        except Exception:
            if request.get(STARTED):
                raise
            log.warning("Teams: a token that could not be validated was refused")
            return web.json_response({"error": "Invalid token or authentication failed."}, status=401)

    return endpoint


def _describe(app: web.Application) -> None:
    describe(app, "/api/messages", "post", {
        "summary": "Microsoft Teams activities (Bot Framework protocol)",
        "description": "Messages, card submissions, installs. Bearer token from the Bot Framework required "
                       "unless the service runs in anonymous emulator mode.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"202": {"description": "accepted; replies go to the activity's serviceUrl"},
                      "400": {"description": "not an activity"},
                      "401": {"description": "missing or invalid token, or Teams not configured"}},
    })


def setup(app: web.Application) -> None:
    """Mount the Teams endpoint and register the Teams sender when Teams is enabled."""
    settings = app[SETTINGS]
    mode = mode_for(settings)
    _describe(app)
    if mode == OFF:
        log.info("Teams: off (no TEAMS_APP_ID and CYSWLLT_TEAMS_ANONYMOUS unset); /api/messages refuses everything")
        app.router.add_post("/api/messages", refuse)
        return
    runtime = TeamsRuntime.build(settings, mode)
    runtime.adapter.on_turn_error = on_turn_error
    app[TEAMS] = runtime
    app[TEAMS_AGENT] = CyswlltAgent(app[DB], settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app[SDK_AUTH_KEY] = runtime.auth
    app.router.add_post("/api/messages", guarded(messages))
    app[SENDERS]["teams"] = TeamsSender(runtime, app[DB])
    if mode == CREDENTIALS:
        log.info("Teams: credentials mode (app %s); every activity needs a valid Bot Framework token", settings.teams_app_id)
    elif mode == ANONYMOUS:
        log.warning("Teams: ANONYMOUS mode (CYSWLLT_TEAMS_ANONYMOUS=1): activities are accepted without a token; "
                    "local emulator use only")
