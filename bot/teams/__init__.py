from bot.teams.app import setup  # noqa: F401
