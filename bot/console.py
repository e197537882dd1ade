"""The local console: a sender that prints outbound messages, and `cyswllt chat`."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register the console sender with the outbox."""
