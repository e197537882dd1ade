"""Complete lists: a long list is shown a page at a time, and its footer says how many more there
are and offers the next page (a "more" button, or the words with the page number)."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core import Button, Section
from handlers.turn import Turn

PAGE_SIZE = 20


@dataclass
class Page:
    number: int  # from 1
    pages: int
    total: int
    first: int  # index of the first item shown (from 0)
    last: int  # one past the last item shown

    @classmethod
    def of(cls, total: int, number: int, size: int = PAGE_SIZE) -> Page:
        pages = max(1, -(-total // size))
        number = min(max(1, number), pages)
        first = (number - 1) * size
        return cls(number, pages, total, first, min(total, first + size))

    def slice(self, items: list) -> list:
        return items[self.first:self.last]


def page_number(words: list[str]) -> tuple[int | None, list[str]]:
    """A page number among the words (``actions all 2``), and the other words."""
    number, rest = None, []
    for word in words:
        if number is None and word.isdigit() and len(word) <= 6:
            number = int(word)
        else:
            rest.append(word)
    return number, rest


def footer(turn: Turn, page: Page, command: str) -> Section | None:
    """"Showing 1–20 of 35. 15 more: type actions all 2" with Previous / More buttons; None when
    everything is on this page. ``command`` is the words for the list, without the page number."""
    if page.pages <= 1:
        return None
    rest = page.total - page.last
    shown = turn.t("handlers.page_showing", first=page.first + 1, last=page.last, total=page.total)
    if rest > 0:
        text = shown + " " + turn.t("handlers.page_more", count=rest, command=f"{command} {page.number + 1}")
    else:
        text = shown + " " + turn.t("handlers.page_last", command=f"{command} 1")
    buttons = []
    if page.number > 1:
        buttons.append(Button(turn.t("handlers.button_previous"), f"{command} {page.number - 1}"))
    if rest > 0:
        buttons.append(Button(turn.t("handlers.button_more", count=min(rest, turn.page_size)),
                              f"{command} {page.number + 1}", style="primary"))
    return Section(text=text, buttons=buttons)
