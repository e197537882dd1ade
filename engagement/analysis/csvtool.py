"""``cyswllt analyse FILE.csv``: the rows back with language, sentiment, polarity, confidence, themes
and theme_sentiments added. Stores nothing — for officers checking a batch, and for evaluation.

The output is RFC 4180 CSV: CRLF between records, and every field holding a comma, a quote, a carriage
return or a line feed quoted, so a text with a bare carriage return in it stays one row."""

from __future__ import annotations

import csv
import sys
from typing import TextIO

from engagement.analysis import analyse

ADDED = ["language", "sentiment", "polarity", "confidence", "themes", "theme_sentiments"]
# Spellings of a language an officer might type in a `language` column.
LANGUAGE_NAMES = {"cy": "cy", "cym": "cy", "wel": "cy", "welsh": "cy", "cymraeg": "cy", "cy-gb": "cy",
                  "en": "en", "eng": "en", "english": "en", "saesneg": "en", "en-gb": "en"}


def _clean(name: str | None) -> str:
    return (name or "").replace("\ufeff", "").strip().lower()


def analyse_csv(infile: TextIO, outfile: TextIO) -> int:
    """Read a CSV with a `text` column; write its rows with language, sentiment, polarity, confidence,
    themes (labels in the row's language, "; " between) and theme_sentiments (``key:label;…``) added. A non-blank `language` in the input is kept as it is, and used for the analysis
    when it names Welsh or English. Returns the number of rows."""
    reader = csv.DictReader(infile)
    fields = reader.fieldnames
    if not fields:
        raise ValueError("the CSV is empty: it needs a header row with a 'text' column")
    fields = reader.fieldnames = [f.replace("\ufeff", "") for f in fields]  # a BOM from Excel
    cleaned = [_clean(f) for f in fields]
    if "text" not in cleaned:
        raise ValueError(f"the CSV header has no 'text' column (it has: {', '.join(f for f in cleaned if f)})")
    text_column = fields[cleaned.index("text")]
    language_column = fields[cleaned.index("language")] if "language" in cleaned else None
    out_fields = list(fields) + [c for c in ADDED if c not in cleaned]
    column = {c: fields[cleaned.index(c)] if c in cleaned else c for c in ADDED}
    writer = csv.DictWriter(outfile, fieldnames=out_fields, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in reader:
        given = (row.get(language_column) or "").strip() if language_column else ""
        result = analyse(row.get(text_column) or "", LANGUAGE_NAMES.get(given.lower()))
        row.update({
            column["language"]: given or result.language,
            column["sentiment"]: result.sentiment,
            column["polarity"]: f"{result.polarity:.3f}",
            column["confidence"]: f"{result.confidence:.3f}",
            column["themes"]: "; ".join(theme.label(result.language) for theme in result.themes),
            column["theme_sentiments"]: result.theme_sentiments(),
        })
        row.pop(None, None)  # cells beyond the header
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
