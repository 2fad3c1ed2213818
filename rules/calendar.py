"""Business time: weekly local windows, closed dates, and arithmetic on aware datetimes.

A calendar's windows are built per local date (so 23- and 25-hour days need no special case)
and turned into UTC instants; arithmetic then runs on integer microseconds since the epoch.
For each local year the calendar keeps its windows in order with the running total of
business time at each window's end, so adding a budget or measuring between two instants
is two binary searches instead of a walk over days.

Conventions (SPEC §5):
- windows are half-open: 08:00 is business time, 18:00 is not;
- a budget that runs out exactly at closing time ends at closing time;
- "N business days" starts at the next business instant and ends at the same local time on
  the N-th business day after; when that is the opening time, at the previous close instead;
- "end of day" is the closing time of the N-th business day after the event's local date;
- pauses (UTC intervals) are subtracted from business time wherever given.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from threading import Lock
from zoneinfo import ZoneInfo

import holidays as holidays_package

UTC = UTC
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
DAY = timedelta(days=1)
# Searching for the next business day gives up after this many days (a calendar without any
# window would otherwise loop for ever).
MAX_SEARCH_DAYS = 3660

Pause = tuple[datetime, datetime]


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone was given where an instant is needed."""


class CalendarConfigError(ValueError):
    """The calendar configuration is not valid."""


def _us(t: datetime) -> int:
    if t.tzinfo is None or t.utcoffset() is None:
        raise NaiveDatetimeError(f"{t.isoformat()} has no time zone; give an aware datetime")
    return (t - EPOCH) // ONE_US


@dataclass
class _Year:
    """One local year of windows as UTC microseconds, with business time up to each window's end."""

    starts: list[int]
    ends: list[int]
    cum_ends: list[int]  # business time from the year's first window start to each window's end

    @property
    def total(self) -> int:
        return self.cum_ends[-1] if self.cum_ends else 0

    def before(self, us: int) -> int:
        """Business time in this year up to instant `us`."""
        i = bisect_right(self.starts, us) - 1
        if i < 0:
            return 0
        done = self.cum_ends[i - 1] if i > 0 else 0
        return done + min(us, self.ends[i]) - self.starts[i]


@dataclass(eq=False)
class Calendar:
    """Weekly local windows in a time zone, minus closed dates."""

    name: str
    zone: ZoneInfo
    weekly: tuple[tuple[tuple[int, int], ...], ...]  # per weekday (Monday first), minutes after midnight
    closed_holidays: frozenset[str] = frozenset()
    holiday_country: str | None = None
    closed_extra: frozenset[date] = frozenset()
    _years: dict[int, _Year] = field(default_factory=dict, repr=False)
    _closed: dict[int, frozenset[date]] = field(default_factory=dict, repr=False)
    _lock: Lock = field(default_factory=Lock, repr=False)

    # -- closed dates and windows -------------------------------------------------------

    def closed_dates(self, year: int) -> list[date]:
        """The dates of `year` closed for holidays (weekends without windows are not listed)."""
        return sorted(self._closed_in(year))

    def closed_days(self, year: int) -> list[tuple[date, str | None]]:
        """The closed dates of `year` with the name of the holiday each is (the `holidays` package's
        English name, as `closed_holidays` lists it); None for a date of `closed_dates`."""
        named = country_holidays(self.holiday_country, year) if self.holiday_country else {}
        result = []
        for day in self.closed_dates(year):
            parts = [part.strip() for part in named.get(day, "").split(";")]
            result.append((day, next((part for part in parts if part in self.closed_holidays), None)))
        return result

    def always_open(self, year: int) -> bool:
        """True when every hour of every day of `year` is business time (a 24x7 calendar)."""
        return all(windows == ((0, 24 * 60),) for windows in self.weekly) and not self._closed_in(year)

    def _closed_in(self, year: int) -> frozenset[date]:
        closed = self._closed.get(year)
        if closed is None:
            found = {d for d in self.closed_extra if d.year == year}
            if self.holiday_country:
                for day, name in country_holidays(self.holiday_country, year).items():
                    if any(part.strip() in self.closed_holidays for part in name.split(";")):
                        found.add(day)
            closed = self._closed[year] = frozenset(found)
        return closed

    def is_business_day(self, day: date) -> bool:
        """True when `day` has a window and is not closed."""
        return bool(self.weekly[day.weekday()]) and day not in self._closed_in(day.year)

    def _local_windows(self, day: date) -> list[tuple[int, int]]:
        """The windows of one local date as UTC microseconds."""
        if not self.is_business_day(day):
            return []
        midnight = datetime.combine(day, time(0))
        result = []
        for start, end in self.weekly[day.weekday()]:
            result.append((self._local_us(midnight, start), self._local_us(midnight, end)))
        return result

    def _local_us(self, midnight: datetime, minutes: int) -> int:
        # Build the wall-clock time of that date in the zone, then convert: a window edge in a
        # skipped hour (none of the shipped calendars has one) takes zoneinfo's fold=0 reading.
        wall = midnight + timedelta(minutes=minutes)
        return _us(wall.replace(tzinfo=self.zone))

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._years.get(year)
            if cached is None:
                starts, ends, cum = [], [], []
                total = 0
                day = date(year, 1, 1)
                while day.year == year:
                    for start, end in self._local_windows(day):
                        total += end - start
                        starts.append(start)
                        ends.append(end)
                        cum.append(total)
                    day += DAY
                cached = self._years[year] = _Year(starts, ends, cum)
        return cached

    def _year_of(self, us: int) -> int:
        return (EPOCH + timedelta(microseconds=us)).astimezone(self.zone).year

    def _out(self, us: int) -> datetime:
        return (EPOCH + timedelta(microseconds=us)).astimezone(self.zone)

    # -- without pauses -------------------------------------------------------------

    def _between(self, a: int, b: int) -> int:
        ya, yb = self._year_of(a), self._year_of(b)
        if ya == yb:
            year = self._year(ya)
            return year.before(b) - year.before(a)
        total = self._year(ya).total - self._year(ya).before(a)
        for y in range(ya + 1, yb):
            total += self._year(y).total
        return total + self._year(yb).before(b)

    def _add(self, start: int, amount: int) -> int:
        if amount == 0:
            return start
        y = self._year_of(start)
        year = self._year(y)
        target = year.before(start) + amount
        for _ in range(MAX_SEARCH_DAYS):
            if target <= year.total:
                # The first window whose running total reaches the target: a budget that ends
                # exactly at a window's end ends there (closing time), not at the next opening.
                i = bisect_left(year.cum_ends, target)
                return year.ends[i] - (year.cum_ends[i] - target)
            target -= year.total
            y += 1
            year = self._year(y)
        raise CalendarConfigError(f"calendar {self.name} has no business time to add {amount} µs to")

    def _next_start(self, us: int) -> int:
        """`us` if it is business time, else the next window start."""
        y = self._year_of(us)
        for _ in range(MAX_SEARCH_DAYS // 365 + 2):
            year = self._year(y)
            i = bisect_right(year.starts, us) - 1
            if i >= 0 and us < year.ends[i]:
                return us
            if i + 1 < len(year.starts):
                return year.starts[i + 1]
            y += 1
        raise CalendarConfigError(f"calendar {self.name} has no business time after {self._out(us).isoformat()}")

    # -- public ------------------------------------------------------------------------

    def is_business_time(self, t: datetime) -> bool:
        """True when `t` lies inside a window (windows include their start, not their end)."""
        us = _us(t)
        return self._next_start(us) == us

    def next_business_instant(self, t: datetime) -> datetime:
        """`t` itself if it is business time, else the next opening."""
        return self._out(self._next_start(_us(t)))

    def business_time_between(self, a: datetime, b: datetime, pauses: Sequence[Pause] = ()) -> timedelta:
        """Business time from `a` to `b`, minus the business time inside `pauses`."""
        ua, ub = _us(a), _us(b)
        if ub < ua:
            raise ValueError(f"end {b.isoformat()} is before start {a.isoformat()}")
        total = self._between(ua, ub)
        for ps, pe in _merged(pauses):
            lo, hi = max(ps, ua), min(pe, ub)
            if lo < hi:
                total -= self._between(lo, hi)
        return timedelta(microseconds=total)

    def add_business_time(self, start: datetime, duration: timedelta, pauses: Sequence[Pause] = ()) -> datetime:
        """The instant at which `duration` of business time after `start` is used up.

        A start outside the windows counts from the next opening; business time inside
        `pauses` is not counted. A zero duration gives `start` itself.
        """
        cursor = _us(start)
        remaining = duration // ONE_US
        if remaining < 0:
            raise ValueError(f"duration {duration} is negative")
        if remaining == 0:
            return start.astimezone(self.zone)
        for ps, pe in _merged(pauses):
            if pe <= cursor:
                continue
            due = self._add(cursor, remaining)
            if ps >= due:
                break
            if ps > cursor:
                remaining -= self._between(cursor, ps)
            cursor = max(cursor, pe)
        return self._out(self._add(cursor, remaining))

    def add_business_days(self, start: datetime, n: int, *, end_of_day: bool = False) -> datetime:
        """`n` business days after `start` (SPEC §5).

        Without `end_of_day`: from the next business instant, the same local time on the n-th
        business day after; at opening time that is the previous business day's close.
        With `end_of_day`: the close of the n-th business day after `start`'s local date.
        """
        if n < 0:
            raise ValueError(f"{n} business days is negative")
        _us(start)
        if end_of_day:
            day = start.astimezone(self.zone).date()
            day = self._nth_business_day(day, n) if n else self._business_day_on_or_after(day)
            return self._close_of(day)
        begin = self.next_business_instant(start)
        local = begin.astimezone(self.zone)
        if n == 0:
            return local
        day = self._nth_business_day(local.date(), n)
        opening_us = self._local_windows(day)[0][0]
        due_us = _us(datetime.combine(day, local.time()).replace(tzinfo=self.zone))
        if due_us <= opening_us:
            return self._close_of(self._previous_business_day(day))
        return self._out(min(due_us, self._local_windows(day)[-1][1]))

    # -- day helpers -----------------------------------------------------------------------

    def _nth_business_day(self, day: date, n: int) -> date:
        for _ in range(MAX_SEARCH_DAYS):
            day += DAY
            if self.is_business_day(day):
                n -= 1
                if n == 0:
                    return day
        raise CalendarConfigError(f"calendar {self.name} has too few business days")

    def _business_day_on_or_after(self, day: date) -> date:
        return day if self.is_business_day(day) else self._nth_business_day(day, 1)

    def _previous_business_day(self, day: date) -> date:
        for _ in range(MAX_SEARCH_DAYS):
            day -= DAY
            if self.is_business_day(day):
                return day
        raise CalendarConfigError(f"calendar {self.name} has too few business days")

    def _close_of(self, day: date) -> datetime:
        return self._out(self._local_windows(day)[-1][1])


def _merged(pauses: Iterable[Pause]) -> list[tuple[int, int]]:
    """Pauses as sorted, non-overlapping microsecond intervals."""
    spans = sorted((_us(s), _us(e)) for s, e in pauses)
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


@cache
def country_holidays(country: str, year: int) -> dict[date, str]:
    """The holidays of `country` in `year` by date, with their English names."""
    return dict(holidays_package.country_holidays(country, years=year, language="en_US"))
