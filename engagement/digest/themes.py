"""A consultation's themes as a digest shows them: counted by response from the theme tables (see
``build``), with a person's labels, merges and hidden themes applied."""

from __future__ import annotations

from dataclasses import dataclass, field

SIDES = ("positive", "neutral", "negative")


@dataclass
class Counted:
    id: int
    key: str
    label_en: str
    label_cy: str
    count: int = 0
    period_count: int = 0
    sentiment: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    languages: list[str] = field(default_factory=list)

    def label(self, language: str) -> str:
        return self.label_cy if language == "cy" else self.label_en
