"""Closed dates of the shipped calendars for 2024–2032, written out by hand (SPEC §5).

The expected lists are literal dates, worked out from the Easter dates (Easter Monday = +1,
Ascension = +39, Whit Sunday = +49, Whit Monday = +50) and the King's Day rule (27 April;
26 April when the 27th is a Sunday). They are deliberately not computed, and not taken from
the `holidays` package: the point is to catch a package update or a configuration slip that
silently opens or closes a day. test_business_time_properties.py imports them for its oracle.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.shipped import get_calendar

D = date

# Easter Sunday per year, for the reader checking the lists below:
# 2024-03-31, 2025-04-20, 2026-04-05, 2027-03-28, 2028-04-16, 2029-04-01, 2030-04-21,
# 2031-04-13, 2032-03-28.
#
# Per year: New Year, Easter Sunday, Easter Monday, King's Day, Ascension (a Thursday),
# Whit Sunday, Whit Monday, Christmas Day, Boxing Day.
IOT_OFFICE_CLOSED: dict[int, list[date]] = {
    # King's Day on Saturday 27 April stays there (only a Sunday moves it).
    2024: [
        D(2024, 1, 1),
        D(2024, 3, 31),
        D(2024, 4, 1),
        D(2024, 4, 27),
        D(2024, 5, 9),
        D(2024, 5, 19),
        D(2024, 5, 20),
        D(2024, 12, 25),
        D(2024, 12, 26),
    ],
    # 27 April is a Sunday: King's Day is Saturday 26 April.
    2025: [
        D(2025, 1, 1),
        D(2025, 4, 20),
        D(2025, 4, 21),
        D(2025, 4, 26),
        D(2025, 5, 29),
        D(2025, 6, 8),
        D(2025, 6, 9),
        D(2025, 12, 25),
        D(2025, 12, 26),
    ],
    2026: [
        D(2026, 1, 1),
        D(2026, 4, 5),
        D(2026, 4, 6),
        D(2026, 4, 27),
        D(2026, 5, 14),
        D(2026, 5, 24),
        D(2026, 5, 25),
        D(2026, 12, 25),
        D(2026, 12, 26),
    ],
    # Easter in March: Easter Monday 29 March, Ascension 6 May.
    2027: [
        D(2027, 1, 1),
        D(2027, 3, 28),
        D(2027, 3, 29),
        D(2027, 4, 27),
        D(2027, 5, 6),
        D(2027, 5, 16),
        D(2027, 5, 17),
        D(2027, 12, 25),
        D(2027, 12, 26),
    ],
    # Whitsun in June.
    2028: [
        D(2028, 1, 1),
        D(2028, 4, 16),
        D(2028, 4, 17),
        D(2028, 4, 27),
        D(2028, 5, 25),
        D(2028, 6, 4),
        D(2028, 6, 5),
        D(2028, 12, 25),
        D(2028, 12, 26),
    ],
    2029: [
        D(2029, 1, 1),
        D(2029, 4, 1),
        D(2029, 4, 2),
        D(2029, 4, 27),
        D(2029, 5, 10),
        D(2029, 5, 20),
        D(2029, 5, 21),
        D(2029, 12, 25),
        D(2029, 12, 26),
    ],
    # King's Day on Saturday 27 April stays there.
    2030: [
        D(2030, 1, 1),
        D(2030, 4, 21),
        D(2030, 4, 22),
        D(2030, 4, 27),
        D(2030, 5, 30),
        D(2030, 6, 9),
        D(2030, 6, 10),
        D(2030, 12, 25),
        D(2030, 12, 26),
    ],
    # 27 April is a Sunday: King's Day is Saturday 26 April.
    2031: [
        D(2031, 1, 1),
        D(2031, 4, 13),
        D(2031, 4, 14),
        D(2031, 4, 26),
        D(2031, 5, 22),
        D(2031, 6, 1),
        D(2031, 6, 2),
        D(2031, 12, 25),
        D(2031, 12, 26),
    ],
    # Same Easter as 2027 (leap year, which changes nothing after February).
    2032: [
        D(2032, 1, 1),
        D(2032, 3, 28),
        D(2032, 3, 29),
        D(2032, 4, 27),
        D(2032, 5, 6),
        D(2032, 5, 16),
        D(2032, 5, 17),
        D(2032, 12, 25),
        D(2032, 12, 26),
    ],
}

# partner-office: the same, plus Liberation Day (5 May) in the lustrum years only.
PARTNER_OFFICE_CLOSED: dict[int, list[date]] = {
    2024: IOT_OFFICE_CLOSED[2024],
    # 5 May 2025 is a Monday.
    2025: [
        D(2025, 1, 1),
        D(2025, 4, 20),
        D(2025, 4, 21),
        D(2025, 4, 26),
        D(2025, 5, 5),
        D(2025, 5, 29),
        D(2025, 6, 8),
        D(2025, 6, 9),
        D(2025, 12, 25),
        D(2025, 12, 26),
    ],
    2026: IOT_OFFICE_CLOSED[2026],
    2027: IOT_OFFICE_CLOSED[2027],
    2028: IOT_OFFICE_CLOSED[2028],
    2029: IOT_OFFICE_CLOSED[2029],
    # 5 May 2030 is a Sunday, but it is still the holiday (listed, like Easter Sunday).
    2030: [
        D(2030, 1, 1),
        D(2030, 4, 21),
        D(2030, 4, 22),
        D(2030, 4, 27),
        D(2030, 5, 5),
        D(2030, 5, 30),
        D(2030, 6, 9),
        D(2030, 6, 10),
        D(2030, 12, 25),
        D(2030, 12, 26),
    ],
    2031: IOT_OFFICE_CLOSED[2031],
    2032: IOT_OFFICE_CLOSED[2032],
}

CLOSED_BY_CALENDAR: dict[str, dict[int, list[date]]] = {
    "iot-office": IOT_OFFICE_CLOSED,
    "partner-office": PARTNER_OFFICE_CLOSED,
}

# Good Friday per year: a business day in both office calendars (the guide does not list it).
GOOD_FRIDAYS = [
    D(2024, 3, 29),
    D(2025, 4, 18),
    D(2026, 4, 3),
    D(2027, 3, 26),
    D(2028, 4, 14),
    D(2029, 3, 30),
    D(2030, 4, 19),
    D(2031, 4, 11),
    D(2032, 3, 26),
]

YEARS = range(2024, 2033)


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("name", ["iot-office", "partner-office"])
def test_closed_dates_match_the_hand_written_list(name: str, year: int) -> None:
    assert get_calendar(name).closed_dates(year) == CLOSED_BY_CALENDAR[name][year]


@pytest.mark.parametrize("name", ["iot-office", "partner-office"])
def test_hand_written_lists_are_sane(name: str) -> None:
    # Guards against typos in the literals: Ascension is always a Thursday, Whit Monday and
    # Easter Monday are Mondays, and every list is sorted and within its year.
    for year, closed in CLOSED_BY_CALENDAR[name].items():
        assert closed == sorted(closed) and all(d.year == year for d in closed)
        easter_sunday, easter_monday = closed[1], closed[2]
        assert easter_sunday.weekday() == 6 and easter_monday.weekday() == 0
        assert sum(1 for d in closed if d.weekday() == 3 and d.month in (5, 6)) == 1


@pytest.mark.parametrize("name", ["iot-office", "partner-office"])
@pytest.mark.parametrize("good_friday", GOOD_FRIDAYS)
def test_good_friday_is_a_business_day(name: str, good_friday: date) -> None:
    cal = get_calendar(name)
    assert good_friday.weekday() == 4
    assert cal.is_business_day(good_friday)
    assert good_friday not in cal.closed_dates(good_friday.year)


@pytest.mark.parametrize("year", YEARS)
def test_24x7_has_no_closed_dates(year: int) -> None:
    cal = get_calendar("24x7")
    assert cal.closed_dates(year) == []
    # Every day is a business day, holidays and weekends included.
    for d in IOT_OFFICE_CLOSED[year] + [D(year, 5, 5), D(year, 1, 3), D(year, 1, 4)]:
        assert cal.is_business_day(d)


@pytest.mark.parametrize("year", YEARS)
def test_liberation_day_only_closes_partner_office_in_lustrum_years(year: int) -> None:
    liberation = D(year, 5, 5)
    assert liberation not in get_calendar("iot-office").closed_dates(year)
    assert (liberation in get_calendar("partner-office").closed_dates(year)) == (year in (2025, 2030))


@pytest.mark.parametrize("name", ["iot-office", "partner-office"])
def test_is_business_day_agrees_with_closed_dates_and_weekends(name: str) -> None:
    cal = get_calendar(name)
    for year in YEARS:
        closed = set(CLOSED_BY_CALENDAR[name][year])
        day = D(year, 1, 1)
        while day.year == year:
            assert cal.is_business_day(day) == (day.weekday() < 5 and day not in closed), day
            day = D.fromordinal(day.toordinal() + 1)


def test_calendar_names_and_zone() -> None:
    for name in ("iot-office", "partner-office", "24x7"):
        cal = get_calendar(name)
        assert cal.name == name
        assert cal.zone.key == "Europe/Amsterdam"
    with pytest.raises(KeyError):
        get_calendar("no-such-calendar")
