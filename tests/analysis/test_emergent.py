"""Themes beyond the glossary: a noun phrase several responses raise becomes a theme of the consultation,
labelled as people wrote it; incidental nouns, verbs, evaluative words and people's names never do."""

from engagement.analysis import MIN_RESPONSES, analyse, promote
from engagement.analysis.emergent import phrases, welsh_lemma


def themes_of(texts: list[tuple[str, str]], names: tuple[str, ...] = ()) -> dict:
    return promote((i, analyse(text, language, names).phrases) for i, (text, language) in enumerate(texts))


def keys(text: str, language: str) -> set[str]:
    return {p.key for p in analyse(text, language).phrases}


BRIDGE_EN = [
    "Since the bridge closed my journey to work takes forty minutes longer.",
    "Please reopen the bridge before the summer.",
    "The buses go the long way round because of the bridge.",
    "Nobody will tell us when the bridge will be repaired.",
    "An ambulance took twice as long because the bridge is shut.",
]
BRIDGE_CY = [
    "Ers i'r bont gau mae'r daith i'r gwaith yn hirach.",
    "Ailagorwch y bont cyn yr haf.",
    "Mae angen pont newydd dros yr afon.",
]


def test_a_closed_bridge_raised_by_five_responses_is_a_theme_labelled_as_they_wrote_it():
    found = themes_of([(t, "en") for t in BRIDGE_EN])
    assert list(found) == ["~bridge"]
    assert found["~bridge"].responses == {0, 1, 2, 3, 4}
    # Raised only in English: labelled in English in both languages (what people wrote, not a translation).
    assert found["~bridge"].label("en") == found["~bridge"].label("cy") == "Bridge"
    # A topic of the glossary in the same responses stays a glossary theme ("buses"), not a phrase.
    assert analyse(BRIDGE_EN[2], "en").theme_keys == ["buses"]


def test_raised_in_both_languages_each_is_labelled_in_its_own():
    found = themes_of([(t, "en") for t in BRIDGE_EN] + [(t, "cy") for t in BRIDGE_CY])
    assert found["~bridge"].label("en") == "Bridge"
    assert found["~pont"].label("cy") == "Pont" and found["~pont"].responses == {5, 6, 7}
    # Written alike in both languages (a name, a loan word), one theme carries both wordings.
    pier = themes_of([("The pier is falling into the sea.", "en"), ("Save the pier!", "en"),
                      ("Mae'r pier wedi cau.", "cy"), ("Rhaid achub y pier.", "cy")])
    assert list(pier) == ["~pier"] and pier["~pier"].label("en") == "Pier" and pier["~pier"].label("cy") == "Pier"


def test_fewer_responses_than_several_make_no_theme():
    assert themes_of([(t, "en") for t in BRIDGE_EN[:MIN_RESPONSES - 1]]) == {}


def test_an_incidental_noun_raised_by_many_is_not_a_theme():
    texts = [("It takes a long time to get anything done in this town.", "en"),
             ("The staff did a fantastic job with very little money.", "en"),
             ("My family have lived here for years and the people are kind.", "en"),
             ("Every morning it is the same problem, year after year.", "en"),
             ("Thank you for asking; it is a good idea and a good plan.", "en"),
             ("Mae'n cymryd amser hir i gael unrhyw beth wedi'i wneud yn y dref.", "cy"),
             ("Mae fy nheulu wedi byw yma ers blynyddoedd a'r bobl yn garedig.", "cy"),
             ("Diolch am ofyn, mae'n syniad da a chynllun da.", "cy")] * 3
    assert themes_of(texts) == {}


def test_verbs_and_evaluative_words_are_not_themes():
    assert keys("They closed it, reopened it and closed it again.", "en") == set()
    assert keys("It is a disgrace and a shambles.", "en") == set()
    assert keys("Maen nhw wedi cau ac agor a chau eto.", "cy") == set()


def test_a_persons_name_raised_by_several_is_not_a_theme():
    texts = [("Mrs Bethan Hughes at the harbour office was so helpful.", "en"),
             ("Ask Mrs Hughes about the harbour, she knows everything.", "en"),
             ("Bethan at the harbour office sorted it in a day.", "en"),
             ("Councillor Dafydd Roberts promised us a meeting about the harbour.", "en"),
             ("Dafydd Roberts said the harbour would be dredged.", "en"),
             ("Mae Mrs Hughes yn yr harbwr yn gwybod popeth.", "cy"),
             ("Gofynnwch i Bethan Hughes yn swyddfa'r harbwr.", "cy")]
    found = themes_of(texts)
    labels = " ".join(t.label(lang) for t in found.values() for lang in ("en", "cy")).casefold()
    for person in ("bethan", "hughes", "dafydd", "roberts"):
        assert person not in labels
    assert "~harbour" in found  # what they said about is still found
    # The respondent's own name, given on the form, is never a phrase either.
    assert not any("sian" in p.key for p in analyse("Sian here: the pier is a mess", "en", ("Sian Jones",)).phrases)


def test_a_welsh_mutated_form_and_its_radical_share_one_key():
    for text in ("Mae'r bont ar gau.", "Mae angen pont newydd.", "Mae gwylanod ar bont y dref.",
                 "Rydyn ni'n colli ein pont.", "Dw i'n poeni am fy mhont i."):
        assert "~pont" in keys(text, "cy"), text
    assert welsh_lemma("bont") == welsh_lemma("mhont") == welsh_lemma("phont") == welsh_lemma("pont") == "pont"
    assert welsh_lemma("wylanod") == welsh_lemma("gwylanod") == welsh_lemma("gwylan")
    found = themes_of([("Mae'r bont ar gau.", "cy"), ("Mae angen pont newydd.", "cy"),
                       ("Rydyn ni'n colli ein pont.", "cy")])
    assert list(found) == ["~pont"] and found["~pont"].label("cy") == "Pont"  # labelled unmutated


def test_multi_word_terms_are_kept_whole():
    found = themes_of([("The Christmas lights were lovely.", "en"), ("Half the Christmas lights did not work.", "en"),
                       ("Christmas lights bring people into town.", "en"),
                       ("Roedd y goleuadau Nadolig yn hyfryd.", "cy"), ("Mae angen goleuadau Nadolig newydd.", "cy"),
                       ("Diolch am y goleuadau Nadolig.", "cy")])
    assert found["~christmas light"].label("en") == "Christmas lights"
    assert found["~goleuad nadolig"].label("cy") == "Goleuadau Nadolig"
    assert "~light" not in found and "~nadolig" not in found  # the parts are the same theme, not two more
    post = themes_of([("Mae cau swyddfa'r post yn ergyd.", "cy"), ("Mae angen swyddfa'r post arnon ni.", "cy"),
                      ("Heb swyddfa'r post does unman i dalu.", "cy")])
    assert [t.label("cy") for t in post.values()] == ["Swyddfa'r post"]


def test_a_phrase_never_overlaps_a_glossary_term_or_a_redacted_span():
    assert keys("Parking charges on the prom are driving people away.", "en") == {"~prom"}
    assert keys("Mae'r taliadau parcio ar y prom yn rhy uchel.", "cy") == {"~prom"}
    text = "My name is Sian Jones and I live at 12 Heol y Bont. The pier is falling down."
    found = analyse(text, "en").phrases
    assert {p.key for p in found} == {"~pier"}


def test_each_phrase_has_the_sentiment_of_its_clause_and_offsets_in_the_text():
    text = "The pier is wonderful but the harbour wall is crumbling."
    found = {p.key: p for p in analyse(text, "en").phrases}
    assert found["~pier"].sentiment == "positive" and found["~harbour wall"].sentiment == "negative"
    assert text[found["~pier"].start:found["~pier"].end] == "pier"
    assert phrases("", "en") == []
