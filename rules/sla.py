"""Service levels: budgets, targets and per-profile target tables.

Profiles come from the same configuration as the calendars (`rules/service_levels.toml` or
SERVICE_LEVELS_FILE, read by `rules/sla_config.py`): for each record kind (incidents per priority)
an ordered list of targets, each a budget on a calendar. `rules/clock_state.py` turns a ticket's
history into the state of each target's clock.

A profile also carries its customers' own terms: the calendar of its office hours, its change
types (an RFC of a type with a lead time of its own has that as its resolution budget) and the
calendar of its maintenance window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rules.calendar import Calendar

UTC = UTC
KINDS = ("incident", "rfc", "rfi", "complaint")
PRIORITIES = ("P1", "P2", "P3")
UNITS = ("bh", "bm", "bd-eod", "bd", "h", "m")
_BUDGET = re.compile(r"^\s*([0-9]+)\s*(bd-eod|bh|bm|bd|h|m)\s*$", re.IGNORECASE)
# The largest amount of a budget: 100,000 hours are over eleven years.
BUDGET_MAX = 100_000
# The target whose clock a roaming partner turns into best effort, and an extension lengthens.
RECOVERY = "resolution"
# What a target's clock may count from: the opening, the first resolution (the service
# restored: a P1's RFO and RCA), or the closure.
STARTS_AT_RESOLUTION = "resolved"
STARTS = ("opened", STARTS_AT_RESOLUTION, "closed")
# The record kinds whose lead time an agent may lengthen (SPEC §5): an RFC that became a
# project, an exceptional RFI. An incident's recovery follows its priority; a complaint has none.
EXTENDABLE = ("rfc", "rfi")


@dataclass(frozen=True)
class Budget:
    """An amount of time to a deadline: office hours/minutes, business days, or elapsed time."""

    amount: int
    unit: str  # one of UNITS

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def elapsed(self) -> bool:
        """True for wall-clock budgets (h, m), which are added in UTC."""
        return self.unit in ("h", "m")

    @property
    def business_days(self) -> bool:
        """True for budgets counted in business days."""
        return self.unit in ("bd", "bd-eod")

    def as_timedelta(self) -> timedelta:
        """The duration of an hour/minute budget (business or elapsed)."""
        if self.unit in ("bh", "h"):
            return timedelta(hours=self.amount)
        if self.unit in ("bm", "m"):
            return timedelta(minutes=self.amount)
        raise ValueError(f"{self} is counted in business days, not hours")


def parse_budget(text: str) -> Budget:
    """'16bh', '30bm', '5bd', '3bd-eod', '8h', '90m' → Budget; ValueError saying what is wrong."""
    if text.strip().startswith("-"):
        raise ValueError(f"duration {text.strip()!r} is negative")
    match = _BUDGET.match(text)
    if not match:
        raise ValueError(f"duration {text.strip()!r} is not understood; use e.g. 16bh, 30bm, 5bd, 8h or 90m")
    # Counted before int(): thousands of digits are refused, not converted.
    if len(match.group(1).lstrip("0")) > len(str(BUDGET_MAX)) or int(match.group(1)) > BUDGET_MAX:
        raise ValueError(f"duration {text.strip()!r} is too long: at most {BUDGET_MAX} of a unit")
    return Budget(int(match.group(1)), match.group(2).lower())


def as_utc(t: datetime) -> datetime:
    """`t` in UTC, where comparisons and arithmetic hold across a DST change."""
    # Arithmetic and comparisons between datetimes that share a zone are done on the wall
    # clock (Python ignores the offset then), which is an hour off across a DST change.
    return t.astimezone(UTC)


def _elapsed_add(start: datetime, duration: timedelta, pauses: Sequence[tuple[datetime, datetime]]) -> datetime:
    """`start + duration` in UTC, with the time inside pauses not counted."""
    cursor, remaining = as_utc(start), duration
    for ps, pe in _merge(pauses):
        if pe <= cursor:
            continue
        if ps >= cursor + remaining:
            break
        if ps > cursor:
            remaining -= ps - cursor
        cursor = max(cursor, pe)
    return cursor + remaining


def _elapsed_between(a: datetime, b: datetime, pauses: Sequence[tuple[datetime, datetime]]) -> timedelta:
    a, b = as_utc(a), as_utc(b)
    total = b - a
    for ps, pe in _merge(pauses):
        lo, hi = max(ps, a), min(pe, b)
        if lo < hi:
            total -= hi - lo
    return total


def _merge(pauses: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for s, e in sorted((as_utc(s), as_utc(e)) for s, e in pauses):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        elif e > s:
            merged.append((s, e))
    return merged


@dataclass(frozen=True)
class TargetSpec:
    """One target of a profile: its name, budget, calendar and how its clock behaves."""

    name: str
    budget: Budget | None
    calendar: str | None
    starts: str = "opened"  # or STARTS_AT_RESOLUTION, or "closed"
    pauses: bool = True
    deadline: bool = True
    # The calendar named by `calendar`, resolved when the configuration is loaded.
    cal: Calendar | None = field(default=None, compare=False, repr=False)

    def due(self, start: datetime, pauses: Sequence[tuple[datetime, datetime]] = ()) -> tuple[datetime, timedelta]:
        """(due instant, budget as business or elapsed time) for a clock started at `start`."""
        assert self.budget is not None and self.calendar is not None
        budget = self.budget
        counted = list(pauses) if self.pauses else []
        if budget.elapsed:
            amount = budget.as_timedelta()
            return _elapsed_add(start, amount, counted).astimezone(self._calendar().zone), amount
        cal = self._calendar()
        if budget.business_days:
            plain = cal.add_business_days(start, budget.amount, end_of_day=budget.unit == "bd-eod")
            # The same budget as business time, so pauses move the deadline by what they took.
            amount = cal.business_time_between(start, plain) if as_utc(plain) > as_utc(start) else timedelta(0)
        else:
            amount = budget.as_timedelta()
        return cal.add_business_time(start, amount, counted), amount

    def instant_at(
        self, start: datetime, amount: timedelta, pauses: Sequence[tuple[datetime, datetime]] = ()
    ) -> datetime:
        """When `amount` of this target's budget is used up, counted from `start` (with its pauses)."""
        assert self.budget is not None and self.calendar is not None
        counted = list(pauses) if self.pauses else []
        cal = self._calendar()
        if self.budget.elapsed:
            return _elapsed_add(start, amount, counted).astimezone(cal.zone)
        return cal.add_business_time(start, amount, counted)

    def used(self, start: datetime, until: datetime, pauses: Sequence[tuple[datetime, datetime]]) -> timedelta:
        """Budget consumed between `start` and `until`."""
        if as_utc(until) <= as_utc(start):
            return timedelta(0)
        counted = list(pauses) if self.pauses else []
        if self.budget is not None and self.budget.elapsed:
            return _elapsed_between(start, until, counted)
        return self._calendar().business_time_between(start, until, counted)

    def _calendar(self) -> Calendar:
        if self.cal is None:
            raise ValueError(f"target {self.name} has no calendar")
        return self.cal


@dataclass(frozen=True)
class RfcType:
    """A type of change a profile's customers can request, with its own lead time when it has one.

    `lead_time` None: the profile's RFC resolution target applies as it is. `title`: the type's
    name per language from the configuration; None: the catalogues name it (form.rfc_type.<id>).
    """

    id: str
    lead_time: Budget | None = None
    calendar: str | None = None
    title: dict[str, str] | None = None
    cal: Calendar | None = field(default=None, compare=False, repr=False)


# What the RFC form offers for a profile that lists no types: the guide's two.
DEFAULT_RFC_TYPES = (RfcType("standard"), RfcType("non-standard"))


@dataclass(frozen=True)
class Profile:
    """A named set of target tables, one per record kind (and priority for incidents), with the
    profile's own terms: its office hours, its change types and its maintenance window."""

    name: str
    description: str
    tables: dict[tuple[str, str | None], tuple[TargetSpec, ...]]
    # The calendar whose windows are this profile's office hours (None: the desk's).
    office_hours: str | None = None
    # The calendar whose windows planned maintenance must fall inside (None: no window).
    maintenance_window: str | None = None
    rfc_types: tuple[RfcType, ...] = DEFAULT_RFC_TYPES

    def targets(self, kind: str, priority: str | None = None, rfc_type: str | None = None) -> tuple[TargetSpec, ...]:
        """The targets of a record kind; KeyError with the reason when the profile has none.

        An RFC of a type with its own lead time has that as its resolution target.
        """
        if kind not in KINDS:
            raise KeyError(f"unknown record kind {kind!r}; known: {', '.join(KINDS)}")
        key: tuple[str, str | None]
        if kind == "incident":
            if priority not in PRIORITIES:
                raise KeyError(f"an incident needs a priority P1, P2 or P3, got {priority!r}")
            key = (kind, priority)
        else:
            key = (kind, None)
        if key not in self.tables:
            raise KeyError(f"profile {self.name} has no targets for {kind}{' ' + priority if priority else ''}")
        specs = self.tables[key]
        change = self.rfc_type(rfc_type) if kind == "rfc" else None
        if change is None or change.lead_time is None:
            return specs
        base = next((s for s in specs if s.name == RECOVERY), None)
        lead = TargetSpec(
            name=RECOVERY,
            budget=change.lead_time,
            calendar=change.calendar or (base.calendar if base else None),
            cal=change.cal or (base.cal if base else None),
            starts=base.starts if base else "opened",
            pauses=base.pauses if base else True,
        )
        return tuple(lead if s.name == RECOVERY else s for s in specs) if base else (*specs, lead)

    def rfc_type(self, type_id: str | None) -> RfcType | None:
        """The change type with this id, if the profile offers it."""
        return next((t for t in self.rfc_types if t.id == type_id), None)


DEFAULT_PROFILE = "iot"
