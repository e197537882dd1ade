"""Signed, expiring links to a digest's page, chart and counts, for coordinators without the admin
token and for the image in a chat card (a data URI is too big for some platforms' messages)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from urllib.parse import urlencode

from cyswllt.signing import check_expiring, sign

# Scheduled digests are weekly: a link lasts until well after the next one arrives.
LINK_DAYS = 30


def _key(settings, digest) -> bytes:
    # The service secret where one is set, and always the digest's own random key, so a link cannot
    # be made for a digest whose key was never sent out.
    secret = settings.secret_key or settings.admin_token or ""
    return f"{secret}:{(digest.data or {}).get('link_key', '')}".encode()


def signature(settings, digest, expires: int) -> str:
    return sign(_key(settings, digest), f"digest:{digest.id}:{expires}")


def verify(settings, digest, expires: str | None, sig: str | None, now: float | None = None) -> bool:
    return check_expiring(expires, sig, lambda moment: signature(settings, digest, moment), now)


def signed(settings, digest, suffix: str = "", *, language: str | None = None, now: datetime | None = None,
           days: float = LINK_DAYS) -> str:
    """``{CYSWLLT_BASE_URL}/digests/{id}{suffix}?exp=…&sig=…`` (suffix: '', '/chart.png' or '.csv')."""
    start = now.timestamp() if now is not None else time.time()
    expires = int(start + timedelta(days=days).total_seconds())
    query = {"exp": expires, "sig": signature(settings, digest, expires)}
    if language:
        query["lang"] = language
    return f"{settings.public_base_url}/digests/{digest.id}{suffix}?{urlencode(query)}"
