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


@pytest.mark.parametrize("english, welsh, expected", [
    ("The pharmacy in the village has closed", "Mae'r fferyllfa yn y pentref wedi cau", "pharmacies"),
    ("We waited six hours for an ambulance", "Arhoson ni chwe awr am ambiwlans", "ambulances"),
    ("There is no support for additional learning needs", "Does dim cymorth ar gyfer anghenion dysgu ychwanegol",
     "additional_learning_needs"),
    ("Domestic abuse services need more money", "Mae angen mwy o arian ar wasanaethau cam-drin domestig",
     "domestic_abuse"),
    ("Rough sleeping has doubled this year", "Mae mwy o bobl yn cysgu ar y stryd eleni", "homelessness"),
    ("There is mould in every room of our flat", "Mae llwydni ym mhob ystafell yn ein fflat", "housing_repairs"),
    ("Fly-tipping in the lanes is getting worse", "Mae tipio anghyfreithlon yn y lonydd yn gwaethygu", "fly_tipping"),
    ("Dog mess is everywhere", "Mae baw cŵn ym mhobman", "dog_fouling"),
    ("The planning committee ignored us", "Anwybyddodd y pwyllgor cynllunio ni", "planning"),
    ("The street lights are off at midnight", "Mae'r goleuadau stryd yn diffodd am hanner nos", "street_lighting"),
    ("Anti-social behaviour in the square", "Ymddygiad gwrthgymdeithasol yn y sgwâr", "antisocial_behaviour"),
    ("Drug dealing outside the shop", "Delio cyffuriau y tu allan i'r siop", "drugs_alcohol"),
    ("The food bank is busier than ever", "Mae'r banc bwyd yn brysurach nag erioed", "poverty_food_banks"),
    ("Young carers get no break", "Does dim seibiant i ofalwyr ifanc", "carers"),
    ("Dementia support is thin", "Mae cymorth dementia yn brin", "older_people"),
    ("The village hall needs a new roof", "Mae angen to newydd ar y neuadd bentref", "community_centres"),
    ("Keep the allotments", "Cadwch y rhandiroedd", "allotments"),
    ("The cemetery is full", "Mae'r fynwent yn llawn", "cemeteries"),  # soft mutation undone
    ("Flood defences on the river", "Amddiffynfeydd llifogydd ar yr afon", "flooding"),
    ("Solar panels on every school roof", "Paneli solar ar do pob ysgol", "climate_energy"),
])
def test_the_glossary_covers_the_public_services_in_both_languages(english, welsh, expected):
    assert expected in keys(english, "en")
    assert expected in keys(welsh, "cy")


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
    # English is cut into clauses at English joining words only ("a" is the Welsh "and").
    assert keys("The library is a lifeline for older people", "en") == ["libraries"]
    assert keys("Dementia care is a lifeline for older people", "en") == ["older_people"]


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
