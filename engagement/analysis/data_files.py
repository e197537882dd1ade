"""Reading the package's own data files (no downloads: everything ships with the code)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def lines(name: str) -> tuple[str, ...]:
    text = (resources.files("engagement.analysis") / "data" / name).read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def table(name: str) -> dict[str, str]:
    return dict(line.split("\t", 1) for line in lines(name))
