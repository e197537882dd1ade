import pytest

from engagement.analysis import analyse, review


@pytest.mark.parametrize("text, reasons", [
    ("My son Dylan has autism and the school has been no help.", ["health", "child"]),
    ("I was diagnosed with breast cancer last year.", ["health"]),
    ("Mae gan fy mam ddementia.", ["health"]),
    ("Our son Ifan, 11, is a young carer for his mum.", ["health", "child"]),
    ("Fy merch Alaw, sydd yn 14.", ["child"]),
])
def test_health_and_child_details_hold_a_response(text, reasons):
    assert review(text) == reasons
    assert analyse(text).held == tuple(reasons)


@pytest.mark.parametrize("text", [
    "Mental health services for teenagers are non-existent.",
    "The hospital staff were wonderful.",
    "My son has nowhere to go in the evenings.",
    "Mae angen mwy o gymorth iechyd meddwl.",
    "",
])
def test_opinions_about_services_are_not_personal_details(text):
    assert review(text) == []
