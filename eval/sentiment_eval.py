"""How well the sentiment tagger agrees with human labels, beside plain TextBlob on the same data.

1. A public labelled corpus that installs offline: the UCI "Sentiment Labelled Sentences"
   (Kotzias et al., 2015) Amazon set — 1,000 sentences labelled positive or negative — as shipped
   in the npm package wink-sentiment (MIT; `npm ci` puts it in node_modules/).
2. Our hand-labelled set of 105 consultation sentences written in Welsh, each with an English
   counterpart (eval/data/welsh_english_labelled.tsv): positive, neutral or negative.

Both taggers are mapped to labels the same way: polarity ≥ 0.05 positive, ≤ -0.05 negative,
otherwise neutral; ours also counts low-confidence results as neutral, as the digests do.

    .venv/bin/python eval/sentiment_eval.py
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textblob import TextBlob  # noqa: E402

from engagement.analysis import THRESHOLD, analyse  # noqa: E402

AMAZON = ROOT / "node_modules" / "wink-sentiment" / "test" / "data" / "amazon_cells_labelled.txt"
WELSH = ROOT / "eval" / "data" / "welsh_english_labelled.tsv"


def textblob_label(text: str) -> str:
    polarity = TextBlob(text).sentiment.polarity
    return "positive" if polarity >= THRESHOLD else "negative" if polarity <= -THRESHOLD else "neutral"


def scores(gold: list[str], predicted: list[str], labels: list[str]) -> tuple[float, float]:
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


def report(name: str, gold: list[str], ours: list[str], baseline: list[str] | None, labels: list[str]) -> None:
    acc, f1 = scores(gold, ours, labels)
    line = f"  {name:38s} n={len(gold):5d}  ours: accuracy {acc:.3f} macro-F1 {f1:.3f}"
    if baseline is not None:
        b_acc, b_f1 = scores(gold, baseline, labels)
        line += f"   plain TextBlob: accuracy {b_acc:.3f} macro-F1 {b_f1:.3f}"
    print(line)
    print(f"  {'':38s} ours predicted {dict(Counter(ours))}")


def main() -> int:
    if AMAZON.exists():
        rows = [line.rsplit("\t", 1) for line in AMAZON.read_text(encoding="utf-8").splitlines() if "\t" in line]
        gold = ["positive" if label.strip() == "1" else "negative" for _, label in rows]
        texts = [text for text, _ in rows]
        print("Public corpus: UCI Sentiment Labelled Sentences, Amazon (binary; neutral counts as wrong)")
        report("amazon_cells_labelled", gold, [analyse(t, "en").sentiment for t in texts],
               [textblob_label(t) for t in texts], ["positive", "negative"])
    else:
        print(f"Public corpus not found at {AMAZON}: run `npm ci` in the repository root.")
    rows = [line.split("\t") for line in WELSH.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")][1:]
    gold = [r[0] for r in rows]
    labels = ["positive", "neutral", "negative"]
    print("Hand-labelled consultation sentences (three classes)")
    report("Welsh (language detected)", gold, [analyse(r[1]).sentiment for r in rows],
           [textblob_label(r[1]) for r in rows], labels)
    report("English counterparts", gold, [analyse(r[2]).sentiment for r in rows],
           [textblob_label(r[2]) for r in rows], labels)
    detected = Counter(analyse(r[1]).language for r in rows)
    print(f"  language detection on the Welsh sentences: {dict(detected)}; "
          f"on the English: {dict(Counter(analyse(r[2]).language for r in rows))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
