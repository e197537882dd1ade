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


async def messages(request: web.Request) -> web.Response:
    runtime = request.app[TEAMS]
    try:
        return await runtime.adapter.process(request, request.app[TEAMS_AGENT])
    except ValidationError:
        return web.Response(status=400, text="The body is not a Bot Framework activity.")


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
    app.router.add_post("/api/messages", jwt_authorization_decorator(messages))
    app[SENDERS]["teams"] = TeamsSender(runtime, app[DB])
    if mode == CREDENTIALS:
        log.info("Teams: credentials mode (app %s); every activity needs a valid Bot Framework token", settings.teams_app_id)
    elif mode == ANONYMOUS:
        log.warning("Teams: ANONYMOUS mode (CYSWLLT_TEAMS_ANONYMOUS=1): activities are accepted without a token; "
                    "local emulator use only")
