"""``cyswllt analyse FILE.csv``: the rows back with language, sentiment, polarity, confidence and
themes added. Stores nothing — for officers checking a batch, and for evaluation."""

from __future__ import annotations

import csv
import sys
from typing import TextIO

from engagement.analysis import analyse

ADDED = ["language", "sentiment", "polarity", "confidence", "themes"]


def analyse_csv(infile: TextIO, outfile: TextIO) -> int:
    reader = csv.DictReader(infile)
    if reader.fieldnames is None or "text" not in [f.strip().lower() for f in reader.fieldnames]:
        raise ValueError("the CSV needs a header row with a 'text' column")
    fields = [f for f in reader.fieldnames]
    text_column = next(f for f in fields if f.strip().lower() == "text")
    language_column = next((f for f in fields if f.strip().lower() == "language"), None)
    out_fields = fields + [c for c in ADDED if c not in [f.strip().lower() for f in fields]]
    writer = csv.DictWriter(outfile, fieldnames=out_fields, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in reader:
        given = (row.get(language_column) or "").strip().lower() if language_column else ""
        result = analyse(row.get(text_column) or "", given if given in ("cy", "en") else None)
        row.update({
            language_column or "language": result.language,
            "sentiment": result.sentiment,
            "polarity": f"{result.polarity:.3f}",
            "confidence": f"{result.confidence:.3f}",
            "themes": "; ".join(result.themes),
        })
        writer.writerow(row)
        count += 1
    return count


def run(settings, args) -> int:
    from cyswllt.cli import CommandError

    try:
        with open(args.file, encoding="utf-8-sig", newline="") as handle:
            analyse_csv(handle, sys.stdout)
    except FileNotFoundError:
        raise CommandError(f"no such file: {args.file}")
    except UnicodeDecodeError:
        raise CommandError(f"{args.file} is not UTF-8: save it as CSV UTF-8")
    except (ValueError, csv.Error) as exc:
        raise CommandError(str(exc))
    return 0
