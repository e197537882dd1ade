"""Rebuild actions.csv from the action plan tables of the "A shared responsibility" policy
statement (the seed document 000): every row of every "Action / By whom / By when" table.

Run from the repository root: python -m storage.demo_data.build PATH/TO/000_….txt
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

# Organisations named in the tables' "By whom" column, longest first so greedy matching works.
KNOWN = sorted([
    "Local Government Policy Division", "Wales Spatial Plan team", "LSB partners", "Making the Connections",
    "Public service partners", "Public sector partners", "National partners", "Inspectorates",
    "Local authorities", "Community & town councils", "LSBs", "e-Wales", "Public Service Mgt Wales",
    "Trade unions", "Employer stakeholders", "Local Government", "WAG", "WLGA", "NHS", "Partners",
], key=len, reverse=True)

# Who owns an action in the demo: the officer of its first lead organisation.
OWNERS = {
    "WAG": "sarah.evans@demo.cyswllt.cymru",
    "Local Government Policy Division": "owain.price@demo.cyswllt.cymru",
    "Making the Connections": "catrin.parry@demo.cyswllt.cymru",
    "e-Wales": "sarah.evans@demo.cyswllt.cymru",
    "Public Service Mgt Wales": "catrin.parry@demo.cyswllt.cymru",
    "WLGA": "secretariat@demo.cyswllt.cymru",
}


# The board's own actions (the boards themselves among the leads) are the chair's.
BOARD_LEADS = {"LSBs", "LSB partners"}
CHAIR = "chair@demo.cyswllt.cymru"

# Illustrative ratings, so the demo board's RAG picture has every colour in it.
RATINGS = {"A-1": "complete", "A-3": "green", "A-5": "amber", "A-7": "red", "A-9": "complete", "A-11": "green",
           "A-12": "amber", "A-20": "green", "A-24": "red", "A-27": "amber", "A-31": "green", "A-33": "amber"}


def owner_of(lead: list[str]) -> str:
    if BOARD_LEADS & set(lead):
        return CHAIR
    return next((OWNERS[name] for name in lead if name in OWNERS), "")


def leads(by_whom: str) -> list[str]:
    text = re.sub(r"\b(with\s+)?support from\b", ",", by_whom, flags=re.IGNORECASE)
    found: list[str] = []
    rest = text.strip()
    while rest:
        rest = re.sub(r"^(?:[,;&]|and\b|\s)+", "", rest, flags=re.IGNORECASE)
        if not rest:
            break
        for name in KNOWN:
            if rest.lower().startswith(name.lower()) and (len(rest) == len(name) or not rest[len(name)].isalnum()):
                found.append(name)
                rest = rest[len(name):]
                break
        else:  # an organisation we don't know: up to the next separator
            piece = re.split(r",|;| & | and ", rest, maxsplit=1)[0]
            found.append(piece.strip())
            rest = rest[len(piece):]
    return list(dict.fromkeys(found))


def rows(seed: str):
    priority = ""
    number = 0
    for line in seed.splitlines():
        heading = re.match(r"^##\s+\**\s*(\d+)\.\s*(.+?)\**\s*$", line)
        if heading:
            priority = heading.group(2).strip(" *")
            continue
        cells = line.split("\t")
        if len(cells) < 2 or re.sub(r"</?b>", "", cells[0]).strip() == "Action":
            continue
        action, by_whom = cells[0].strip(), cells[1].strip()
        by_when = cells[2].strip() if len(cells) > 2 else ""
        number += 1
        lead = leads(by_whom)
        ref = f"A-{number}"
        yield {"ref": ref, "priority": priority, "title": action, "lead": ";".join(lead),
               "owner_email": owner_of(lead), "due": by_when, "rag": RATINGS.get(ref, "")}


def main(path: str) -> None:
    out = Path(__file__).with_name("actions.csv")
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["ref", "priority", "title", "lead", "owner_email", "due", "rag"])
        writer.writeheader()
        writer.writerows(rows(Path(path).read_text(encoding="utf-8")))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1])
