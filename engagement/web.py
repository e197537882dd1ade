"""The citizens' side: consultation pages (``pages``), the public and admin JSON API
(``api``), and the analysis worker that runs after responses are stored."""

from aiohttp import web


def setup(app: web.Application) -> None:
    from engagement import api, boards, calendars, pages, publisher, reports, theme_api, workbench
    from engagement.digest import web as digest_web

    api.setup(app)
    theme_api.setup(app)
    workbench.setup(app)
    pages.setup(app)
    publisher.setup(app)
    digest_web.setup(app)
    boards.setup(app)
    reports.setup(app)
    calendars.setup(app)
