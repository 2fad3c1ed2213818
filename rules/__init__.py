"""The operator's rules: business calendars, SLA profiles and arithmetic, the desk's contacts and
matrix. Loaded from TOML and pure: nothing here knows the runtime, the database or the commands.

`load()` reads both files into one `Rules`; the runtime builds it once and hands it to handlers,
timers and the command line, so nothing here is module-level state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rules.calendar import Calendar
from rules.calendar_config import load_calendars, load_config
from rules.desk import Desk
from rules.desk import load as load_desk
from rules.sla import DEFAULT_PROFILE, Profile
from rules.sla_config import Naming, load_profiles

# Without the bot's catalogues: the languages only, no names checked.
UNCHECKED = Naming()


@dataclass(frozen=True)
class Rules:
    """The calendars, SLA profiles and desk configuration in use."""

    calendars: Mapping[str, Calendar]
    profiles: Mapping[str, Profile]
    desk: Desk

    def calendar(self, name: str) -> Calendar:
        """A calendar by name; KeyError naming the known ones when there is none."""
        if name not in self.calendars:
            raise KeyError(f"unknown calendar {name!r}; known: {', '.join(sorted(self.calendars))}")
        return self.calendars[name]

    def profile(self, name: str | None = None) -> Profile:
        """A profile by name (the default `iot` when None); KeyError naming the known ones."""
        name = name or DEFAULT_PROFILE
        if name not in self.profiles:
            raise KeyError(f"unknown profile {name!r}; known: {', '.join(sorted(self.profiles))}")
        return self.profiles[name]

    def office_calendar(self, office_hours: str | None = None) -> Calendar:
        """The calendar of a profile's office hours (its `office_hours`), else of the desk's."""
        return self.calendar(office_hours or self.desk.office_hours)


def load_service_levels(
    path: str | Path | None = None, *, naming: Naming = UNCHECKED
) -> tuple[dict[str, Calendar], dict[str, Profile]]:
    """Calendars and profiles from `path` (the shipped file when None), checked in full."""
    config = load_config(path)
    calendars = load_calendars(config)
    return calendars, load_profiles(config, calendars, naming)


def load(
    service_levels: str | Path | None = None, desk: str | Path | None = None, *, naming: Naming = UNCHECKED
) -> Rules:
    """The rules from the service-levels and desk files (the shipped ones when None), checked in full."""
    calendars, profiles = load_service_levels(service_levels, naming=naming)
    return Rules(calendars=calendars, profiles=profiles, desk=load_desk(desk))
