from bot.slack.app import setup  # noqa: F401
