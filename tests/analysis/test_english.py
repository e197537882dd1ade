import pytest
from textblob import TextBlob

from engagement.analysis import analyse
from engagement.analysis.sentiment import Hit, combine, label


@pytest.mark.parametrize("text, expected", [
    ("The service is good", "positive"),
    ("The service is not good", "negative"),
    ("The staff were not helpful", "negative"),
    ("It isn't helpful", "negative"),
    ("The bus is never on time", "negative"),
    ("The library isn't bad at all", "positive"),
    ("No problems at all", "positive"),
    ("There is a long waiting list", "negative"),
    ("The library closed last year", "negative"),
    ("Cuts to youth services", "negative"),
    ("My train was delayed and then cancelled", "negative"),
    ("The underpass is unsafe and overcrowded", "negative"),
    ("Potholes everywhere", "negative"),
    ("Parking is too expensive", "negative"),
    ("The journey is too long", "negative"),
    ("The buses are unreliable", "negative"),
    ("The community bus is a lifeline", "positive"),
    ("Brilliant, helpful staff", "positive"),
    ("I welcome the plan and support it", "positive"),
    ("I live in Llangefni", "neutral"),
    ("Social care is provided by the council", "neutral"),
    ("Our children go to the primary school", "neutral"),
])
def test_english_sentiment(text, expected):
    assert analyse(text, "en").sentiment == expected


def test_plain_textblob_misses_what_we_catch():
    # The reason for the layer: TextBlob scores these 0.0.
    for text in ("It isn't helpful", "Cuts to youth services", "The community bus is a lifeline"):
        assert TextBlob(text).sentiment.polarity == 0.0
        assert analyse(text, "en").sentiment != "neutral"


def test_intensifiers_and_diminishers():
    good = analyse("The park is good", "en").polarity
    assert analyse("The park is very good", "en").polarity > good
    assert 0 < analyse("The park is slightly good", "en").polarity < good


def test_but_clause_outweighs_the_first():
    assert analyse("The staff are friendly but the waiting list is awful", "en").polarity < 0
    assert analyse("The waiting list is long but the staff are brilliant", "en").polarity > 0


def test_confidence_grows_with_evidence_and_falls_with_disagreement():
    one = combine([Hit("good", 0.6)])[1]
    three = combine([Hit("good", 0.6), Hit("helpful", 0.6), Hit("clean", 0.6)])[1]
    mixed = combine([Hit("good", 0.6), Hit("dirty", -0.6)])[1]
    assert three > one > mixed
    assert combine([]) == (0.0, 0.0)
    # The label is the polarity's: clear opinion words are never neutral because evidence is thin.
    assert label(0.5) == "positive" and label(-0.2) == "negative" and label(0.01) == "neutral"


def test_analysis_is_frozen_with_rounded_ranges():
    result = analyse("The bus service is excellent and the drivers are friendly", "en")
    assert result.sentiment == "positive" and -1 <= result.polarity <= 1 and 0 <= result.confidence <= 1
    with pytest.raises(AttributeError):
        result.sentiment = "negative"


@pytest.mark.parametrize("text", ["Not impressed.", "Great phone!", "Works great.", "Worst customer service.",
                                  "Disappointed.", "Would not recommend.", "Poor value."])
def test_clear_opinion_words_are_not_neutral(text):
    assert analyse(text, "en").sentiment != "neutral"
