"""Microsoft Teams: the bot endpoint, Adaptive Cards, the outbox sender and the app package."""

from aiohttp import web


def setup(app: web.Application) -> None:
    # Imported here so CLI commands that never serve (e.g. ``teams package``) skip the SDK.
    from bot.teams.app import setup as mount

    mount(app)
