"""Slack: slack-bolt mounted at POST /slack/events."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Mount the Slack app when SLACK_SIGNING_SECRET is set."""
