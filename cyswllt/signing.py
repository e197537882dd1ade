"""Signed, expiring links: one way to sign and to check them, whatever the link opens (a digest, a
meeting pack). Each caller says what is signed and with which key; the expiry and the comparison are
the same for all."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable


def sign(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:40]


def check_expiring(expires: str | None, sig: str | None, signature_for: Callable[[int], str],
                   now: float | None = None) -> bool:
    """Whether ``sig`` signs the expiry ``expires`` (seconds since the epoch, as the link carries it) and
    that moment has not passed; ``signature_for(expires)`` gives the signature the link should have."""
    try:
        moment = int(expires or "")
    except ValueError:
        return False
    if not sig or moment < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(signature_for(moment), sig)
