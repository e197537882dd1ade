"""Slack requests in the inbound ledger (``storage.inbound``), as a Bolt middleware after the
signature check: a request seen before — a retry or a replay of the same signed request, on any
replica or after a restart — is acknowledged and not run again."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from storage import inbound


def _header(req: AsyncBoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values else None


def request_key(req: AsyncBoltRequest) -> str:
    """The key Slack repeats when it sends the same request again: an event's id; a submitted
    modal's view and its hash (a second press of Submit on the same form is the same submission);
    the trigger id of a command or a click; else the request's signature (an identical replay
    carries the same one)."""
    body = req.body if isinstance(req.body, dict) else {}
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    if body.get("type") == "view_submission" and view.get("id"):
        return f"view:{view['id']}:{view.get('hash') or ''}"
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    signature = _header(req, "x-slack-signature") or hashlib.sha256(req.raw_body.encode()).hexdigest()
    return f"signature:{signature}"


class Ledger(AsyncMiddleware):
    """Write each request to the ledger before its listener acknowledges it; drop one seen before.

    A retry after ``http_timeout`` means the first delivery reached some replica (it was only slow to
    answer), so it is dropped without a look. Work the listeners run after the ack is recorded with
    the request (``work_of``), so it can be run again if this process dies before it is done."""

    def __init__(self, db, work_of: Callable[[dict], dict | None]) -> None:
        self.db = db
        self.work_of = work_of

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse,
                            next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        if _header(req, "x-slack-retry-num") is not None and _header(req, "x-slack-retry-reason") == "http_timeout":
            return BoltResponse(status=200, body="")
        body = req.body if isinstance(req.body, dict) else {}
        request_id = await inbound.remember(self.db, "slack", request_key(req), self.work_of(body))
        if request_id is None:
            return BoltResponse(status=200, body="")
        req.context["inbound_id"] = request_id
        return await next()
