"""``cyswllt serve``: run the app until SIGINT/SIGTERM, then shut down gracefully."""

from __future__ import annotations

import logging

from aiohttp import web

from cyswllt.app import create_app
from cyswllt.settings import Settings

log = logging.getLogger("cyswllt")


def run(settings: Settings, args=None) -> int:
    from storage.migrate import upgrade

    if settings.database_url.startswith("sqlite"):
        # The embedded default is a single instance: bring its schema up to date on start.
        upgrade(settings.database_url)
    app = create_app(settings)
    log.info("serving on http://%s:%s (database %s)", settings.host, settings.port,
             settings.database_url.split("@")[-1])
    web.run_app(app, host=settings.host, port=settings.port, print=None, shutdown_timeout=10,
                access_log=None)
    return 0
