"""Calendars from the service-levels configuration (`rules/service_levels.toml`): weekly
windows, the holidays that close, extra closed dates; CalendarConfigError saying what is wrong."""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rules.calendar import Calendar, CalendarConfigError, country_holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_FILE = Path(__file__).with_name("service_levels.toml")


def _parse_clock(text: str) -> int:
    """'08:00' → minutes after local midnight; '24:00' allowed."""
    try:
        hours, minutes = text.strip().split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        raise CalendarConfigError(f"{text!r} is not a HH:MM time") from None
    if not (0 <= int(minutes) < 60 and 0 <= value <= 24 * 60):
        raise CalendarConfigError(f"{text!r} is not a time between 00:00 and 24:00")
    return value


def _parse_windows(text: str) -> tuple[tuple[int, int], ...]:
    """'08:00-12:00, 13:00-18:00' → ((480, 720), (780, 1080)); ordered, not overlapping."""
    windows = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            start_text, end_text = part.split("-")
        except ValueError:
            raise CalendarConfigError(f"{part.strip()!r} is not a HH:MM-HH:MM window") from None
        start, end = _parse_clock(start_text), _parse_clock(end_text)
        if end <= start:
            raise CalendarConfigError(f"window {part.strip()!r} ends before it starts")
        windows.append((start, end))
    windows.sort()
    for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
        if start < end:
            raise CalendarConfigError(f"windows {text!r} overlap")
    return tuple(windows)


@cache
def _known_holiday_names(country: str) -> frozenset[str]:
    names: set[str] = set()
    for year in range(2000, 2051):
        for name in country_holidays(country, year).values():
            names.update(part.strip() for part in name.split(";"))
    return frozenset(names)


def calendar_from_config(name: str, spec: dict[str, Any]) -> Calendar:
    """Build one calendar from its configuration table; CalendarConfigError when it is wrong."""
    try:
        zone = ZoneInfo(spec.get("zone", "Europe/Amsterdam"))
    except Exception:
        raise CalendarConfigError(f"calendar {name}: unknown time zone {spec.get('zone')!r}") from None
    hours = spec.get("hours", {})
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise CalendarConfigError(f"calendar {name}: unknown weekday(s) {sorted(unknown)} (use mon..sun)")
    weekly = tuple(_parse_windows(hours.get(day, "")) for day in WEEKDAYS)
    country = spec.get("holidays")
    names = frozenset(spec.get("closed_holidays", []))
    if names and not country:
        raise CalendarConfigError(f'calendar {name}: closed_holidays needs holidays = "<country>"')
    if country:
        try:
            known = _known_holiday_names(country)
        except NotImplementedError:
            raise CalendarConfigError(f"calendar {name}: the holidays package has no country {country!r}") from None
        missing = names - known
        if missing:
            # A renamed holiday in a new package version must not silently reopen a closed day.
            raise CalendarConfigError(f"calendar {name}: {country} has no holiday named {sorted(missing)}")
    try:
        extra = frozenset(date.fromisoformat(d) for d in spec.get("closed_dates", []))
    except (TypeError, ValueError):
        raise CalendarConfigError(f"calendar {name}: closed_dates must be YYYY-MM-DD dates") from None
    return Calendar(
        name=name, zone=zone, weekly=weekly, closed_holidays=names, holiday_country=country, closed_extra=extra
    )


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """The service-levels configuration (calendars and profiles) as a dict."""
    source = Path(path) if path else DEFAULT_FILE
    try:
        with open(source, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise CalendarConfigError(f"cannot read {source}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CalendarConfigError(f"{source} is not valid TOML: {exc}") from None


def load_calendars(config: dict[str, Any]) -> dict[str, Calendar]:
    """Every calendar of a configuration."""
    tables = config.get("calendars")
    if not isinstance(tables, dict) or not tables:
        raise CalendarConfigError("the configuration has no [calendars]")
    return {name: calendar_from_config(name, spec) for name, spec in tables.items()}
