"""Wall-clock times as people type them, placed in a calendar's time zone.

A local time in the hour the clocks skip or repeat is refused rather than guessed: a guess
would put a deadline an hour off.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dateutil import parser as date_parser

# The dates every calendar and deadline is computed for; what people type is held to them.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


class NonexistentTimeError(ValueError):
    """A local time inside the hour the clocks skip in spring."""


class AmbiguousTimeError(ValueError):
    """A local time inside the hour the clocks repeat in autumn."""

    def __init__(self, message: str, *, earlier: datetime, later: datetime) -> None:
        super().__init__(message)
        self.earlier, self.later = earlier, later


def localize(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as an aware instant (aware input is returned as it is).

    NonexistentTimeError for the hour skipped in spring, AmbiguousTimeError for the hour
    repeated in autumn: guessing either would put a deadline an hour off.
    """
    if wall.tzinfo is not None:
        return wall
    early, late = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if early.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise NonexistentTimeError(
            f"{wall.isoformat(timespec='minutes')} does not exist in {zone.key} (the clocks skip that hour)"
        )
    if early.utcoffset() != late.utcoffset():
        raise AmbiguousTimeError(
            f"{wall.isoformat(timespec='minutes')} happens twice in {zone.key}; give the offset, e.g. "
            f"{early.isoformat(timespec='minutes')} or {late.isoformat(timespec='minutes')}",
            earlier=early,
            later=late,
        )
    return early


def parse_local(text: str, zone: ZoneInfo, *, today: date) -> datetime:
    """A date and time as people type it ('2026-01-09 17:00', '9-1-2026 17:00', '17:00'),
    local to `zone` unless it carries an offset; ValueError when it is not one."""
    return localize(read_wall_time(text, today=today), zone)


def read_wall_time(text: str, *, today: date) -> datetime:
    """What `parse_local` reads before it places it in a zone: a wall-clock time (naive), or an
    instant when the text carries an offset; ValueError when it is not one."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ValueError("no date or time given")
    try:
        value = datetime.fromisoformat(cleaned.replace(" ", "T", 1))
    except ValueError:
        try:
            # Dutch order for anything not ISO: 9-1-2026 is 9 January.
            value = date_parser.parse(cleaned, dayfirst=True, default=datetime.combine(today, time(0)))
        except (ValueError, OverflowError):
            raise ValueError(f"{cleaned!r} is not a date and time") from None
    try:
        value.utcoffset()
    except ValueError:  # dateutil reads "-3000" as an offset of 30 hours, which no datetime holds
        raise ValueError(f"{cleaned!r} has an offset of a day or more") from None
    return value
