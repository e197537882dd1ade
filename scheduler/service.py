"""Background work started with the app: the outbox worker and the scheduler."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Start the outbox worker and the scheduled jobs with the app."""
