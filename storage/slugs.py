"""URL slugs: a board's public address (``/boards/{slug}``) made from its name."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select, text

MAX_SLUG = 80


def slugify(name: str, max_length: int = MAX_SLUG) -> str:
    """Lower-case ASCII words joined by hyphens: "Ynys Môn Local Service Board" → "ynys-mon-local-service-board".
    Welsh letters keep their base letter (ŵ → w, ŷ → y); anything else becomes a separator."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug or "board"


def unique_slug(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``… whichever is not taken."""
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted[:MAX_SLUG - 4]}-{n}" in taken:
        n += 1
    return f"{wanted[:MAX_SLUG - 4]}-{n}"


def board_slug_default(context) -> str:
    """Column default for ``board.slug``: from the name, unique among the boards already stored.
    A column default (not an ORM event) so every way of adding a board gets one, bulk inserts too."""
    wanted = slugify(context.get_current_parameters()["name"])
    rows = context.connection.execute(
        select(text("slug")).select_from(text("board")).where(text("slug LIKE :prefix")),
        {"prefix": wanted[:MAX_SLUG - 4] + "%"})
    # Boards added in one statement are not in the table yet: remember this statement's choices too.
    chosen = context.__dict__.setdefault("board_slugs", set())
    slug = unique_slug(wanted, {row[0] for row in rows} | chosen)
    chosen.add(slug)
    return slug
