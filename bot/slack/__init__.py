"""Slack: signed events and commands, Block Kit, the outbox sender (``chat.postMessage``, charts
uploaded as files) and the first-contact ledger."""

from aiohttp import web

from cyswllt.platforms import Platform, register


def setup(app: web.Application) -> None:
    # Imported here so the registry (and CLI commands that never serve) skip the SDK.
    from bot.slack.app import setup as mount

    mount(app)


PLATFORM = register(Platform(
    "slack", setup,
    # Set up here: requests are verified with the signing secret and notices need the bot token.
    ready=lambda settings: bool(settings.slack_signing_secret and settings.slack_bot_token),
    chart="upload",
    per_channel_per_second=1.0,  # Slack allows about one message a second in a channel
    position=10))
