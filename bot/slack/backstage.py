"""Work after the ack gives way to acks: Slack's 3-second clock only runs while we have not answered."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator


class Backstage:
    """Lets the work behind a slash command, a click or an event wait its turn.

    Every request being acknowledged is "on stage". Work after an ack starts only once the stage
    has been empty for ``quiet`` seconds (or after ``patience`` seconds, so it is never starved),
    and at most ``limit`` pieces run at once. A burst of commands is then acknowledged before the
    work of its first commands runs, instead of later acks queueing behind that work.
    """

    def __init__(self, limit: int = 4, quiet: float = 0.03, patience: float = 1.0) -> None:
        self.limit, self.quiet, self.patience = limit, quiet, patience
        self.on_stage = 0
        self.last_exit = 0.0
        self._clear: asyncio.Event | None = None
        self._slots: asyncio.Semaphore | None = None

    # Made on first use, inside the loop that serves the app.
    @property
    def clear(self) -> asyncio.Event:
        if self._clear is None:
            self._clear = asyncio.Event()
            self._clear.set()
        return self._clear

    @property
    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        return self._slots

    @contextlib.contextmanager
    def acknowledging(self) -> Iterator[None]:
        self.on_stage += 1
        self.clear.clear()
        try:
            yield
        finally:
            self.on_stage -= 1
            self.last_exit = time.monotonic()
            if self.on_stage == 0:
                self.clear.set()

    async def _stage_quiet(self) -> None:
        while True:
            await self.clear.wait()
            wait = self.last_exit + self.quiet - time.monotonic()
            if wait <= 0 and self.on_stage == 0:
                return
            await asyncio.sleep(max(wait, 0.001))

    @contextlib.asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        async with self.slots:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stage_quiet(), self.patience)
            yield
