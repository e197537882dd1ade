from datetime import UTC, datetime

import pytest

from cyswllt.settings import Settings
from scheduler.clock import WorkingHours

UTC = UTC
hours = WorkingHours.from_settings(Settings())


@pytest.mark.parametrize("moment, slot", [
    (datetime(2026, 11, 23, 22, 0, tzinfo=UTC), datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),  # 22:00 Monday
    (datetime(2026, 11, 28, 11, 0, tzinfo=UTC), datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),  # Saturday
    (datetime(2026, 12, 24, 18, 0, tzinfo=UTC), datetime(2026, 12, 29, 9, 0, tzinfo=UTC)),  # Christmas, Boxing Day observed
    (datetime(2026, 4, 3, 10, 0, tzinfo=UTC), datetime(2026, 4, 7, 8, 0, tzinfo=UTC)),  # Good Friday to after Easter Monday (BST)
    (datetime(2026, 3, 27, 18, 0, tzinfo=UTC), datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),  # clocks go forward on the 29th
    (datetime(2026, 10, 23, 17, 0, tzinfo=UTC), datetime(2026, 10, 26, 9, 0, tzinfo=UTC)),  # clocks go back on the 25th
    (datetime(2026, 11, 23, 7, 0, tzinfo=UTC), datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),  # early morning, same day
    (datetime(2026, 11, 23, 12, 0, tzinfo=UTC), datetime(2026, 11, 23, 12, 0, tzinfo=UTC)),  # working time: now
    (datetime(2026, 7, 1, 16, 45, tzinfo=UTC), datetime(2026, 7, 2, 8, 0, tzinfo=UTC)),  # 17:45 BST is after hours
])
def test_next_working_slot(moment, slot):
    assert hours.next_slot(moment) == slot


def test_always_has_no_quiet_hours():
    always = WorkingHours.from_settings(Settings(CYSWLLT_WORKING_HOURS="always"))
    assert always.is_working_time(datetime(2026, 12, 25, 23, 0, tzinfo=UTC))
