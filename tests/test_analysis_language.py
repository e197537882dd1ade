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
