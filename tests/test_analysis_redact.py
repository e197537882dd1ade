import pytest

from engagement.analysis import redact


@pytest.mark.parametrize("text, expected", [
    ("Email jo.bloggs+lsb@example.co.uk today", "Email [email] today"),
    ("Call 029 2087 2087", "Call [phone]"),
    ("Call +44 29 2087 2087.", "Call [phone]."),
    ("Mobile 07700 900123 or +447700900123", "Mobile [phone] or [phone]"),
    ("Ring (01248) 123456", "Ring [phone]"),
    ("I live at CF10 1AA", "I live at [postcode]"),
    ("Post to LL77 7TW or sw1a1aa", "Post to [postcode] or [postcode]"),
])
def test_personal_data_is_replaced(text, expected):
    assert redact(text) == expected


def test_numbers_that_are_not_personal_data_stay():
    text = "In 2019 we had 12 buses, route X12 on the A470, action A-12 due 12/03/2024, and the CF10 area"
    assert redact(text) == text


def test_given_names_with_or_without_accents():
    text = "Siân Jones said that Sian and JONES agree; Gwen ap Rhys too, ap-style"
    assert redact(text, ["Siân Jones", "Gwen ap Rhys"]) == \
        "[name] said that [name] and [name] agree; [name] too, ap-style"


def test_empty_and_no_names():
    assert redact("") == ""
    assert redact("Nothing personal here", []) == "Nothing personal here"
