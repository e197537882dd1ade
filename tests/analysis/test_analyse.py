import io

import pytest

from engagement.analysis import analyse, detect_language, redact, theme_key
from engagement.analysis.csvtool import analyse_csv
from engagement.analysis.welsh import demutate, lexicon, mutations


@pytest.mark.parametrize("text, language", [
    ("Diolch yn fawr", "cy"), ("Mae'r bws yn hwyr bob dydd", "cy"), ("Da iawn", "cy"),
    ("Rydyn ni angen mwy o fysiau i'r pentref", "cy"), ("Thank you very much", "en"),
    ("The bus is late every day", "en"), ("Not good", "en"),
])
def test_language_of_short_texts(text, language):
    assert detect_language(text) == language


def test_mutations_are_generated_by_rule():
    assert mutations("da") >= {"da", "dda", "na"}
    assert mutations("gwael") >= {"gwael", "wael", "ngwael"}
    assert mutations("cyfle") >= {"cyfle", "gyfle", "nghyfle", "chyfle"}
    assert mutations("trist") >= {"drist", "nhrist", "thrist"}
    assert mutations("llwyddiannus") >= {"lwyddiannus"}
    assert "gwael" in demutate("wael") and "cyfle" in demutate("nghyfle")


def test_welsh_lexicon_has_at_least_300_lemmas_with_their_forms():
    lemmas = {lemma for lemma, _ in lexicon().values()}
    assert len(lemmas) >= 300
    assert lexicon()["dda"][0] == "da" and lexicon()["wael"][0] == "gwael"


@pytest.mark.parametrize("text, sentiment", [
    ("Mae'r gwasanaeth yn dda", "positive"),
    ("Mae'r gwasanaeth yn dda iawn", "positive"),
    ("Nid yw'r gwasanaeth yn dda", "negative"),
    ("Dydy'r gwasanaeth ddim yn dda", "negative"),
    ("Mae'r ffordd yn beryglus", "negative"),
    ("Mae'r parcio'n rhy ddrud", "negative"),
    ("Dydw i ddim yn anhapus gyda'r gwasanaeth", "positive"),
    ("Rwy'n byw yn Llangefni", "neutral"),
    ("The service is good", "positive"),
    ("The service is not good", "negative"),
    ("The library is a lifeline for older people", "positive"),
    ("Waiting lists are far too long", "negative"),
    ("Buses are overcrowded and unreliable", "negative"),
    ("I live in Llangefni", "neutral"),
])
def test_sentiment_with_negation_and_domain_words(text, sentiment):
    assert analyse(text).sentiment == sentiment


def test_welsh_is_not_neutral_by_default():
    positive, negative = analyse("Mae'r llyfrgell yn wych"), analyse("Mae'r bws yn ofnadwy")
    assert positive.language == negative.language == "cy"
    assert positive.sentiment == "positive" and positive.confidence >= 0.5
    assert negative.sentiment == "negative" and negative.polarity < -0.5


def test_themes_are_one_key_across_inflections_mutations_and_languages():
    keys = {theme_key(p, "cy") for p in ("gwasanaeth bws", "wasanaeth bws", "ngwasanaeth bws", "bysiau", "fysiau")}
    keys |= {theme_key(p, "en") for p in ("bus services", "bus service", "Buses")}
    assert keys == {"buses"}
    assert theme_key("ysgolion", "cy") == theme_key("schools", "en") == "schools"
    result = analyse("Mae'r bws i'r pentref yn hwyr bob dydd")
    assert result.theme_keys == ["buses"] and result.themes[0].label("cy") == "Bysiau"
    assert result.themes[0].label("en") == "Buses" and result.themes[0].sentiment == "negative"


def test_redaction():
    text = ("Jo Bloggs here: call 07700 900123 or +44 29 2018 0000, write to jo.bloggs@example.com, "
            "CF10 1AA. Jo likes the park.")
    shown = redact(text, names=["Jo Bloggs"])
    for secret in ("07700", "2018 0000", "jo.bloggs@", "CF10 1AA", "Bloggs", "Jo "):
        assert secret not in shown
    assert shown.count("[name]") == 2 and "[email]" in shown and "[postcode]" in shown and "[phone]" in shown
    assert redact("Bus 42 at 10:30 in CF10") == "Bus 42 at 10:30 in CF10"  # no full postcode, no phone


def test_analyse_csv_adds_columns_and_respects_given_language():
    source = io.StringIO("id,text,language\n1,The bus service is not good,\n2,Mae'r llyfrgell yn wych,cy\n")
    out = io.StringIO(newline="")
    assert analyse_csv(source, out) == 2
    lines = out.getvalue().split("\r\n")
    assert lines[0] == "id,text,language,sentiment,polarity,confidence,themes,theme_sentiments"
    assert lines[1].startswith("1,The bus service is not good,en,negative,-")
    assert lines[1].endswith(",Buses,buses:negative")
    assert lines[2].startswith("2,Mae'r llyfrgell yn wych,cy,positive,")
    with pytest.raises(ValueError, match="'text' column"):
        analyse_csv(io.StringIO("id,body\n1,x\n"), io.StringIO())
