"""Microsoft Teams: the bot endpoint, Adaptive Cards, the outbox sender and the app package."""

from aiohttp import web

from cyswllt.platforms import Platform, register


def setup(app: web.Application) -> None:
    # Imported here so CLI commands that never serve (e.g. ``teams package``) skip the SDK.
    from bot.teams.app import setup as mount

    mount(app)


PLATFORM = register(Platform(
    "teams", setup,
    ready=lambda settings: bool(settings.teams_credentials or settings.teams_anonymous),
    chart="link",  # a card shows the chart from a signed, expiring link
    per_channel_per_second=2.0,  # Teams' limit per conversation
    position=20))
