import csv
import io

import pytest

from engagement.analysis.csvtool import analyse_csv


def test_roundtrip_adds_columns_and_keeps_a_given_language():
    source = io.StringIO(
        "id,text,language\n"
        "1,\"The bus is never on time, it is a disgrace.\",\n"
        "2,Mae'r llyfrgell yn wych,\n"
        "3,Mae'r ysgol yn dda,Cymraeg\n"
        "4,I live in Bangor,en\n"
    )
    out = io.StringIO()
    assert analyse_csv(source, out) == 4
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == ["id", "text", "language", "sentiment", "polarity", "confidence", "themes"]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["language"] for r in rows] == ["en", "cy", "Cymraeg", "en"]
    assert [r["sentiment"] for r in rows] == ["negative", "positive", "positive", "neutral"]
    assert rows[0]["themes"] == "bus" and rows[1]["themes"] == "llyfrgell"
    for row in rows:
        assert len(row["polarity"].split(".")[1]) == 3 and len(row["confidence"].split(".")[1]) == 3
        assert -1 <= float(row["polarity"]) <= 1 and 0 <= float(row["confidence"]) <= 1


def test_themes_are_joined_with_semicolons():
    out = io.StringIO()
    analyse_csv(io.StringIO("text\nThe library and the swimming pool need repairs\n"), out)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert "; " in row["themes"] and "library" in row["themes"].split("; ")


def test_missing_text_column_is_a_clear_error():
    with pytest.raises(ValueError, match="no 'text' column.*id, body"):
        analyse_csv(io.StringIO("id,body\n1,hello\n"), io.StringIO())


def test_empty_file_is_a_clear_error():
    with pytest.raises(ValueError, match="empty"):
        analyse_csv(io.StringIO(""), io.StringIO())
