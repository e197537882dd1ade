"""The citizens' side: consultation pages, the public JSON API and the admin consultation API."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register consultation pages and API routes."""
