"""Slack retries a request it thinks we missed (``X-Slack-Retry-Num``); we never handle one twice."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

REMEMBER = 10_000


def _header(req: AsyncBoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values else None


def request_key(req: AsyncBoltRequest) -> str:
    """Events carry an id; anything else is known by its body (a retry repeats it byte for byte)."""
    body = req.body if isinstance(req.body, dict) else {}
    event_id = body.get("event_id")
    return f"event:{event_id}" if event_id else "body:" + hashlib.sha256(req.raw_body.encode()).hexdigest()


class RetryFilter(AsyncMiddleware):
    """Acknowledge retries without handling them again.

    A retry after ``http_timeout`` means the first delivery reached some replica (it was only slow to
    answer), so it is always dropped. Other retries are dropped when this process handled the same
    request already; a retry whose first delivery never arrived is handled — once.
    """

    def __init__(self) -> None:
        self.seen: OrderedDict[str, None] = OrderedDict()

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse,
                            next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        key = request_key(req)
        if _header(req, "x-slack-retry-num") is not None:
            if _header(req, "x-slack-retry-reason") == "http_timeout" or key in self.seen:
                return BoltResponse(status=200, body="")
        self.seen[key] = None
        while len(self.seen) > REMEMBER:
            self.seen.popitem(last=False)
        return await next()
