"""Numbers and dates people type, read strictly and within a stated range.

A typed value that is not a number or date, or lies outside its field's range, is refused with a
reply that names the field and the range. It never reaches code that would fail on it: a
superscript `²` that `str.isdigit()` accepts and `int()` does not, a number of 4,400 digits
(beyond what `int()` converts), the year 1 (whose UTC instant does not exist) or the year 9999
(whose deadlines fall after the last year a datetime holds).

Dates are accepted from EARLIEST to LATEST: every business calendar and deadline the bot computes
from them stays well inside what Python's datetime and the holiday tables cover.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

from bot import i18n
from bot.clock import AMSTERDAM
from bot.errors import Refused, UserError
from bot.text import escape_markdown
from rules.local_time import EARLIEST, LATEST, AmbiguousTimeError, NonexistentTimeError, localize, read_wall_time

# ASCII digits only: `²`, `٣` and the like are not read as numbers.
_WHOLE = re.compile(r"-?[0-9]+")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
# No date or time people type is longer; longer text is refused before any parser sees it.
_DATE_TEXT_MAX = 60
# How much of a refused value the refusal repeats.
GIVEN_MAX = 40
# The largest row id: what a 32-bit INTEGER column holds.
ROW_ID_MAX = 2**31 - 1


class BadInput(UserError):
    """A typed number or date that is not one, or outside its field's range: the reply names the
    field (a catalogue key, shown in the reply's language) and the range."""

    def __init__(self, key: str, *, field: str, given: object, **values: object) -> None:
        self.key = key
        super().__init__(field=field, given=shown(given), **values)

    def render(self, lang: str) -> str:
        """The reply in `lang`: the field's name and numbers in that language's style."""
        values = {
            k: format_decimal(v, locale=lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE)
            if isinstance(v, int)
            else v
            for k, v in self.values.items()
        }
        values["field"] = i18n.t(str(self.values["field"]), lang)
        return i18n.t(self.key, lang, **values)


def shown(value: object) -> str:
    """A refused value as the refusal repeats it: escaped, and cut short when long."""
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return escape_markdown(text if len(text) <= GIVEN_MAX else text[: GIVEN_MAX - 1] + "…")


def whole_number(value: object, *, field: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`, as typed ("120") or as a card's number input sends it
    (120, 120.0); BadInput naming `field` and the range otherwise."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer() and abs(value) <= 10**18:
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        # The digits' count is checked before int(): a number of thousands of digits is refused,
        # not converted (which takes time, and beyond 4,300 digits raises).
        if _WHOLE.fullmatch(text) and len(text.lstrip("-").lstrip("0")) <= max(len(str(abs(low))), len(str(abs(high)))):
            number = int(text)
    if number is None or not low <= number <= high:
        raise BadInput("input.number", field=field, given=value, low=low, high=high)
    return number


def row_id(value: object) -> int | None:
    """The id of a row that a button's data carries (a whole number, or its digits), or None when it
    cannot be one: any database takes it, where `int()` of a forged value might not fit a column."""
    try:
        return whole_number(value, field="", low=1, high=ROW_ID_MAX)
    except BadInput:
        return None


def local_instant(text: str, *, field: str, today: date, zone: ZoneInfo = AMSTERDAM) -> datetime:
    """A date and time as people type it ('2026-01-09 17:00', '9-1-2026 17:00', '17:00' for today),
    local to `zone` unless it has an offset, from EARLIEST to LATEST. BadInput naming `field` and
    the range when it is none or outside it; a refusal saying why for a local time that does not
    exist or happens twice on a DST night."""
    earliest, latest = f"{EARLIEST.isoformat()} 00:00", f"{LATEST.isoformat()} 23:59"
    try:
        if len(text) > _DATE_TEXT_MAX:
            raise ValueError("too long for a date and time")
        wall = read_wall_time(text, today=today)
    except ValueError:
        raise BadInput("input.instant", field=field, given=text, earliest=earliest, latest=latest) from None
    # On the date as written: its offset moves the instant by hours, never out of the range's years.
    if not EARLIEST <= wall.date() <= LATEST:
        raise BadInput("input.instant", field=field, given=text, earliest=earliest, latest=latest)
    try:
        return localize(wall, zone)
    except NonexistentTimeError:
        raise Refused("sla.time_skipped", time=shown(text)) from None
    except AmbiguousTimeError as exc:
        raise Refused(
            "sla.time_twice",
            time=shown(text),
            earlier=exc.earlier.isoformat(timespec="minutes"),
            later=exc.later.isoformat(timespec="minutes"),
        ) from None


def local_date(text: str, *, field: str) -> date:
    """A date written as 2026-01-09, from EARLIEST to LATEST; BadInput naming `field` and the range otherwise."""
    try:
        day = date.fromisoformat(text.strip()) if len(text) <= _DATE_TEXT_MAX else None
    except ValueError:
        day = None
    if day is None or not EARLIEST <= day <= LATEST:
        raise BadInput("input.date", field=field, given=text, earliest=EARLIEST.isoformat(), latest=LATEST.isoformat())
    return day


def read_month(text: str) -> tuple[int, int]:
    """'2026-11' → (2026, 11), from EARLIEST's month to LATEST's; ValueError saying the range otherwise."""
    match = _MONTH.fullmatch(text.strip())
    if match and 1 <= int(match.group(2)) <= 12 and EARLIEST.year <= int(match.group(1)) <= LATEST.year:
        return int(match.group(1)), int(match.group(2))
    raise ValueError(f"{text!r} is not a month from {EARLIEST:%Y-%m} to {LATEST:%Y-%m}, such as 2026-11")


def month(text: str, *, field: str) -> tuple[int, int]:
    """A month written as 2026-11 (year, month), within the range; BadInput naming `field` and the range otherwise."""
    try:
        return read_month(text)
    except ValueError:
        raise BadInput(
            "input.month", field=field, given=text, earliest=f"{EARLIEST:%Y-%m}", latest=f"{LATEST:%Y-%m}"
        ) from None


def start_of_day(day: date, zone: ZoneInfo = AMSTERDAM) -> datetime:
    """Local midnight of `day` as an instant."""
    return localize(datetime.combine(day, time(0)), zone)
