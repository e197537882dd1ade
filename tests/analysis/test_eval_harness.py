"""The evaluation harness runs offline with one command and prints one table with both halves and
the hash of every file it read."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "results.json"
    proc = subprocess.run([sys.executable, str(ROOT / "eval" / "harness.py"), "--only-ours", "--json", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, json.loads(out.read_text(encoding="utf-8"))


def test_one_table_with_every_section_and_both_halves(run):
    table, results = run
    for heading in ("sentiment, English sets", "sentiment, Welsh", "language detection", "themes",
                    "themes beyond the glossary", "redaction"):
        assert heading in table
    for name in ("uci-amazon", "uci-imdb", "uci-yelp", "vader-tweets", "vader-nyt", "vader-movies",
                 "vader-amazon-snippets"):
        row = results["sentiment_en"][name]
        assert row["dev"]["n"] > 200 and row["test"]["n"] > 200
    assert results["sentiment_cy"]["dev"]["n"] + results["sentiment_cy"]["test"]["n"] == 320
    assert results["themes"]["test"]["en"]["units"] > 30 and results["themes"]["test"]["cy"]["units"] > 30
    for which in ("dev", "test"):  # topics outside the glossary, found only as emergent themes
        local = results["emergent"]["local"][which]
        assert local["emergent"]["en"]["units"] > 30 and local["emergent"]["cy"]["units"] > 30
        assert local["glossary"]["en"]["units"] > 5  # the glossary's topics in the same responses, scored apart


def test_every_file_is_hashed(run):
    table, results = run
    for path, digest in results["files"].values():
        assert len(digest) == 64 and digest in table and path in table


def test_every_test_half_figure_holds(run):
    """What must hold on data not used for tuning (the issue's thresholds, in eval/harness.py):
    English above VADER on every public set; Welsh ≥ 0.55 and within 5 points of its English; theme
    precision ≥ 0.75 and recall ≥ 0.9 in both languages, ≥ 80% of topics one key across languages;
    language ≥ 99% on 5+ words and ≥ 90% code-switched; redaction recall ≥ 0.95 structured and ≥ 0.8
    names and addresses, precision ≥ 0.9 on places and public bodies; themes beyond the glossary
    (emergent) with recall ≥ 0.70 and precision ≥ 0.75 in both languages on topics the glossary lacks,
    precision ≥ 0.75 on the glossary's set with them, and no emergent theme naming a person."""
    _table, results = run
    assert results["failures"] == []
