"""Hand-checked business-time cases for the shipped calendars (SPEC §5 conventions).

Every expected instant is written out with its UTC offset, with a one-line reason. Inputs are
aware datetimes; results must be the same instant (== compares instants) and be expressed in
Europe/Amsterdam.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules.calendar import NaiveDatetimeError
from tests.shipped import get_calendar

AMS = ZoneInfo("Europe/Amsterdam")
UTC = UTC
H = timedelta(hours=1)
M = timedelta(minutes=1)


def t(text: str) -> datetime:
    """An ISO 8601 instant with an explicit offset (so no case depends on zone guessing)."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, text
    return value


def assert_instant(result: datetime, expected: str) -> None:
    """Same instant as `expected`, and shown in Europe/Amsterdam with the offset written there."""
    want = t(expected)
    # Compared in UTC: PEP 495 makes `==` between zones False for any time in the repeated
    # autumn hour (fold), even when both denote the same instant.
    assert result.astimezone(UTC) == want.astimezone(UTC), f"{result.isoformat()} != {expected}"
    assert result.utcoffset() == want.utcoffset(), f"{result.isoformat()} is not in the local offset of {expected}"
    assert getattr(result.tzinfo, "key", None) == "Europe/Amsterdam", result.tzinfo


iot = get_calendar("iot-office")
partner = get_calendar("partner-office")
always = get_calendar("24x7")


# -- add_business_time -----------------------------------------------------------------

ADD_CASES = [
    # (calendar, start, duration, expected, why)
    (iot, "2026-01-09T17:00+01:00", 16 * H, "2026-01-13T13:00+01:00", "Fri 1h + Mon 10h + Tue 5h"),
    (iot, "2026-01-09T16:00+00:00", 16 * H, "2026-01-13T13:00+01:00", "same as above, start given in UTC"),
    (iot, "2026-01-09T17:00+01:00", 2 * H, "2026-01-12T09:00+01:00", "Fri 1h, weekend skipped, Mon 1h"),
    (iot, "2026-01-12T10:00+01:00", timedelta(0), "2026-01-12T10:00+01:00", "zero budget is the start itself"),
    (
        iot,
        "2026-01-10T10:00+01:00",
        timedelta(0),
        "2026-01-10T10:00+01:00",
        "zero budget is the start itself, even outside office hours",
    ),
    # -- start outside windows and at the edges
    (iot, "2026-01-10T10:00+01:00", 2 * H, "2026-01-12T10:00+01:00", "Saturday start counts from Monday 08:00"),
    (
        iot,
        "2026-01-12T18:00+01:00",
        1 * H,
        "2026-01-13T09:00+01:00",
        "18:00 is closed (half-open window): counts from Tuesday 08:00",
    ),
    (iot, "2026-01-09T18:00+01:00", 1 * H, "2026-01-12T09:00+01:00", "Friday 18:00 counts from Monday 08:00"),
    (iot, "2026-01-12T07:59+01:00", 1 * H, "2026-01-12T09:00+01:00", "07:59 counts from 08:00"),
    (iot, "2026-01-12T08:00+01:00", 1 * M, "2026-01-12T08:01+01:00", "08:00 is business time"),
    (iot, "2026-01-12T17:59+01:00", 1 * M, "2026-01-12T18:00+01:00", "last minute of the day ends at closing time"),
    # -- budget ending exactly at closing time
    (
        iot,
        "2026-01-12T16:00+01:00",
        2 * H,
        "2026-01-12T18:00+01:00",
        "runs out at 18:00: closing time, not Tuesday 08:00",
    ),
    (
        iot,
        "2026-01-09T08:00+01:00",
        10 * H,
        "2026-01-09T18:00+01:00",
        "one full day from opening ends at Friday's close, not Monday's opening",
    ),
    (iot, "2026-01-09T17:00+01:00", 11 * H, "2026-01-12T18:00+01:00", "Fri 1h + Mon 10h ends at Monday's close"),
    (partner, "2026-01-12T13:00+01:00", 4 * H, "2026-01-12T17:00+01:00", "partner-office closes at 17:00"),
    (partner, "2026-01-09T17:00+01:00", 4 * H, "2026-01-12T13:00+01:00", "partner-office opens at 09:00"),
    (partner, "2026-01-09T16:00+01:00", 8 * H, "2026-01-12T16:00+01:00", "partner Fri 1h + Mon 7h"),
    # -- DST: last Sunday of March (29 March 2026) and of October (25 October 2026)
    (
        iot,
        "2026-03-27T17:00+01:00",
        2 * H,
        "2026-03-30T09:00+02:00",
        "office hours across spring-forward: Fri 1h (CET) + Mon 1h (CEST)",
    ),
    (
        iot,
        "2026-03-27T17:00+01:00",
        16 * H,
        "2026-03-31T13:00+02:00",
        "16 office hours across spring-forward: the lost hour was at night",
    ),
    (
        iot,
        "2026-10-23T17:00+02:00",
        2 * H,
        "2026-10-26T09:00+01:00",
        "office hours across fall-back: Fri 1h (CEST) + Mon 1h (CET)",
    ),
    (
        iot,
        "2026-10-23T17:00+02:00",
        16 * H,
        "2026-10-27T13:00+01:00",
        "16 office hours across fall-back: the extra hour was at night",
    ),
    (
        always,
        "2026-03-29T00:30+01:00",
        8 * H,
        "2026-03-29T09:30+02:00",
        "P1 8h across spring-forward: 23:30Z + 8h = 07:30Z = 09:30 CEST",
    ),
    (
        always,
        "2026-10-25T00:30+02:00",
        8 * H,
        "2026-10-25T07:30+01:00",
        "P1 8h across fall-back: 22:30Z + 8h = 06:30Z = 07:30 CET",
    ),
    (
        always,
        "2026-10-25T02:30+02:00",
        1 * H,
        "2026-10-25T02:30+01:00",
        "one elapsed hour from the first 02:30 is the second 02:30",
    ),
    (
        always,
        "2026-03-28T12:00+01:00",
        24 * H,
        "2026-03-29T13:00+02:00",
        "24x7 adds 24 real hours: one wall-clock day plus the skipped hour",
    ),
    (
        always,
        "2026-10-24T12:00+02:00",
        24 * H,
        "2026-10-25T11:00+01:00",
        "24x7 adds 24 real hours: one wall-clock day minus the repeated hour",
    ),
    (always, "2026-12-25T10:00+01:00", 15 * M, "2026-12-25T10:15+01:00", "24x7 has no holidays"),
    # -- Christmas and New Year
    (
        iot,
        "2026-12-24T17:00+01:00",
        2 * H,
        "2026-12-28T09:00+01:00",
        "Thu 24 Dec 1h; Fri 25 Dec closed, weekend; Mon 28 Dec 1h",
    ),
    (
        iot,
        "2025-12-24T17:00+01:00",
        16 * H,
        "2025-12-30T13:00+01:00",
        "Wed 24 Dec 1h; Thu 25 + Fri 26 closed, weekend; Mon 29 10h; Tue 30 5h",
    ),
    (
        iot,
        "2026-12-31T17:00+01:00",
        2 * H,
        "2027-01-04T09:00+01:00",
        "Thu 31 Dec 1h; Fri 1 Jan closed, weekend; Mon 4 Jan 1h",
    ),
    (
        iot,
        "2025-12-31T17:00+01:00",
        16 * H,
        "2026-01-05T13:00+01:00",
        "Wed 31 Dec 1h; Thu 1 Jan closed; Fri 2 Jan 10h; Mon 5 Jan 5h",
    ),
    # -- King's Day
    (
        iot,
        "2026-04-24T17:00+02:00",
        2 * H,
        "2026-04-28T09:00+02:00",
        "Fri 1h; Mon 27 April 2026 King's Day closed; Tue 1h",
    ),
    (
        iot,
        "2027-04-26T17:00+02:00",
        2 * H,
        "2027-04-28T09:00+02:00",
        "Mon 1h; Tue 27 April 2027 King's Day closed; Wed 1h",
    ),
    (
        iot,
        "2025-04-25T17:00+02:00",
        2 * H,
        "2025-04-28T09:00+02:00",
        "2025: King's Day is Sat 26 April (27th is a Sunday); Mon 28 April is open",
    ),
    (
        iot,
        "2031-04-25T17:00+02:00",
        2 * H,
        "2031-04-28T09:00+02:00",
        "2031: King's Day is Sat 26 April (27th is a Sunday); Mon 28 April is open",
    ),
    # -- Ascension, Whit Monday, Easter, Good Friday
    (
        iot,
        "2026-05-13T17:00+02:00",
        2 * H,
        "2026-05-15T09:00+02:00",
        "Wed 1h; Thu 14 May 2026 Ascension closed; Fri 1h",
    ),
    (
        iot,
        "2026-05-22T17:00+02:00",
        2 * H,
        "2026-05-26T09:00+02:00",
        "Fri 1h; weekend; Mon 25 May 2026 Whit Monday closed; Tue 1h",
    ),
    (
        iot,
        "2026-04-02T17:00+02:00",
        2 * H,
        "2026-04-03T09:00+02:00",
        "Thu 1h; Good Friday 3 April 2026 is a business day",
    ),
    (
        iot,
        "2026-04-03T17:00+02:00",
        2 * H,
        "2026-04-07T09:00+02:00",
        "Good Friday 1h; Easter weekend; Easter Monday 6 April closed; Tue 1h",
    ),
    (
        partner,
        "2026-04-02T16:00+02:00",
        2 * H,
        "2026-04-03T10:00+02:00",
        "partner: Thu 1h; Good Friday is a business day there too",
    ),
    # -- Liberation Day (5 May): partner-office only, and only in 2025 and 2030
    (
        partner,
        "2025-05-02T16:00+02:00",
        2 * H,
        "2025-05-06T10:00+02:00",
        "partner 2025: Fri 1h; Mon 5 May closed; Tue 1h",
    ),
    (iot, "2025-05-02T17:00+02:00", 2 * H, "2025-05-05T09:00+02:00", "iot-office 2025: Mon 5 May is open"),
    (
        partner,
        "2026-05-04T16:00+02:00",
        2 * H,
        "2026-05-05T10:00+02:00",
        "partner 2026: Tue 5 May is open (not a lustrum year)",
    ),
]


@pytest.mark.parametrize(
    ("cal", "start", "duration", "expected", "why"), ADD_CASES, ids=[f"{c[0].name}:{c[1]}+{c[2]}" for c in ADD_CASES]
)
def test_add_business_time(cal, start: str, duration: timedelta, expected: str, why: str) -> None:
    assert_instant(cal.add_business_time(t(start), duration), expected)


def test_zero_budget_returns_the_same_instant_for_any_zone() -> None:
    start = t("2026-01-10T09:00+00:00")  # Saturday, given in UTC
    assert iot.add_business_time(start, timedelta(0)) == start


# -- pauses --------------------------------------------------------------------------------

PAUSE_CASES = [
    # (start, duration, pauses, expected, why)
    (
        "2026-01-12T08:00+01:00",
        4 * H,
        [("2026-01-12T09:00+01:00", "2026-01-12T10:00+01:00")],
        "2026-01-12T13:00+01:00",
        "one paused office hour inside the window pushes 12:00 to 13:00",
    ),
    (
        "2026-01-12T16:00+01:00",
        4 * H,
        [("2026-01-12T17:00+01:00", "2026-01-12T20:00+01:00")],
        "2026-01-13T11:00+01:00",
        "pause overlapping closing: 16-17 counts, 17-18 paused, Tue 08-11",
    ),
    ("2026-01-12T16:00+01:00", 4 * H, [], "2026-01-13T10:00+01:00", "reference for the next case: no pause"),
    (
        "2026-01-12T16:00+01:00",
        4 * H,
        [("2026-01-12T19:00+01:00", "2026-01-13T07:00+01:00")],
        "2026-01-13T10:00+01:00",
        "pause wholly outside office hours changes nothing",
    ),
    (
        "2026-01-09T17:00+01:00",
        16 * H,
        [("2026-01-10T00:00+01:00", "2026-01-12T00:00+01:00")],
        "2026-01-13T13:00+01:00",
        "pause over the weekend changes nothing",
    ),
    (
        "2026-01-12T10:00+01:00",
        1 * H,
        [("2026-01-12T09:00+01:00", "2026-01-12T11:00+01:00")],
        "2026-01-12T12:00+01:00",
        "start inside a pause: the clock runs from the pause's end",
    ),
    (
        "2026-01-12T10:00+01:00",
        1 * H,
        [("2026-01-09T09:00+01:00", "2026-01-09T17:00+01:00")],
        "2026-01-12T11:00+01:00",
        "pause before the start changes nothing",
    ),
    (
        "2026-01-12T10:00+01:00",
        1 * H,
        [("2026-01-12T12:00+01:00", "2026-01-12T15:00+01:00")],
        "2026-01-12T11:00+01:00",
        "pause after the deadline changes nothing",
    ),
    (
        "2026-01-12T08:00+01:00",
        2 * H,
        [("2026-01-12T09:00+01:00", "2026-01-12T10:00+01:00"), ("2026-01-12T09:30+01:00", "2026-01-12T11:00+01:00")],
        "2026-01-12T12:00+01:00",
        "overlapping pauses count once: 09:00-11:00 paused",
    ),
    (
        "2026-01-12T08:00+01:00",
        2 * H,
        [("2026-01-12T09:00+01:00", "2026-01-12T10:00+01:00"), ("2026-01-12T11:00+01:00", "2026-01-12T11:30+01:00")],
        "2026-01-12T11:00+01:00",
        "08-09 and 10-11 count: a pause starting as the budget runs out changes nothing",
    ),
    (
        "2026-01-12T08:00+01:00",
        150 * M,
        [("2026-01-12T09:00+01:00", "2026-01-12T10:00+01:00"), ("2026-01-12T11:00+01:00", "2026-01-12T11:30+01:00")],
        "2026-01-12T12:00+01:00",
        "two pauses: 08-09, 10-11 and 11:30-12:00 count",
    ),
    (
        "2026-01-09T16:00+01:00",
        3 * H,
        [("2026-01-09T16:30+01:00", "2026-01-12T08:30+01:00")],
        "2026-01-12T11:00+01:00",
        "pause from Fri 16:30 to Mon 08:30: 0.5h + Mon 08:30-11:00",
    ),
]


@pytest.mark.parametrize(
    ("start", "duration", "pauses", "expected", "why"), PAUSE_CASES, ids=[c[4] for c in PAUSE_CASES]
)
def test_add_business_time_with_pauses(start: str, duration: timedelta, pauses, expected: str, why: str) -> None:
    spans = [(t(a), t(b)) for a, b in pauses]
    assert_instant(iot.add_business_time(t(start), duration, spans), expected)
    # The same pauses make between() give back the budget.
    assert iot.business_time_between(t(start), t(expected), spans) == duration


# -- business_time_between -----------------------------------------------------------------

BETWEEN_CASES = [
    # (calendar, a, b, expected, why)
    (iot, "2026-01-09T17:00+01:00", "2026-01-12T09:00+01:00", 2 * H, "across a weekend: Fri 1h + Mon 1h"),
    (iot, "2026-01-09T17:00+01:00", "2026-01-13T13:00+01:00", 16 * H, "inverse of the Friday case"),
    (iot, "2026-01-12T10:00+01:00", "2026-01-12T10:00+01:00", timedelta(0), "b == a"),
    (iot, "2026-01-10T10:00+01:00", "2026-01-11T20:00+01:00", timedelta(0), "all of it at the weekend"),
    (iot, "2026-01-12T07:00+01:00", "2026-01-12T19:00+01:00", 10 * H, "a whole office day and a bit either side"),
    (iot, "2026-01-05T08:00+01:00", "2026-01-07T14:00+01:00", 26 * H, "Mon 10h + Tue 10h + Wed 6h"),
    (iot, "2026-12-24T17:00+01:00", "2026-12-28T09:00+01:00", 2 * H, "Christmas Day and weekend closed"),
    (iot, "2026-03-27T17:00+01:00", "2026-03-30T09:00+02:00", 2 * H, "across spring-forward"),
    (iot, "2026-10-23T17:00+02:00", "2026-10-26T09:00+01:00", 2 * H, "across fall-back"),
    (iot, "2026-01-12T11:00+00:00", "2026-01-12T12:00+01:00", 0 * H, "same instant in two offsets"),
    (partner, "2026-01-12T07:00+01:00", "2026-01-12T19:00+01:00", 8 * H, "partner day is 09-17"),
    (always, "2026-03-29T00:00+01:00", "2026-03-30T00:00+02:00", 23 * H, "24x7: spring-forward day has 23h"),
    (always, "2026-10-25T00:00+02:00", "2026-10-26T00:00+01:00", 25 * H, "24x7: fall-back day has 25h"),
    (always, "2026-12-24T17:00+01:00", "2026-12-28T09:00+01:00", 88 * H, "24x7 counts every hour"),
]


@pytest.mark.parametrize(("cal", "a", "b", "expected", "why"), BETWEEN_CASES, ids=[c[4] for c in BETWEEN_CASES])
def test_business_time_between(cal, a: str, b: str, expected: timedelta, why: str) -> None:
    assert cal.business_time_between(t(a), t(b)) == expected


def test_between_with_pauses() -> None:
    a, b = t("2026-01-12T08:00+01:00"), t("2026-01-12T18:00+01:00")
    # A pause overlapping the close subtracts only its office part (17:00-18:00).
    assert iot.business_time_between(a, b, [(t("2026-01-12T17:00+01:00"), t("2026-01-12T21:00+01:00"))]) == 9 * H
    # A pause wholly outside office hours subtracts nothing.
    assert iot.business_time_between(a, b, [(t("2026-01-12T18:00+01:00"), t("2026-01-13T08:00+01:00"))]) == 10 * H
    # A pause reaching before `a` subtracts only what lies after `a`.
    assert iot.business_time_between(a, b, [(t("2026-01-11T12:00+01:00"), t("2026-01-12T09:00+01:00"))]) == 9 * H


def test_between_end_before_start_is_refused() -> None:
    with pytest.raises(ValueError):
        iot.business_time_between(t("2026-01-12T10:00+01:00"), t("2026-01-12T09:00+01:00"))


# -- add_business_days ------------------------------------------------------------------

BUSINESS_DAY_CASES = [
    # (calendar, start, n, end_of_day, expected, why)
    (
        iot,
        "2026-01-10T10:00+01:00",
        5,
        False,
        "2026-01-16T18:00+01:00",
        "SPEC: Saturday 10:00 → Mon 08:00 → 5th bd is Mon 19 Jan 08:00 = opening → Fri 16 Jan close",
    ),
    (iot, "2026-01-12T10:00+01:00", 5, False, "2026-01-19T10:00+01:00", "SPEC: Monday 10:00 + 5 = next Monday 10:00"),
    (
        iot,
        "2026-01-09T18:00+01:00",
        1,
        False,
        "2026-01-12T18:00+01:00",
        "Fri 18:00 → Mon 08:00 → Tue 08:00 = opening → Mon close",
    ),
    (
        iot,
        "2026-01-12T07:59+01:00",
        1,
        False,
        "2026-01-12T18:00+01:00",
        "Mon 07:59 → Mon 08:00 → Tue 08:00 = opening → Mon close",
    ),
    (
        iot,
        "2026-01-12T17:59+01:00",
        1,
        False,
        "2026-01-13T17:59+01:00",
        "17:59 is business time: same local time next day",
    ),
    (
        iot,
        "2026-12-28T10:00+01:00",
        5,
        False,
        "2027-01-05T10:00+01:00",
        "across the year end: 29, 30, 31 Dec, (1 Jan closed, weekend), 4, 5 Jan",
    ),
    (
        iot,
        "2026-12-23T10:00+01:00",
        7,
        False,
        "2027-01-05T10:00+01:00",
        "24 Dec, (25 Dec, weekend), 28, 29, 30, 31 Dec, (1 Jan, weekend), 4, 5 Jan",
    ),
    (
        iot,
        "2026-03-27T10:00+01:00",
        1,
        False,
        "2026-03-30T10:00+02:00",
        "Fri 10:00 CET + 1 bd = Mon 10:00 CEST: same local time, one real hour fewer",
    ),
    (iot, "2026-10-23T10:00+02:00", 1, False, "2026-10-26T10:00+01:00", "same local time across fall-back"),
    (
        iot,
        "2025-04-25T10:00+02:00",
        1,
        False,
        "2025-04-28T10:00+02:00",
        "2025 King's Day falls on Saturday: Monday 28 April is the next business day",
    ),
    (
        partner,
        "2025-05-02T10:00+02:00",
        1,
        False,
        "2025-05-06T10:00+02:00",
        "partner 2025: Liberation Day Monday is skipped",
    ),
    (
        partner,
        "2026-01-10T10:00+01:00",
        5,
        False,
        "2026-01-16T17:00+01:00",
        "partner: Saturday → Mon 09:00 → next Mon 09:00 = opening → Fri 17:00",
    ),
    # -- end of day (RFO, RCA)
    (
        iot,
        "2026-12-24T20:00+01:00",
        3,
        True,
        "2026-12-30T18:00+01:00",
        "SPEC: P1 closed Thu 24 Dec 20:00; RFO 3 bd end of day: 28, 29, 30 Dec",
    ),
    (
        iot,
        "2026-12-24T20:00+01:00",
        10,
        True,
        "2027-01-11T18:00+01:00",
        "RCA target day 10: 28-31 Dec (4), 4-8 Jan (9), 11 Jan (10)",
    ),
    (
        iot,
        "2026-12-24T20:00+01:00",
        20,
        True,
        "2027-01-25T18:00+01:00",
        "RCA deadline day 20: ... 11-15 Jan (14), 18-22 Jan (19), 25 Jan (20)",
    ),
    (iot, "2026-01-12T10:00+01:00", 3, True, "2026-01-15T18:00+01:00", "Mon 10:00 + 3 bd end of day = Thu close"),
    (
        iot,
        "2026-01-12T07:00+01:00",
        3,
        True,
        "2026-01-15T18:00+01:00",
        "counted from the local date, not the next business instant",
    ),
    (iot, "2026-01-10T10:00+01:00", 3, True, "2026-01-14T18:00+01:00", "Saturday event: Mon, Tue, Wed → Wed close"),
    (
        iot,
        "2026-01-12T23:30+00:00",
        1,
        True,
        "2026-01-14T18:00+01:00",
        "local date matters: 23:30Z Monday is Tuesday 00:30 in Amsterdam → Wed close",
    ),
    (partner, "2026-12-24T20:00+01:00", 3, True, "2026-12-30T17:00+01:00", "partner end of day is 17:00"),
]


@pytest.mark.parametrize(
    ("cal", "start", "n", "eod", "expected", "why"), BUSINESS_DAY_CASES, ids=[c[5] for c in BUSINESS_DAY_CASES]
)
def test_add_business_days(cal, start: str, n: int, eod: bool, expected: str, why: str) -> None:
    assert_instant(cal.add_business_days(t(start), n, end_of_day=eod), expected)


# -- boundaries: is_business_time / next_business_instant ------------------------------

BOUNDARY_CASES = [
    # (calendar, instant, is business time, next business instant)
    (iot, "2026-01-12T07:59:59+01:00", False, "2026-01-12T08:00+01:00"),
    (iot, "2026-01-12T08:00:00+01:00", True, "2026-01-12T08:00+01:00"),
    (iot, "2026-01-12T17:59:59+01:00", True, "2026-01-12T17:59:59+01:00"),
    (iot, "2026-01-12T18:00:00+01:00", False, "2026-01-13T08:00+01:00"),
    (iot, "2026-01-09T18:00:00+01:00", False, "2026-01-12T08:00+01:00"),  # Friday close → Monday
    (iot, "2026-01-10T12:00:00+01:00", False, "2026-01-12T08:00+01:00"),  # Saturday
    (iot, "2026-12-24T18:00:00+01:00", False, "2026-12-28T08:00+01:00"),  # Christmas
    (iot, "2026-04-03T12:00:00+02:00", True, "2026-04-03T12:00+02:00"),  # Good Friday
    (iot, "2026-03-29T12:00:00+02:00", False, "2026-03-30T08:00+02:00"),  # DST Sunday
    (iot, "2026-01-12T07:00:00+00:00", True, "2026-01-12T08:00+01:00"),  # 07:00Z is 08:00 local
    (partner, "2026-01-12T08:59:59+01:00", False, "2026-01-12T09:00+01:00"),
    (partner, "2026-01-12T09:00:00+01:00", True, "2026-01-12T09:00+01:00"),
    (partner, "2026-01-12T16:59:59+01:00", True, "2026-01-12T16:59:59+01:00"),
    (partner, "2026-01-12T17:00:00+01:00", False, "2026-01-13T09:00+01:00"),
    (always, "2026-01-10T03:00:00+01:00", True, "2026-01-10T03:00+01:00"),
    (always, "2026-12-25T00:00:00+01:00", True, "2026-12-25T00:00+01:00"),
]


@pytest.mark.parametrize(
    ("cal", "instant", "business", "following"), BOUNDARY_CASES, ids=[f"{c[0].name}:{c[1]}" for c in BOUNDARY_CASES]
)
def test_boundaries(cal, instant: str, business: bool, following: str) -> None:
    assert cal.is_business_time(t(instant)) is business
    assert_instant(cal.next_business_instant(t(instant)), following)


def test_is_business_day() -> None:
    assert iot.is_business_day(date(2026, 1, 12))  # Monday
    assert not iot.is_business_day(date(2026, 1, 10))  # Saturday
    assert not iot.is_business_day(date(2026, 12, 25))  # Christmas Day
    assert iot.is_business_day(date(2026, 4, 3))  # Good Friday
    assert not partner.is_business_day(date(2025, 5, 5))
    assert iot.is_business_day(date(2025, 5, 5))
    assert partner.is_business_day(date(2026, 5, 5))
    assert always.is_business_day(date(2026, 12, 25))


# -- naive input ---------------------------------------------------------------------------

NAIVE = datetime(2026, 1, 12, 10, 0)
AWARE = datetime(2026, 1, 12, 10, 0, tzinfo=AMS)

NAIVE_CALLS = {
    "add_business_time(start)": lambda c: c.add_business_time(NAIVE, H),
    "add_business_time(start, 0)": lambda c: c.add_business_time(NAIVE, timedelta(0)),
    "add_business_time(pause start)": lambda c: c.add_business_time(AWARE, H, [(NAIVE, AWARE + H)]),
    "add_business_time(pause end)": lambda c: c.add_business_time(AWARE, H, [(AWARE, NAIVE + H)]),
    "business_time_between(a)": lambda c: c.business_time_between(NAIVE, AWARE + H),
    "business_time_between(b)": lambda c: c.business_time_between(AWARE, NAIVE + H),
    "business_time_between(pause)": lambda c: c.business_time_between(AWARE, AWARE + H, [(NAIVE, NAIVE + H)]),
    "add_business_days": lambda c: c.add_business_days(NAIVE, 3),
    "add_business_days(end_of_day)": lambda c: c.add_business_days(NAIVE, 3, end_of_day=True),
    "next_business_instant": lambda c: c.next_business_instant(NAIVE),
    "is_business_time": lambda c: c.is_business_time(NAIVE),
}


@pytest.mark.parametrize("name", ["iot-office", "partner-office", "24x7"])
@pytest.mark.parametrize("call", list(NAIVE_CALLS), ids=list(NAIVE_CALLS))
def test_naive_input_is_refused(name: str, call: str) -> None:
    with pytest.raises(NaiveDatetimeError):
        NAIVE_CALLS[call](get_calendar(name))


def test_naive_datetime_error_is_a_value_error() -> None:
    assert issubclass(NaiveDatetimeError, ValueError)
