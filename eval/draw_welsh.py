"""How the Welsh sentiment set was drawn: 320 UCI sentences chosen by a fixed seed (run once, before
any Welsh lexicon change; the translations are in data/welsh_uci.tsv). Printed as id, gold, English."""

from __future__ import annotations

import random
import sys

import corpora
from splits import SEED

COUNT = 320


def draw() -> list[corpora.Item]:
    pool = [item for name in corpora.UCI_SETS for item in corpora.uci(name)]
    return sorted(random.Random(f"{SEED}:welsh").sample(pool, COUNT), key=lambda i: i.id)


if __name__ == "__main__":
    for item in draw():
        sys.stdout.write(f"{item.id}\t{item.gold}\t{item.text}\n")
