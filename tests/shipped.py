"""The shipped rules (rules/service_levels.toml and rules/desk.toml), loaded once for the tests
that compute with them directly."""

from __future__ import annotations

from datetime import datetime

from bot import i18n
from rules import Rules, load, load_service_levels
from rules.calendar import Calendar
from rules.clock_state import TargetStatus, TicketHistory
from rules.clock_state import deadlines as profile_deadlines
from rules.sla import Profile

RULES: Rules = load(naming=i18n.naming())


def get_calendar(name: str) -> Calendar:
    """A shipped calendar by name."""
    return RULES.calendar(name)


def deadlines(history: TicketHistory, profile: str | None, now: datetime, rules: Rules = RULES) -> list[TargetStatus]:
    """`rules.clock_state.deadlines` under a profile named in `rules` (the shipped ones by default)."""
    return profile_deadlines(history, rules.profile(profile), now)


def levels(path: str) -> tuple[dict[str, Calendar], dict[str, Profile]]:
    """The calendars and profiles of a service-levels file, checked as at start-up."""
    return load_service_levels(path, naming=i18n.naming())


def load_levels(path: str) -> Rules:
    """The rules with the service levels of `path` and the shipped desk."""
    return load(path, naming=i18n.naming())
