"""Property tests: the calendar's arithmetic against a minute-by-minute oracle.

The oracle walks UTC minutes one at a time and asks, for each, whether its local wall-clock
minute lies in an office window on a business day. It uses only zoneinfo (for the UTC
offset), the weekday, and the hand-written closed dates of test_closed_dates.py, so it is
obviously right, if slow. Starts are whole UTC minutes over 2024–2032 and budgets whole
minutes from 1 minute to 40 office hours, so the oracle's minute grain is exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.profiles import examples
from tests.rules.test_closed_dates import CLOSED_BY_CALENDAR
from tests.shipped import get_calendar

UTC = UTC
AMS = ZoneInfo("Europe/Amsterdam")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MINUTE = timedelta(minutes=1)

# Office windows in local minutes after midnight, Monday to Friday (SPEC §5).
WINDOWS = {"iot-office": (8 * 60, 18 * 60), "partner-office": (9 * 60, 17 * 60)}
OFFICE = list(WINDOWS)

# Starts from 2024-01-01T00:00Z up to mid-December 2032: a 40-office-hour budget from there
# stays inside 2032 plus the first days of 2033, which the closed-date table below covers.
FIRST = int((datetime(2024, 1, 1, tzinfo=UTC) - EPOCH) / MINUTE)
LAST = int((datetime(2032, 12, 15, tzinfo=UTC) - EPOCH) / MINUTE)
MAX_BUDGET = 40 * 60
# 2033 is needed only for its first days: 1 January 2033 (a Saturday) is New Year's Day.
EXTRA_CLOSED = {date(2033, 1, 1)}

SETTINGS = settings(max_examples=examples(300), deadline=None)


# -- the oracle -----------------------------------------------------------------------------


@cache
def _offset_minutes(utc_hour: int) -> int:
    # Amsterdam's offset changes only on whole UTC hours (01:00Z), so one lookup per UTC hour
    # is exact; test_oracle_offsets_per_hour_are_exact checks it on both 2026 change days.
    instant = EPOCH + timedelta(hours=utc_hour)
    return int(instant.astimezone(AMS).utcoffset() / MINUTE)


@cache
def _closed_ordinals(name: str) -> frozenset[int]:
    days = {d for year_list in CLOSED_BY_CALENDAR[name].values() for d in year_list} | EXTRA_CLOSED
    return frozenset(d.toordinal() for d in days)


def oracle_open(name: str, utc_minute: int) -> bool:
    """True when the minute starting at `utc_minute` (minutes since the epoch, UTC) is office time."""
    local = utc_minute + _offset_minutes(utc_minute // 60)  # local wall-clock minutes since epoch
    day, minute_of_day = divmod(local, 24 * 60)
    ordinal = EPOCH_ORDINAL + day
    assert ordinal < date(2033, 1, 15).toordinal(), "oracle walked past its closed-date table"
    weekday = date.fromordinal(ordinal).weekday()
    opening, closing = WINDOWS[name]
    return weekday < 5 and opening <= minute_of_day < closing and ordinal not in _closed_ordinals(name)


def oracle_add(name: str, start: int, budget: int, pause: tuple[int, int] | None = None) -> int:
    """The UTC minute at which `budget` office minutes after `start` are used up (budget > 0):
    the end of the budget-th counted minute, so a budget ending at closing time ends there."""
    t = start
    while True:
        counted = oracle_open(name, t) and not (pause and pause[0] <= t < pause[1])
        t += 1
        if counted:
            budget -= 1
            if budget == 0:
                return t


def oracle_between(name: str, a: int, b: int, pause: tuple[int, int] | None = None) -> int:
    """Office minutes in [a, b), not counting those inside `pause`."""
    return sum(1 for t in range(a, b) if oracle_open(name, t) and not (pause and pause[0] <= t < pause[1]))


def instant(utc_minute: int) -> datetime:
    """An aware datetime for a UTC minute, shown in Amsterdam as the bot would pass it."""
    return (EPOCH + utc_minute * MINUTE).astimezone(AMS)


def minutes_of(t: datetime) -> int:
    """A result back to UTC minutes; results must be whole minutes here."""
    delta = t.astimezone(UTC) - EPOCH
    assert delta % MINUTE == timedelta(0), t
    return int(delta / MINUTE)


starts = st.integers(min_value=FIRST, max_value=LAST)
budgets = st.integers(min_value=1, max_value=MAX_BUDGET)
calendar_names = st.sampled_from(OFFICE)


def test_oracle_offsets_per_hour_are_exact() -> None:
    # The oracle's per-UTC-hour offset must agree with zoneinfo for every minute of the two
    # 2026 change days (and the hours around them).
    for day in (datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 10, 24, 12, tzinfo=UTC)):
        for i in range(36 * 60):
            t = day + i * MINUTE
            m = int((t - EPOCH) / MINUTE)
            assert _offset_minutes(m // 60) == int(t.astimezone(AMS).utcoffset() / MINUTE)


def test_oracle_on_the_friday_case() -> None:
    # The oracle itself must give SPEC's example: Fri 17:00 + 16 office hours = Tue 13:00.
    start = minutes_of(datetime(2026, 1, 9, 17, tzinfo=AMS))
    assert instant(oracle_add("iot-office", start, 16 * 60)) == datetime(2026, 1, 13, 13, tzinfo=AMS)


# -- properties -----------------------------------------------------------------------------


@SETTINGS
@given(name=calendar_names, start=starts, budget=budgets)
def test_add_business_time_matches_the_oracle(name: str, start: int, budget: int) -> None:
    got = get_calendar(name).add_business_time(instant(start), budget * MINUTE)
    assert minutes_of(got) == oracle_add(name, start, budget), (instant(start), budget)


@SETTINGS
@given(
    name=calendar_names,
    start=starts,
    budget=budgets,
    pause_from=st.integers(min_value=-3 * 24 * 60, max_value=7 * 24 * 60),
    pause_length=st.integers(min_value=1, max_value=4 * 24 * 60),
)
def test_add_business_time_with_a_pause_matches_the_oracle(
    name: str, start: int, budget: int, pause_from: int, pause_length: int
) -> None:
    pause = (start + pause_from, start + pause_from + pause_length)
    got = get_calendar(name).add_business_time(
        instant(start), budget * MINUTE, [(instant(pause[0]), instant(pause[1]))]
    )
    assert minutes_of(got) == oracle_add(name, start, budget, pause), (instant(start), budget, pause)


@SETTINGS
@given(name=calendar_names, a=starts, span=st.integers(min_value=0, max_value=14 * 24 * 60))
def test_business_time_between_matches_the_oracle(name: str, a: int, span: int) -> None:
    got = get_calendar(name).business_time_between(instant(a), instant(a + span))
    assert got == oracle_between(name, a, a + span) * MINUTE, (instant(a), span)


@SETTINGS
@given(
    name=calendar_names,
    a=starts,
    span=st.integers(min_value=0, max_value=10 * 24 * 60),
    pause_from=st.integers(min_value=-2 * 24 * 60, max_value=10 * 24 * 60),
    pause_length=st.integers(min_value=1, max_value=4 * 24 * 60),
)
def test_business_time_between_with_a_pause_matches_the_oracle(
    name: str, a: int, span: int, pause_from: int, pause_length: int
) -> None:
    pause = (a + pause_from, a + pause_from + pause_length)
    got = get_calendar(name).business_time_between(
        instant(a), instant(a + span), [(instant(pause[0]), instant(pause[1]))]
    )
    assert got == oracle_between(name, a, a + span, pause) * MINUTE


@SETTINGS
@given(
    name=calendar_names,
    b=starts,
    into=st.integers(min_value=1, max_value=420),
    back=st.integers(min_value=1, max_value=14 * 24 * 60),
)
def test_adding_the_time_between_gives_back_the_end(name: str, b: int, into: int, back: int) -> None:
    # Holds when b is business time and not an opening instant: at an opening, the same
    # amount of business time was already used up at the previous close, which is where the
    # closing-time convention puts the deadline (checked separately below). b is drawn
    # inside a window (some minutes after an opening) so few draws are thrown away.
    cal = get_calendar(name)
    b = minutes_of(cal.next_business_instant(instant(b))) + into
    a = b - back
    assume(oracle_open(name, b) and oracle_open(name, b - 1))
    between = cal.business_time_between(instant(a), instant(b))
    assert between > timedelta(0)
    assert cal.add_business_time(instant(a), between).astimezone(UTC) == instant(b).astimezone(UTC)


@SETTINGS
@given(name=calendar_names, b=starts, back=st.integers(min_value=1, max_value=14 * 24 * 60))
def test_adding_the_time_between_to_an_opening_gives_the_previous_close(name: str, b: int, back: int) -> None:
    # b moved to the next opening: the round trip lands on the last closing time before b
    # (when any business time lies between a and b).
    cal = get_calendar(name)
    opening = minutes_of(cal.next_business_instant(instant(b)))
    assume(not oracle_open(name, opening - 1))
    a = opening - back
    between = cal.business_time_between(instant(a), instant(opening))
    assume(between > timedelta(0))
    previous_close = opening - 1
    while not oracle_open(name, previous_close - 1):
        previous_close -= 1
    assert minutes_of(cal.add_business_time(instant(a), between)) == previous_close


@SETTINGS
@given(name=calendar_names, start=starts, budget=budgets)
def test_between_the_start_and_the_deadline_is_the_budget(name: str, start: int, budget: int) -> None:
    cal = get_calendar(name)
    due = cal.add_business_time(instant(start), budget * MINUTE)
    assert cal.business_time_between(instant(start), due) == budget * MINUTE


@SETTINGS
@given(start=starts, budget=st.integers(min_value=0, max_value=7 * 24 * 60))
def test_24x7_adds_elapsed_time(start: int, budget: int) -> None:
    cal = get_calendar("24x7")
    due = cal.add_business_time(instant(start), budget * MINUTE)
    assert minutes_of(due) == start + budget
    assert cal.business_time_between(instant(start), due) == budget * MINUTE


@pytest.mark.sweep
@pytest.mark.parametrize("name", OFFICE)
def test_every_minute_of_the_change_weeks_matches_the_oracle(name: str) -> None:
    # Deterministic sweep over the 2026 DST weeks and Christmas week, one start per 10 minutes
    # (openings and closings included), against a 2-office-hour budget.
    cal = get_calendar(name)
    for first in (
        datetime(2026, 3, 26, tzinfo=AMS),
        datetime(2026, 10, 22, tzinfo=AMS),
        datetime(2026, 12, 23, tzinfo=AMS),
    ):
        base = minutes_of(first)
        for step in range(0, 5 * 24 * 60, 10):
            start = base + step
            assert minutes_of(cal.add_business_time(instant(start), 120 * MINUTE)) == oracle_add(name, start, 120)
            assert cal.is_business_time(instant(start)) == oracle_open(name, start)
