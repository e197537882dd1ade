"""The command words, English and Welsh. A Welsh word means a Welsh reply."""

from __future__ import annotations

# canonical verb -> (English words, Welsh words)
VERBS: dict[str, tuple[set[str], set[str]]] = {
    "help": ({"help", "?"}, {"cymorth", "help"}),
    "actions": ({"actions", "action"}, {"camau", "cam"}),
    "update": ({"update"}, {"diweddaru"}),
    "history": ({"history"}, {"hanes"}),
    "status": ({"status"}, {"statws"}),
    "scrutiny": ({"scrutiny"}, {"craffu"}),
    "digest": ({"digest"}, {"crynodeb"}),
    "lang": ({"lang", "language"}, {"iaith"}),
    "board": ({"board"}, {"bwrdd"}),
    "snooze": ({"snooze"}, {"oedi"}),
    "home": ({"home"}, {"cartref"}),
}

ACTION_FILTERS = {"mine": "mine", "fi": "mine", "overdue": "overdue", "hwyr": "overdue", "all": "all", "popeth": "all"}
WELSH_FILTERS = {"fi", "hwyr", "popeth"}

RAG_WORDS = {
    "red": "red", "amber": "amber", "green": "green", "complete": "complete", "completed": "complete",
    "coch": "red", "ambr": "amber", "gwyrdd": "green", "cwblhawyd": "complete", "cwblhau": "complete",
}
WELSH_RAG = {"coch", "ambr", "gwyrdd", "cwblhawyd", "cwblhau"}

SCRUTINY_STEPS = {
    "list": "list", "rhestr": "list",
    "ack": "ack", "acknowledge": "ack", "cydnabod": "ack",
    "schedule": "schedule", "amserlennu": "schedule",
    "respond": "respond", "response": "respond", "ymateb": "respond",
}
WELSH_STEPS = {"rhestr", "cydnabod", "amserlennu", "ymateb"}

SNOOZE_PERIODS = {"tomorrow": "tomorrow", "yfory": "tomorrow", "next-week": "next-week", "wythnos-nesaf": "next-week"}
WELSH_PERIODS = {"yfory", "wythnos-nesaf"}
BOARD_LINK = {"link": "link", "cysylltu": "link"}


def verb_of(word: str) -> tuple[str | None, str | None]:
    """(canonical verb, language of the word) — 'cy' only for words that are Welsh alone."""
    word = word.lower()
    for verb, (en, cy) in VERBS.items():
        if word in cy and word not in en:
            return verb, "cy"
        if word in en:
            return verb, "en"
    return None, None
