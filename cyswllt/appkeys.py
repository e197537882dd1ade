"""Typed keys for the state the aiohttp app shares between its parts."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cyswllt.secret import SecretKey
from cyswllt.settings import Settings
from storage.db import Database

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
# Prometheus registry for counters that live as long as the app.
METRICS = web.AppKey("metrics", Any)
# OpenAPI path items contributed by each part of the app: {path: {method: operation}}.
OPENAPI = web.AppKey("openapi", dict)
# Senders the outbox hands rows to, by platform name ("slack", "teams", "console", "email").
SENDERS = web.AppKey("senders", dict)
# The secret for CSRF tokens, form stamps and the client-address hash salt: CYSWLLT_SECRET_KEY, or
# one kept in the database (``await app[SECRET].get()``).
SECRET = web.AppKey("secret", SecretKey)
