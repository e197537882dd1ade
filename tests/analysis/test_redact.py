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


@pytest.mark.parametrize("text, expected", [
    ("My name is Sian Jones and I live in Llangefni.", "My name is [name] and I live in Llangefni."),
    ("Regards, Mererid Hughes", "Regards, [name]"),
    ("Fy enw i yw Huw Roberts.", "Fy enw i yw [name]."),
    ("Cofion, Nia", "Cofion, [name]"),
    ("My son Dylan has nowhere to go.", "My son [name] has nowhere to go."),
    ("Mae fy merch Elin yn naw oed.", "Mae fy merch [name] yn naw oed."),
    ("My neighbour Mrs Pritchard is housebound.", "My neighbour [name] is housebound."),
    ("I live at 12 High Street, Caernarfon.", "I live at [address], Caernarfon."),
    ("Rwy'n byw yn 7 Stryd y Bont, Pwllheli.", "Rwy'n byw yn [address], Pwllheli."),
    ("My NI number is QQ 12 34 56 C.", "My NI number is [ni]."),
    ("Email john at example dot com please", "Email [email] please"),
    ("Write to gwyn.parry[at]btinternet[dot]com", "Write to [email]"),
    ("Contact huw(at)example(dot)com", "Contact [email]"),
])
def test_names_addresses_ni_numbers_and_disguised_emails(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "The staff at Tŷ Hafan were wonderful.",
    "Ynys Môn needs better buses.",
    "Betsi Cadwaladr must sort out the waiting lists.",
    "I complained to the chief executive.",
    "Mae'r prif weithredwr yn anwybyddu'r pentrefi.",
    "The head teacher at Ysgol Syr Hugh Owen has done a great job.",
    "The Owain Glyndŵr centre needs investment.",
    "Hywel Dda and Aneurin Bevan health boards.",
    "Meet me at 10:30 on the A470 near Bangor.",
])
def test_places_public_bodies_and_roles_stay(text):
    assert redact(text) == text
