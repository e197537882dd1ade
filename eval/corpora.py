"""The public human-rated English sentiment sets, read from where ``scripts/eval-corpora`` put them
(nothing is committed from them: their licences ask for attribution, which eval/README.md gives, and
the files are large). Each item: (id, text, gold) with gold 'positive' or 'negative'."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

EVAL = Path(__file__).resolve().parent
ROOT = EVAL.parent

UCI_DIRS = [
    Path(os.environ["CYSWLLT_SENTIMENT_CORPUS"]) if os.environ.get("CYSWLLT_SENTIMENT_CORPUS") else None,
    EVAL / "node_modules" / "sentiment" / "test" / "fixtures",
    ROOT / "node_modules" / "sentiment" / "test" / "fixtures",
]
VADER_DIR = EVAL / "corpora" / "hutto_ICWSM_2014"
UCI_SETS = ("amazon", "imdb", "yelp")
VADER_SETS = {"tweets": "tweets", "nyt": "nytEditorialSnippets", "movies": "movieReviewSnippets",
              "amazon-snippets": "amazonReviewSnippets"}
# VADER's gold is the mean of about 20 ratings on -4..+4. A snippet counts as positive from +0.5, as
# negative from -0.5; the ones between (no clear opinion) are left out of the binary scores. Fixed
# before any result was seen.
VADER_CLEAR = 0.5


class MissingCorpus(RuntimeError):
    pass


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    gold: str


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def uci_folder() -> Path:
    folder = next((d for d in UCI_DIRS if d and (d / "amazon.json").exists()), None)
    if folder is None:
        raise MissingCorpus("the UCI sentences are not installed: run scripts/eval-corpora")
    return folder


def uci_file(name: str) -> Path:
    return uci_folder() / f"{name}.json"


def uci(name: str) -> list[Item]:
    """UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015), one source; id = position."""
    rows = json.loads(uci_file(name).read_text(encoding="utf-8"))
    return [Item(f"{name}:{i}", str(r["text"]).strip(), "positive" if int(r["class"]) == 1 else "negative")
            for i, r in enumerate(rows) if str(r.get("text", "")).strip()]


def vader_file(name: str) -> Path:
    path = VADER_DIR / f"{VADER_SETS[name]}_GroundTruth.txt"
    if not path.exists():
        raise MissingCorpus("VADER's ground truth is not installed: run scripts/eval-corpora")
    return path


def vader(name: str) -> list[Item]:
    """One of VADER's human-rated sets; id = the file's own id column."""
    items = []
    for line in vader_file(name).read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3 or not parts[2].strip():
            continue
        rating = float(parts[1])
        if abs(rating) < VADER_CLEAR:
            continue
        items.append(Item(f"{name}:{parts[0]}", parts[2].strip(), "positive" if rating > 0 else "negative"))
    return items
