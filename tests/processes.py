"""Servers started as processes by tests and benches: a free port, and waiting until one answers."""

from __future__ import annotations

import asyncio
import socket
import subprocess

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_ready(base: str, process: subprocess.Popen | None = None, seconds: float = 30.0) -> None:
    """Until ``base``/healthz answers 200; fails at once if the process has exited."""
    async with aiohttp.ClientSession() as http:
        for _ in range(int(seconds * 10)):
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"the server at {base} exited with {process.returncode}")
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the server at {base} did not start")
