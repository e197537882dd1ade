"""Signed, expiring links that stand for a button in a mail: bound to one person and the command
words the button runs (its action's ref among them), valid for ``LINK_DAYS``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

LINK_DAYS = 14


def _sign(secret: str, body: str) -> str:
    return hmac.new(f"email-action:{secret}".encode(), body.encode(), hashlib.sha256).hexdigest()[:40]


def make(secret: str, person_id: int, words: str, *, form: dict | None = None, now: float | None = None) -> str:
    data = {"p": person_id, "w": words, "e": int((now or time.time()) + LINK_DAYS * 86400)}
    if form:
        data["f"] = form
    body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()).decode()
    body = body.rstrip("=")
    return f"{body}.{_sign(secret, body)}"


def read(secret: str, token: str, *, now: float | None = None) -> dict | None:
    """The link's person, words and form; None when it is not ours, was changed, or has expired."""
    body, _, sig = (token or "").partition(".")
    if not body or not sig or len(token) > 4000 or not hmac.compare_digest(_sign(secret, body), sig):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int) or not isinstance(data.get("w"), str):
        return None
    if int(data.get("e", 0)) < (now or time.time()):
        return None
    return data
