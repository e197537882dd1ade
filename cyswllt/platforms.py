"""The chat platforms, each registered from its own folder under ``bot/`` (decision 0001): its name,
its ``setup(app)`` (routes, and its outbox sender in ``app[SENDERS]`` when it can send), when it is
set up here, its per-channel rate, how it carries a chart and how it knows people. ``handlers/``,
``engagement/`` and ``scheduler/`` ask this registry and never name a platform.

A platform registers itself when its package is imported; the registry imports every package and
module under ``bot/`` the first time it is asked, so a new platform is one new folder."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

# How a chart reaches a channel: uploaded as a file, shown from a signed link, or attached to mail.
Chart = Literal["upload", "link", "attach"]


@dataclass(frozen=True)
class Platform:
    name: str
    # Mounts the platform's routes and, when it can send, puts its sender in ``app[SENDERS]``.
    setup: Callable[[Any], None]
    # Whether the platform can send with these settings; None for the console, which is not in
    # CYSWLLT_PLATFORM_ORDER but holds the messages of anyone no platform there reaches.
    ready: Callable[[Any], bool] | None = None
    chart: Chart = "link"
    # How many messages a second one channel may have (None: no limit the platform states).
    per_channel_per_second: float | None = None
    # Whether a command's user id is the person's email address (the console, mail links) rather
    # than an address of theirs on the platform.
    people_by_email: bool = False
    # The order setup runs in (the console first, as the fallback every other one leans on).
    position: int = 50


_PLATFORMS: dict[str, Platform] = {}
_loaded = False


def register(platform: Platform) -> Platform:
    _PLATFORMS[platform.name] = platform
    return platform


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import bot

    for module in pkgutil.iter_modules(bot.__path__):
        importlib.import_module(f"bot.{module.name}")


def platforms() -> list[Platform]:
    """Every registered platform, in setup order."""
    _load()
    return sorted(_PLATFORMS.values(), key=lambda p: (p.position, p.name))


def platform(name: str) -> Platform | None:
    _load()
    return _PLATFORMS.get(name)


def chart_for(name: str) -> Chart:
    """How a chart goes to a channel on this platform (a link where the platform is unknown)."""
    found = platform(name)
    return found.chart if found else "link"


def usable(settings, order: str) -> list[str]:
    """The platforms named in ``order`` (comma-separated) that can send now, in that order."""
    wanted = [p.strip().lower() for p in order.split(",") if p.strip()]
    return [name for name in dict.fromkeys(wanted)
            if (found := platform(name)) is not None and found.ready is not None and found.ready(settings)]
