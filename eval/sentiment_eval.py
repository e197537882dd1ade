"""How well the sentiment tagger agrees with human labels, beside plain TextBlob on the same data.

1. A public labelled corpus that installs offline: the UCI "Sentiment Labelled Sentences"
   (Kotzias et al., KDD 2015) — 3 × 1,000 sentences from Amazon, IMDb and Yelp reviews, each labelled
   positive or negative — as shipped in the test fixtures of the npm package `sentiment` 5.0.2
   (`cd eval && npm ci`; see eval/README.md). Binary gold labels: a neutral answer counts as wrong.
2. Our hand-labelled set of consultation sentences written in Welsh, each with its English
   counterpart (eval/data/welsh_english_labelled.tsv): positive, neutral or negative.
3. The English development set (eval/data/english_dev.tsv) the English lexicon and thresholds were
   tuned on — reported for transparency, not as evidence.

Both taggers are mapped to labels the same way: polarity ≥ 0.05 positive, ≤ -0.05 negative,
otherwise neutral; ours also counts low-confidence results as neutral, as the digests do.

    .venv/bin/python eval/sentiment_eval.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textblob import TextBlob  # noqa: E402

from engagement.analysis import THRESHOLD, analyse  # noqa: E402

DATA = ROOT / "eval" / "data"
CORPUS_DIRS = [
    Path(os.environ["CYSWLLT_SENTIMENT_CORPUS"]) if os.environ.get("CYSWLLT_SENTIMENT_CORPUS") else None,
    ROOT / "eval" / "node_modules" / "sentiment" / "test" / "fixtures",
    ROOT / "node_modules" / "sentiment" / "test" / "fixtures",
]
SETS = ["amazon", "imdb", "yelp"]
LABELS3 = ["positive", "neutral", "negative"]
LABELS2 = ["positive", "negative"]


def textblob_label(text: str) -> str:
    polarity = TextBlob(text).sentiment.polarity
    return "positive" if polarity >= THRESHOLD else "negative" if polarity <= -THRESHOLD else "neutral"


def scores(gold: list[str], predicted: list[str], labels: list[str]) -> tuple[float, float]:
    """Accuracy and macro-F1 over the gold labels (a neutral answer to binary gold is a miss)."""
    accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold)
    f1s = []
    for label in labels:
        tp = sum(g == p == label for g, p in zip(gold, predicted))
        fp = sum(p == label != g for g, p in zip(gold, predicted))
        fn = sum(g == label != p for g, p in zip(gold, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return accuracy, sum(f1s) / len(f1s)


def report(name: str, gold: list[str], ours: list[str], baseline: list[str], labels: list[str]) -> None:
    acc, f1 = scores(gold, ours, labels)
    b_acc, b_f1 = scores(gold, baseline, labels)
    print(f"  {name:30s} n={len(gold):5d}  ours: accuracy {acc:.3f} macro-F1 {f1:.3f}"
          f"   plain TextBlob: accuracy {b_acc:.3f} macro-F1 {b_f1:.3f}")
    print(f"  {'':30s} neutral answers: ours {ours.count('neutral')}, TextBlob {baseline.count('neutral')}")
    if "neutral" not in labels:
        # With binary gold, how often a committed (non-neutral) answer is right.
        def answered(predicted: list[str]) -> str:
            pairs = [(g, p) for g, p in zip(gold, predicted) if p != "neutral"]
            return f"{sum(g == p for g, p in pairs) / len(pairs):.3f}" if pairs else "-"
        print(f"  {'':30s} accuracy when not neutral: ours {answered(ours)}, TextBlob {answered(baseline)}")


def read_tsv(path: Path) -> list[list[str]]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return rows[1:]  # header


def public_corpus() -> None:
    folder = next((d for d in CORPUS_DIRS if d and (d / "amazon.json").exists()), None)
    if folder is None:
        print("Public corpus not found: run `npm ci` in eval/ (see eval/README.md).")
        return
    print(f"Public corpus: UCI Sentiment Labelled Sentences (npm 'sentiment' 5.0.2 fixtures, {folder})")
    all_gold: list[str] = []
    all_ours: list[str] = []
    all_base: list[str] = []
    elapsed = 0.0
    for name in SETS:
        items = [i for i in json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
                 if str(i.get("text", "")).strip()]
        gold = ["positive" if int(i["class"]) == 1 else "negative" for i in items]
        started = time.perf_counter()
        ours = [analyse(i["text"], "en").sentiment for i in items]
        elapsed += time.perf_counter() - started
        base = [textblob_label(i["text"]) for i in items]
        report(name, gold, ours, base, LABELS2)
        all_gold += gold
        all_ours += ours
        all_base += base
    report("all three", all_gold, all_ours, all_base, LABELS2)
    print(f"  analyse() took {elapsed / len(all_gold) * 1000:.2f} ms per sentence (with themes)")


def hand_labelled() -> None:
    rows = read_tsv(DATA / "welsh_english_labelled.tsv")
    gold = [r[0] for r in rows]
    welsh = [analyse(r[1]) for r in rows]
    english = [analyse(r[2]) for r in rows]
    print(f"Hand-labelled consultation sentences, Welsh beside English (three classes; {Counter(gold)})")
    report("Welsh (language detected)", gold, [a.sentiment for a in welsh], [textblob_label(r[1]) for r in rows],
           LABELS3)
    report("English counterparts", gold, [a.sentiment for a in english], [textblob_label(r[2]) for r in rows],
           LABELS3)
    same = sum(w.sentiment == e.sentiment for w, e in zip(welsh, english))
    print(f"  same label for a Welsh sentence and its English counterpart: {same}/{len(rows)}")
    print(f"  language detected on the Welsh: {dict(Counter(a.language for a in welsh))}; "
          f"on the English: {dict(Counter(a.language for a in english))}")
    dev = read_tsv(DATA / "english_dev.tsv")
    print("English development set (tuned on; for transparency only)")
    report("english_dev", [r[0] for r in dev], [analyse(r[1], "en").sentiment for r in dev],
           [textblob_label(r[1]) for r in dev], LABELS3)


def main() -> int:
    analyse("warm up", "en")
    public_corpus()
    hand_labelled()
    return 0


if __name__ == "__main__":
    sys.exit(main())
