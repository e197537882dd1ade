"""Per-client submission limits (CYSWLLT_RATE_LIMIT, e.g. "20/minute"), for the form and the API.

Counted in memory per process by a salted hash of the client address (the address itself is
never kept), in fixed windows; memory is bounded by forgetting the least recently seen clients.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict

from aiohttp import web

from cyswllt.appkeys import SECRET, SETTINGS
from cyswllt.i18n import t

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
MAX_CLIENTS = 100_000


def parse(spec: str) -> tuple[int, int]:
    count, _, period = spec.strip().lower().partition("/")
    period = period.rstrip("s") or "minute"
    if period not in PERIODS or not count.strip().isdigit():
        raise ValueError(f"CYSWLLT_RATE_LIMIT must look like 20/minute, not {spec!r}")
    return int(count), PERIODS[period]


class RateLimiter:
    def __init__(self, spec: str) -> None:
        self.limit, self.window = parse(spec)
        self.clients: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def hit(self, client: str, now: float | None = None) -> float:
        """Count one submission; 0 when allowed, else the seconds until the client may try again."""
        now = time.monotonic() if now is None else now
        start, count = self.clients.get(client, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        if count >= self.limit:
            self.clients.move_to_end(client)
            return max(1.0, self.window - (now - start))
        self.clients[client] = (start, count + 1)
        self.clients.move_to_end(client)
        while len(self.clients) > MAX_CLIENTS:
            self.clients.popitem(last=False)
        return 0.0


LIMITER = web.AppKey("rate_limiter", RateLimiter)


def client_of(request: web.Request) -> str:
    from engagement.service import client_hash

    return client_hash(request.app[SECRET], request.remote or "unknown")


async def check_rate(request: web.Request, language: str = "en") -> None:
    """Raise 429 (with Retry-After) when this client has sent too many submissions."""
    wait = request.app[LIMITER].hit(client_of(request))
    if not wait:
        return
    seconds = math.ceil(wait)
    message = t(language, "consultation.rate_limited", seconds=seconds)
    headers = {"Retry-After": str(seconds)}
    if request.path.startswith("/api/"):
        raise web.HTTPTooManyRequests(text=json.dumps({"error": message}), content_type="application/json",
                                      headers=headers)
    raise web.HTTPTooManyRequests(text=message, headers=headers)


def setup(app: web.Application) -> None:
    app[LIMITER] = RateLimiter(app[SETTINGS].rate_limit)
