from datetime import date

import pytest

from storage.duedates import parse_due


@pytest.mark.parametrize("words, due", [
    # the brief's own examples
    ("October 07", date(2007, 10, 31)),
    ("Nov 07", date(2007, 11, 30)),
    ("2007-08", date(2008, 3, 31)),
    ("Spring 2008", date(2008, 5, 31)),
    ("Winter 2008", date(2009, 2, 28)),
    ("end of 07", date(2007, 12, 31)),
    ("Consultation on draft by end of 07", date(2007, 12, 31)),
    ("Ongoing", None),
    ("Quarterly meetings ongoing", None),
    ("Run up to 2008 local elections", None),
    # strings that are not in the seeds
    ("Sept 2011", date(2011, 9, 30)),
    ("February 2024", date(2024, 2, 29)),
    ("2019/20", date(2020, 3, 31)),
    ("2023-24 review", date(2024, 3, 31)),
    ("by end of 2012", date(2012, 12, 31)),
    ("early 2015", date(2015, 4, 30)),
    ("late 2013", date(2013, 12, 31)),
    ("summer 2031", date(2031, 8, 31)),
    ("autumn 26", date(2026, 11, 30)),
    ("winter 2011", date(2012, 2, 29)),
    ("spring and summer 2027", date(2027, 8, 31)),
    ("Pilot start spring 25, report published autumn 25", date(2025, 11, 30)),
    ("Draft in June 2025, final by 2026", date(2026, 12, 31)),
    ("2030", date(2030, 12, 31)),
    ("31 March 2029", date(2029, 3, 31)),
    ("gwanwyn 2027", date(2027, 5, 31)),
    ("erbyn Mehefin 2026", date(2026, 6, 30)),
    ("mid-2019", date(2019, 6, 30)),
    ("Mid 2034", date(2034, 6, 30)),
    ("end-2022", date(2022, 12, 31)),
    ("Q3 2016", date(2016, 9, 30)),
    ("Q3 2016/17", date(2016, 12, 31)),
    ("Q4 2016-17", date(2017, 3, 31)),
    ("winter 2015/16", date(2016, 2, 29)),
    ("30/09/2021", date(2021, 9, 30)),
    ("Dec 2020 - Jan 2021", date(2021, 1, 31)),
    ("Hydref 2027", date(2027, 10, 31)),
    ("yn yr hydref 2027", date(2027, 11, 30)),
    ("o Fedi 2028", date(2028, 9, 30)),
    ("gaeaf 2029", date(2030, 2, 28)),
    ("erbyn diwedd 2030", date(2030, 12, 31)),
    ("ahead of the 2026 Senedd elections", None),
    ("annually", None),
    ("monthly meetings", None),
    ("within 12 weeks", None),
    ("", None),
    (None, None),
])
def test_by_when_words_become_due_dates_by_rule(words, due):
    assert parse_due(words) == due
