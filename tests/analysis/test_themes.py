import pytest

from engagement.analysis import analyse, theme_key, topics
from engagement.analysis.themes import mentions


def keys(text: str, language: str | None = None) -> list[str]:
    return analyse(text, language).theme_keys


def test_every_topic_has_an_english_and_a_welsh_label():
    for topic in topics().values():
        assert topic.label_en and topic.label_cy and topic.label_en != topic.key


@pytest.mark.parametrize("text, expected", [
    ("GP appointments are impossible to get", ["gp_appointments"]),
    ("Mae'n amhosib cael apwyntiad gyda'r meddyg teulu", ["gp_appointments"]),
    ("The school bus is always late", ["school_transport"]),
    ("Mae'r bws ysgol yn hwyr", ["school_transport"]),
    ("Holiday lets are emptying the village", ["holiday_lets"]),
    ("Mae tai haf yn gwagio'r pentref", ["holiday_lets"]),
    ("Trethwch dai haf yn iawn", ["holiday_lets"]),  # soft mutation undone
    ("Mental health support is poor", ["mental_health"]),
    ("Mae cymorth iechyd meddwl yn brin", ["mental_health"]),  # a multi-word term is kept whole
    ("Canol y dref yn wag", ["town_centre"]),  # the article inside a term is skipped
])
def test_topics_are_named_in_both_languages(text, expected):
    assert keys(text) == expected


def test_incidental_nouns_verbs_and_function_words_are_not_themes():
    assert keys("The staff did a fantastic job with very little money", "en") == []
    assert keys("Rydych chi'n gwneud gwaith gwych, sef y peth pwysicaf", "cy") == []
    assert keys("Plîs ailagorwch y lle erbyn y gaeaf", "cy") == []
    assert keys("We need more jobs for young people", "en") == ["jobs"]


def test_mutated_forms_name_the_radical():
    for phrase in ("bws", "fws", "mws", "bysiau", "fysiau"):
        assert theme_key(phrase, "cy") == "buses"
    for phrase in ("meddygfa", "feddygfa"):
        assert theme_key(phrase, "cy") == "gp_appointments"


def test_a_weak_term_gives_way_to_a_topic_in_its_clause():
    assert keys("A proper cycle path to the secondary school would help", "en") == ["active_travel"]
    assert keys("The teachers at the secondary school are great", "en") == ["schools"]
    assert keys("The CAMHS waiting list is over a year", "en") == ["mental_health"]
    assert keys("The waiting list for a hip operation is two years", "en") == ["hospital"]


def test_each_theme_carries_the_sentiment_of_its_clause():
    result = analyse("Excellent Welsh-medium school but the school bus takes over an hour", "en")
    assert [(t.key, t.sentiment) for t in result.themes] == [("welsh_medium_education", "positive"),
                                                             ("school_transport", "negative")]
    assert result.sentiment == "positive"  # the response keeps an overall label too
    result = analyse("Mae'r parc yn hyfryd ond mae'r toiledau cyhoeddus yn fudr", "cy")
    assert {t.key: t.sentiment for t in result.themes} == {"parks": "positive", "public_toilets": "negative"}


def test_themes_never_overlap_a_redacted_span():
    result = analyse("My name is Parc Jones and I live at 12 Library Road, Bangor. The buses are late.", "en")
    assert result.theme_keys == ["buses"]


def test_mentions_have_offsets_in_the_text():
    text = "Mae'r llyfrgell yn wych"
    [m] = mentions(text, "cy")
    assert text[m.start:m.end] == "llyfrgell"
