from engagement.analysis import analyse, key_phrases, theme_key


def test_inflections_merge():
    assert theme_key("bus services", "en") == theme_key("bus service", "en") == theme_key("Bus Service", "en")
    assert theme_key("libraries", "en") == theme_key("library", "en")
    assert theme_key("parking", "en") != theme_key("park", "en")  # a noun in -ing is not lemmatised away


def test_welsh_mutations_merge():
    radical = theme_key("gwasanaeth bws", "cy")
    assert theme_key("wasanaeth bws", "cy") == radical == theme_key("ngwasanaeth bws", "cy")
    assert theme_key("lyfrgell", "cy") == theme_key("llyfrgell", "cy")
    assert theme_key("mharc", "cy") == theme_key("barc", "cy") == theme_key("parc", "cy")
    assert theme_key("fysiau", "cy") == theme_key("bws", "cy")


def test_english_and_welsh_align_through_the_glossary():
    assert theme_key("gwasanaeth bws", "cy") == theme_key("bus services", "en")
    assert theme_key("ysgol", "cy") == theme_key("schools", "en")
    assert theme_key("iechyd", "cy") == theme_key("health", "en")
    assert theme_key("drafnidiaeth", "cy") == theme_key("transport", "en")
    assert theme_key("tai", "cy") == theme_key("housing", "en")
    assert theme_key("canolfan iechyd", "cy") == theme_key("health centre", "en")
    assert theme_key("llyfrgell", "cy") == "library"  # keyed in English where aligned


def test_key_phrases_are_noun_like_and_skip_stop_and_numeric_phrases():
    phrases = key_phrases("The bus is late every day and the drivers are rude. Route 42 runs at 7.30.", "en")
    assert "bus" in phrases and "drivers" in phrases
    assert not any(p.isdigit() or p in ("the", "every day", "rude", "late") for p in phrases)
    assert all(1 <= len(p.split()) <= 3 and p == p.lower() for p in phrases)


def test_welsh_key_phrases_are_welsh_and_in_radical_form():
    phrases = key_phrases("Mae'r gwasanaeth bws i'r dref yn wych ond mae'r llyfrgell wedi cau.", "cy")
    assert "gwasanaeth bws" in phrases and "llyfrgell" in phrases and "tref" in phrases
    assert "wych" not in phrases and "cau" not in phrases


def test_themes_in_analysis_are_few_and_long_texts_use_yake():
    text = ("The library in our village is a lifeline. Older people use the library to read the papers and to "
            "get help with computers. If the library closes, the bus to town is the only option, and the bus "
            "service is unreliable. Many of us cannot afford the bus fares. Please keep the library open and "
            "improve the bus service. The library hosts the Welsh language group every week.")
    themes = analyse(text).themes
    assert 1 <= len(themes) <= 5
    assert themes[0] == "library" and any("bus" in t for t in themes)


def test_glossary_phrases_align_whatever_the_word_order():
    assert theme_key("glwb ieuenctid", "cy") == theme_key("youth clubs", "en")
    assert theme_key("gofal plant", "cy") == theme_key("childcare", "en")
    assert theme_key("maes parcio", "cy") == theme_key("car parks", "en")
