"""Protection for the HTML form (the JSON API has the rate limit only): a CSRF token tied to a
cookie, a honeypot field, and a minimum time to fill the form in — instead of a captcha."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

CSRF_COOKIE = "cyswllt_csrf"
HONEYPOT = "website"


def _sign(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def new_cookie() -> str:
    return secrets.token_urlsafe(18)


def csrf_token(secret: str, cookie: str) -> str:
    return _sign(secret, "csrf:" + cookie)


def csrf_ok(secret: str, cookie: str | None, token: str | None) -> bool:
    return bool(cookie and token) and hmac.compare_digest(csrf_token(secret, cookie), token)


def started_stamp(secret: str, now: float | None = None) -> str:
    moment = str(int((now or time.time()) * 1000))
    return f"{moment}.{_sign(secret, 'started:' + moment)}"


STAMP_LIFETIME = 86400  # a form is good for a day after it is served


def _elapsed(secret: str, stamp: str | None, now: float | None = None) -> float | None:
    """Seconds since we served the form carrying ``stamp``; None if we did not sign it."""
    moment, _, signature = (stamp or "").partition(".")
    if not moment.isdigit() or len(moment) > 16 or not hmac.compare_digest(_sign(secret, "started:" + moment),
                                                                           signature):
        return None
    return (now or time.time()) - int(moment) / 1000


def stamp_ok(secret: str, stamp: str | None, now: float | None = None) -> bool:
    """The stamp is ours and the form is less than a day old."""
    elapsed = _elapsed(secret, stamp, now)
    return elapsed is not None and elapsed <= STAMP_LIFETIME


def fill_time_ok(secret: str, stamp: str | None, minimum: float, now: float | None = None) -> bool:
    """True when the form was served by us and at least ``minimum`` seconds ago (and within a day)."""
    elapsed = _elapsed(secret, stamp, now)
    return elapsed is not None and minimum <= elapsed <= STAMP_LIFETIME


def honeypot_ok(value: str | None) -> bool:
    return not (value or "").strip()
