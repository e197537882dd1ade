"""Server-rendered consultation pages (no JavaScript needed)."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register the HTML routes."""
