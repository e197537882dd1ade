"""A local stand-in for the Bot Connector service that Teams bots talk to.

It records every activity the bot POSTs (new messages and replies) or PUTs (card
refreshes) under ``/v3/conversations/{id}/activities[/{activityId}]`` and answers as
the connector does, with ``{"id": "..."}``. ``fail_next`` makes the next call fail with
a chosen status (e.g. 429 with ``Retry-After``) so retry handling can be tested.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class ConnectorCall:
    method: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    answered_id: str | None = None

    @property
    def card(self) -> dict[str, Any] | None:
        """The Adaptive Card the activity carries, if any."""
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment.get("content")
        return None


class FakeTeamsConnector:
    def __init__(self) -> None:
        self.calls: list[ConnectorCall] = []
        self._failures: list[tuple[int, float | None]] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        # Seconds before a POST is taken (a bot killed meanwhile never sent it), and after it is taken
        # before the answer (a bot killed then has sent it, but never heard its id).
        self.hold_before = 0.0
        self.delay_after = 0.0
        self.delivered = 0  # POSTs taken
        self.arrived = 0  # requests that reached the connector, taken or not

    @property
    def url(self) -> str:
        """The serviceUrl to put in activities (ends with a slash, as Teams' does)."""
        return f"http://127.0.0.1:{self.port}/"

    def fail_next(self, status: int = 429, retry_after: float | None = None) -> None:
        self._failures.append((status, retry_after))

    def posts(self, conversation_id: str | None = None) -> list[ConnectorCall]:
        return [c for c in self.calls if c.method == "POST" and c.conversation_id == (conversation_id or c.conversation_id)]

    def updates(self, conversation_id: str | None = None) -> list[ConnectorCall]:
        return [c for c in self.calls if c.method == "PUT" and c.conversation_id == (conversation_id or c.conversation_id)]

    def clear(self) -> None:
        self.calls.clear()

    async def _activity(self, request: web.Request) -> web.Response:
        self.arrived += 1
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": {"code": "BadArgument", "message": "not JSON"}}, status=400)
        call = ConnectorCall(
            method=request.method,
            conversation_id=request.match_info["conversation_id"],
            activity_id=request.match_info.get("activity_id"),
            body=body,
            headers=dict(request.headers),
        )
        if self.hold_before and request.method == "POST":
            await asyncio.sleep(self.hold_before)
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the bot went away before the message was taken
        if self._failures:
            status, retry_after = self._failures.pop(0)
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            code = {429: "TooManyRequests", 404: "ConversationNotFound", 403: "BotNotInConversationRoster"}
            return web.json_response({"error": {"code": code.get(status, "ServiceError"), "message": "failed on purpose"}},
                                     status=status, headers=headers)
        self.calls.append(call)
        if request.method == "PUT":
            call.answered_id = call.activity_id
        else:
            call.answered_id = f"1{next(self._ids):012d}"
            self.delivered += 1
            if self.delay_after:
                await asyncio.sleep(self.delay_after)
        return web.json_response({"id": call.answered_id}, status=200 if request.method == "PUT" else 201)

    async def _unknown(self, request: web.Request) -> web.Response:
        return web.json_response({"error": {"code": "NotFound", "message": "not in this stub"}}, status=404)

    async def start(self) -> FakeTeamsConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._activity)
        app.router.add_post("/v3/conversations/{conversation_id}/activities/{activity_id}", self._activity)
        app.router.add_put("/v3/conversations/{conversation_id}/activities/{activity_id}", self._activity)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
