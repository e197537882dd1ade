"""The Agents SDK objects the Teams endpoint and sender share, built from settings."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from microsoft_agents.activity import ConversationReference as SdkReference
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentAuthConfiguration, ClaimsIdentity, TurnContext
from microsoft_agents.hosting.core.authorization import AuthenticationConstants

from cyswllt.settings import Settings

log = logging.getLogger("cyswllt.teams")

CREDENTIALS = "credentials"
ANONYMOUS = "anonymous"
OFF = "off"


def mode_for(settings: Settings) -> str:
    """Which way the endpoint accepts activities; anonymous only without credentials."""
    if settings.teams_credentials:
        if settings.teams_anonymous:
            log.warning("CYSWLLT_TEAMS_ANONYMOUS is ignored because Teams credentials are set")
        return CREDENTIALS
    return ANONYMOUS if settings.teams_anonymous else OFF


def auth_configuration(settings: Settings, mode: str) -> AgentAuthConfiguration:
    if mode == CREDENTIALS:
        return AgentAuthConfiguration(
            client_id=settings.teams_app_id,
            client_secret=settings.teams_app_password,
            tenant_id=settings.teams_tenant_id,
            anonymous_allowed=False,
        )
    # The SDK needs a service connection even when nothing is signed (local emulator use).
    return AgentAuthConfiguration(anonymous_allowed=True)


@dataclass
class TeamsRuntime:
    mode: str
    app_id: str | None
    auth: AgentAuthConfiguration
    adapter: CloudAdapter

    @classmethod
    def build(cls, settings: Settings, mode: str) -> TeamsRuntime:
        auth = auth_configuration(settings, mode)
        connections = MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": auth})
        adapter = CloudAdapter(connection_manager=connections)
        return cls(mode=mode, app_id=settings.teams_app_id, auth=auth, adapter=adapter)

    async def continue_conversation(self, reference: SdkReference,
                                    callback: Callable[[TurnContext], Awaitable[None]]) -> None:
        """Run ``callback`` with a connector client for the referenced conversation."""
        continuation = reference.get_continuation_activity()
        if self.mode == CREDENTIALS:
            await self.adapter.continue_conversation(self.app_id or "", continuation, callback)
        else:
            # Empty claims make the SDK use its anonymous token provider (no Authorization header).
            await self.adapter.continue_conversation_with_claims(
                ClaimsIdentity(), continuation, callback, audience=AuthenticationConstants.AGENTS_SDK_SCOPE)
