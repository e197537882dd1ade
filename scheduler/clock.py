"""Working hours: when a message may arrive. Weekdays, 09:00–17:30 by default, in
CYSWLLT_TIMEZONE, never on an England-and-Wales bank holiday."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    # Wales keeps England's bank holidays, substitute days included.
    return frozenset(holidays.country_holidays("GB", subdiv="WLS", years=[year]))


@dataclass(frozen=True)
class WorkingHours:
    timezone: ZoneInfo
    start: time = time(9, 0)
    end: time = time(17, 30)
    days: frozenset[int] = frozenset(range(5))  # Monday..Friday
    always: bool = False  # CYSWLLT_WORKING_HOURS=always: no quiet hours at all

    @classmethod
    def from_settings(cls, settings) -> WorkingHours:
        zone = ZoneInfo(settings.timezone)
        if settings.working_hours.strip().lower() == "always":
            return cls(zone, always=True)
        start, _, end = settings.working_hours.partition("-")
        return cls(zone, _parse(start), _parse(end), _days(settings.working_days))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in _bank_holidays(day.year)

    def is_working_time(self, moment: datetime) -> bool:
        if self.always:
            return True
        local = moment.astimezone(self.timezone)
        if not self.is_working_day(local.date()):
            return False
        now = local.time().replace(tzinfo=None)
        if self.end == time(0, 0):  # "…-24:00": until midnight
            return now >= self.start
        return self.start <= now < self.end

    def next_slot(self, moment: datetime) -> datetime:
        """``moment`` if it is in working hours, else the start of the next working period."""
        if self.is_working_time(moment):
            return moment
        local = moment.astimezone(self.timezone)
        day = local.date()
        if self.is_working_day(day) and local.time().replace(tzinfo=None) < self.start:
            return datetime.combine(day, self.start, self.timezone)
        day += timedelta(days=1)
        for _ in range(30):
            if self.is_working_day(day):
                return datetime.combine(day, self.start, self.timezone)
            day += timedelta(days=1)
        return moment  # no working day within a month: deliver rather than hold forever


def _parse(value: str) -> time:
    value = value.strip()
    if value in ("24:00", "24"):
        return time(0, 0)
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


_DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _days(spec: str) -> frozenset[int]:
    days: set[int] = set()
    for part in spec.lower().split(","):
        first, _, last = part.strip().partition("-")
        a = _DAY_NAMES.index(first[:3])
        b = _DAY_NAMES.index(last[:3]) if last else a
        days.update(range(a, b + 1))
    return frozenset(days)
