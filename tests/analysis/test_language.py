import pytest

from engagement.analysis import analyse, detect_language


@pytest.mark.parametrize("text", [
    "Diolch yn fawr", "Mae'r bws yn hwyr bob dydd", "Da iawn", "Diolch", "Gwych!", "Rhy ddrud",
    "Llyfrgell", "Ysgol dda", "Mae angen mwy o fysiau i'r pentref", "Dydy'r gwasanaeth ddim yn dda",
])
def test_short_welsh_is_welsh(text):
    assert detect_language(text) == "cy"


@pytest.mark.parametrize("text", [
    "Thank you very much", "The bus is late every day", "Not good", "Great", "Too expensive",
    "Library closed", "Ok", "We need more buses in the village",
])
def test_short_english_is_english(text):
    assert detect_language(text) == "en"


def test_empty_text_defaults_to_english_and_neutral():
    result = analyse("")
    assert (result.language, result.sentiment, result.themes) == ("en", "neutral", [])


def test_given_language_is_used():
    assert analyse("Mae'r bws yn hwyr", "cy").language == "cy"
    assert analyse("Mae'r bws yn hwyr", "xx").language == "cy"  # unknown codes fall back to detection


@pytest.mark.parametrize("text, language", [
    ("Ie", "cy"), ("Iawn", "cy"), ("Na", "cy"), ("Dim sylw", "cy"), ("Nac ydw", "cy"),
    ("Yes", "en"), ("No comment", "en"), ("OK", "en"), ("N/A", "en"),
])
def test_very_short_replies(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("text, language", [
    ("Mae'r bus service yn awful ers mis Medi.", "cy"),
    ("Dw i'n really siomedig efo'r council.", "cy"),
    ("The gwasanaeth bws is great but the amserlen is a mess.", "en"),
    ("The staff were so kind, chwarae teg to them.", "en"),
])
def test_code_switched_text_is_in_the_language_of_its_grammar(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["The staff at Tŷ Hafan were wonderful", "We walked up Yr Wyddfa on Sunday",
                                  "The traffic through Betws-y-Coed is terrible every weekend",
                                  "Ŵyr Dinas is the name of our allotment group"])
def test_welsh_place_names_with_circumflexes_do_not_make_english_welsh(text):
    assert detect_language(text) == "en"
