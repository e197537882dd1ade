"""Teams: the Agents SDK at POST /api/messages."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Mount the Teams endpoint."""
