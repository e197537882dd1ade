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
    "inbox": ({"inbox"}, {"mewnflwch"}),
    "calendar": ({"calendar"}, {"calendr"}),
}

ACTION_FILTERS = {
    "mine": "mine", "fi": "mine", "overdue": "overdue", "hwyr": "overdue", "all": "all", "popeth": "all",
    "org": "org", "organisation": "org", "organization": "org", "sefydliad": "org",
    "red": "red", "coch": "red", "amber": "amber", "ambr": "amber", "green": "green", "gwyrdd": "green",
    "complete": "complete", "cwblhawyd": "complete", "unrated": "none", "heb-radd": "none",
}
WELSH_FILTERS = {"fi", "hwyr", "popeth", "sefydliad", "coch", "ambr", "gwyrdd", "cwblhawyd", "heb-radd"}
# The words a filter is typed as, for buttons and footers: (English, Welsh).
FILTER_WORDS = {"mine": ("mine", "fi"), "overdue": ("overdue", "hwyr"), "all": ("all", "popeth"),
                "org": ("org", "sefydliad"), "red": ("red", "coch"), "amber": ("amber", "ambr"),
                "green": ("green", "gwyrdd"), "complete": ("complete", "cwblhawyd"), "none": ("unrated", "heb-radd")}

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
    "decline": "decline", "gwrthod": "decline",
}
WELSH_STEPS = {"rhestr", "cydnabod", "amserlennu", "ymateb", "gwrthod"}
# The words each step is typed as: (English, Welsh).
STEP_WORDS = {"list": ("list", "rhestr"), "ack": ("ack", "cydnabod"), "schedule": ("schedule", "amserlennu"),
              "respond": ("respond", "ymateb"), "decline": ("decline", "gwrthod")}

# The public summary in an update (``update A-3 green NOTE public: SUMMARY``) and the requester's
# choice to be named in the scrutiny register (``scrutiny A-3 QUESTION named: yes``).
PUBLIC_MARKERS = ("public", "cyhoeddus")
NAMED_MARKERS = ("named", "enw")
YES_WORDS = {"yes", "y", "ie", "iawn", "true", "1", "do", "ydw", "named", "enwi"}
NO_WORDS = {"no", "n", "na", "nac", "naddo", "false", "0", "nage", "dim"}

SNOOZE_PERIODS = {"tomorrow": "tomorrow", "yfory": "tomorrow", "next-week": "next-week", "wythnos-nesaf": "next-week",
                  "next week": "next-week", "wythnos nesaf": "next-week", "yr wythnos nesaf": "next-week",
                  "nextweek": "next-week"}
WELSH_PERIODS = {"yfory", "wythnos-nesaf", "wythnos nesaf", "yr wythnos nesaf"}
BOARD_LINK = {"link": "link", "cysylltu": "link"}


# Questions people ask in their own words, and the command each stands for (English, Welsh).
# Matched whole, after lower-casing and dropping punctuation; close spellings are offered as
# "Did you mean…?".
SYNONYMS: dict[str, str] = {
    # actions overdue
    "whats overdue": "actions overdue", "what is overdue": "actions overdue", "overdue": "actions overdue",
    "which actions are overdue": "actions overdue", "what's late": "actions overdue", "whats late": "actions overdue",
    "show overdue": "actions overdue", "overdue actions": "actions overdue", "what is late": "actions overdue",
    "beth syn hwyr": "camau hwyr", "be syn hwyr": "camau hwyr", "beth sydd yn hwyr": "camau hwyr",
    "pa gamau syn hwyr": "camau hwyr", "camau hwyr": "camau hwyr", "hwyr": "camau hwyr",
    # actions (mine)
    "my actions": "actions", "what are my actions": "actions", "what do i own": "actions", "mine": "actions",
    "show my actions": "actions", "what am i doing": "actions",
    "fy nghamau": "camau", "beth yw fy nghamau": "camau", "fy nghamau i": "camau",
    # actions all
    "the plan": "actions all", "show the plan": "actions all", "whole plan": "actions all",
    "all actions": "actions all", "every action": "actions all",
    "y cynllun": "camau popeth", "pob cam": "camau popeth", "y cynllun cyfan": "camau popeth",
    # actions org
    "my organisation": "actions org", "our actions": "actions org", "my organisations actions": "actions org",
    "fy sefydliad": "camau sefydliad", "ein camau": "camau sefydliad", "camau fy sefydliad": "camau sefydliad",
    # what is red
    "whats red": "actions red", "what is red": "actions red", "red actions": "actions red",
    "beth syn goch": "camau coch", "camau coch": "camau coch",
    # status
    "how are we doing": "status", "whats the picture": "status", "rag": "status", "rag status": "status",
    "how is the board doing": "status", "board status": "status", "summary": "status",
    "sut mae pethau": "statws", "sut maer bwrdd yn gwneud": "statws", "darlun rag": "statws", "statws y bwrdd": "statws",
    # scrutiny
    "scrutiny requests": "scrutiny list", "what has scrutiny asked": "scrutiny list",
    "ceisiadau craffu": "craffu rhestr", "beth mae craffu wedi ei ofyn": "craffu rhestr",
    # help
    "what can you do": "help", "what can i do": "help", "commands": "help", "how do i": "help", "hello": "help",
    "hi": "help", "help me": "help",
    "beth alli di ei wneud": "cymorth", "beth alla i ei wneud": "cymorth", "helo": "cymorth", "shwmae": "cymorth",
    "sut mae": "cymorth", "gorchmynion": "cymorth",
    # home
    "my home": "home", "dashboard": "home", "fy nghartref": "cartref",
}


def verb_of(word: str) -> tuple[str | None, str | None]:
    """(canonical verb, language of the word) — 'cy' only for words that are Welsh alone."""
    word = word.lower()
    for verb, (en, cy) in VERBS.items():
        if word in cy and word not in en:
            return verb, "cy"
        if word in en:
            return verb, "en"
    return None, None


def every_command_word() -> dict[str, tuple[str, str]]:
    """Each command word of both languages -> (canonical verb, its language)."""
    words: dict[str, tuple[str, str]] = {}
    for verb, (en, cy) in VERBS.items():
        for word in en:
            words.setdefault(word, (verb, "en"))
        for word in cy:
            words.setdefault(word, (verb, "cy"))
    words.pop("?", None)
    return words


def welsh_word(language: str, english: str, welsh: str) -> str:
    return welsh if language == "cy" else english
