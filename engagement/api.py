"""Public and admin JSON API for consultations and responses."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register the JSON routes and the analysis worker."""
