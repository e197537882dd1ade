import csv
import io
import subprocess
import sys

import pytest

from engagement.analysis.csvtool import analyse_csv

COLUMNS = ["language", "sentiment", "polarity", "confidence", "themes", "theme_sentiments"]


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_roundtrip_adds_columns_and_keeps_a_given_language():
    source = io.StringIO(
        "id,text,language\n"
        "1,\"The bus is never on time, it is a disgrace.\",\n"
        "2,Mae'r llyfrgell yn wych,\n"
        "3,Mae'r ysgol yn dda,Cymraeg\n"
        "4,I live in Bangor,en\n"
    )
    out = io.StringIO(newline="")
    assert analyse_csv(source, out) == 4
    rows = rows_of(out.getvalue())
    assert list(rows[0]) == ["id", "text", "language", *COLUMNS[1:]]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["language"] for r in rows] == ["en", "cy", "Cymraeg", "en"]
    assert [r["sentiment"] for r in rows] == ["negative", "positive", "positive", "neutral"]
    assert rows[0]["themes"] == "Buses" and rows[0]["theme_sentiments"] == "buses:negative"
    assert rows[1]["themes"] == "Llyfrgelloedd" and rows[1]["theme_sentiments"] == "libraries:positive"
    assert rows[3]["themes"] == "" and rows[3]["theme_sentiments"] == ""
    for row in rows:
        assert len(row["polarity"].split(".")[1]) == 3 and len(row["confidence"].split(".")[1]) == 3
        assert -1 <= float(row["polarity"]) <= 1 and 0 <= float(row["confidence"]) <= 1


def test_theme_sentiments_follow_each_clause():
    out = io.StringIO(newline="")
    analyse_csv(io.StringIO("text\nExcellent Welsh-medium school but the school bus takes over an hour.\n"), out)
    row = rows_of(out.getvalue())[0]
    assert row["themes"] == "Welsh-medium education; School transport"
    assert row["theme_sentiments"] == "welsh_medium_education:positive;school_transport:negative"


def test_rfc_4180_one_row_out_for_each_row_in_even_with_bare_carriage_returns():
    texts = ["first line\rsecond line", "a \"quoted\" word, and a comma", "line\r\nbreak", "plain", "tab\there",
             "=SUM(A1)", "Mae'r bws\ryn hwyr"] * 86  # 602 rows
    source = io.StringIO(newline="")
    writer = csv.writer(source, lineterminator="\r\n")
    writer.writerow(["id", "text"])
    for i, text in enumerate(texts):
        writer.writerow([i, text])
    source.seek(0)
    out = io.StringIO(newline="")
    assert analyse_csv(source, out) == len(texts)
    raw = out.getvalue()
    assert raw.endswith("\r\n")
    rows = rows_of(raw)
    assert len(rows) == len(texts)
    assert [r["text"] for r in rows] == texts
    # Every record ends in CRLF and no unquoted field holds a CR or LF: a strict reader agrees.
    assert len(list(csv.reader(io.StringIO(raw, newline=""), strict=True))) == len(texts) + 1


def test_the_command_writes_the_same_csv(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"text\r\n\"one\rtwo\"\r\nGood buses\r\n")
    proc = subprocess.run([sys.executable, "-m", "cyswllt.cli", "analyse", str(path)], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    rows = rows_of(proc.stdout.decode())
    assert [r["text"] for r in rows] == ["one\rtwo", "Good buses"]
    assert rows[1]["theme_sentiments"] == "buses:positive"


def test_missing_text_column_is_a_clear_error():
    with pytest.raises(ValueError, match="no 'text' column.*id, body"):
        analyse_csv(io.StringIO("id,body\n1,hello\n"), io.StringIO())


def test_empty_file_is_a_clear_error():
    with pytest.raises(ValueError, match="empty"):
        analyse_csv(io.StringIO(""), io.StringIO())
