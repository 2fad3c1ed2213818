"""Service levels: budgets, per-profile target tables, and the state of each clock of a ticket.

Profiles come from the same configuration as the calendars (`rules/service_levels.toml` or
SERVICE_LEVELS_FILE): for each record kind (incidents per priority) an ordered list of targets,
each a budget on a calendar. `deadlines()` turns a ticket's history into one `TargetStatus`
per target: due instant, budget, used, left, fraction, paused, and met / breached.

A profile also carries its customers' own terms: the calendar of its office hours, its change
types (an RFC of a type with a lead time of its own has that as its resolution budget) and the
calendar of its maintenance window.

Priority changes recompute from the Incident Start Time with the current priority (SPEC §4),
so the history carries the current priority only. A roaming partner's involvement turns the
recovery target into best effort: it is still computed and shown, never counted as breached.
An RFC or RFI given a longer lead time (SPEC §5) has its recovery target's budget replaced by
that lead time, so its deadline comes from the same arithmetic, and it shows as extended.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from rules.calendar import Calendar, CalendarConfigError, NaiveDatetimeError

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


def _utc(t: datetime) -> datetime:
    # Arithmetic and comparisons between datetimes that share a zone are done on the wall
    # clock (Python ignores the offset then), which is an hour off across a DST change.
    return t.astimezone(UTC)


def _elapsed_add(start: datetime, duration: timedelta, pauses: Sequence[tuple[datetime, datetime]]) -> datetime:
    """`start + duration` in UTC, with the time inside pauses not counted."""
    cursor, remaining = _utc(start), duration
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
    a, b = _utc(a), _utc(b)
    total = b - a
    for ps, pe in _merge(pauses):
        lo, hi = max(ps, a), min(pe, b)
        if lo < hi:
            total -= hi - lo
    return total


def _merge(pauses: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for s, e in sorted((_utc(s), _utc(e)) for s, e in pauses):
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
            amount = cal.business_time_between(start, plain) if _utc(plain) > _utc(start) else timedelta(0)
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
        if _utc(until) <= _utc(start):
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


def _target_from_config(
    profile: str, where: str, spec: dict[str, Any], known_calendars: Mapping[str, Calendar]
) -> TargetSpec:
    name = spec.get("target")
    if not isinstance(name, str) or not name:
        raise CalendarConfigError(f'profile {profile} {where}: every target needs a name (target = "...")')
    deadline = bool(spec.get("deadline", True))
    budget = calendar = None
    if deadline:
        try:
            budget = parse_budget(str(spec.get("budget", "")))
        except ValueError as exc:
            raise CalendarConfigError(f"profile {profile} {where} {name}: {exc}") from None
        calendar = spec.get("calendar")
        if calendar not in known_calendars:
            raise CalendarConfigError(f"profile {profile} {where} {name}: unknown calendar {calendar!r}")
    starts = spec.get("starts", "opened")
    if starts not in STARTS:
        raise CalendarConfigError(
            f"profile {profile} {where} {name}: starts must be one of {', '.join(repr(s) for s in STARTS)}"
        )
    return TargetSpec(
        name=name,
        budget=budget,
        calendar=calendar,
        starts=starts,
        pauses=bool(spec.get("pauses", True)),
        deadline=deadline,
        cal=known_calendars[calendar] if calendar else None,
    )


_RFC_TYPE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
PROFILE_KEYS = ("description", "office_hours", "maintenance_window", "rfc_types")


def _calendar_key(profile: str, spec: dict[str, Any], key: str, known_calendars: Mapping[str, Calendar]) -> str | None:
    value = spec.get(key)
    if value is not None and value not in known_calendars:
        raise CalendarConfigError(f"profile {profile}: {key} names unknown calendar {value!r}")
    return value


def _rfc_types_from_config(
    profile: str,
    spec: dict[str, Any],
    known_calendars: Mapping[str, Calendar],
    rfc_targets: tuple[TargetSpec, ...] | None,
    naming: Naming,
) -> tuple[RfcType, ...]:
    rows = spec.get("rfc_types")
    if rows is None:
        return DEFAULT_RFC_TYPES
    if not isinstance(rows, list) or not rows:
        raise CalendarConfigError(
            f"profile {profile}: rfc_types must list at least one type ([[profiles.{profile}.rfc_types]])"
        )
    found: list[RfcType] = []
    for row in rows:
        type_id = row.get("id") if isinstance(row, dict) else None
        if not isinstance(type_id, str) or not _RFC_TYPE_ID.match(type_id):
            raise CalendarConfigError(
                f"profile {profile}: every RFC type needs an id of lower-case letters, digits and -, got {type_id!r}"
            )
        where = f"profile {profile} RFC type {type_id}"
        if any(t.id == type_id for t in found):
            raise CalendarConfigError(f"{where}: listed twice")
        unknown = set(row) - {"id", "lead_time", "calendar", "title"}
        if unknown:
            raise CalendarConfigError(f"{where}: unknown keys {sorted(unknown)}")
        lead_time = None
        if "lead_time" in row:
            try:
                lead_time = parse_budget(str(row["lead_time"]))
            except ValueError as exc:
                raise CalendarConfigError(f"{where}: {exc}") from None
        calendar = row.get("calendar")
        if calendar is not None and calendar not in known_calendars:
            raise CalendarConfigError(f"{where}: unknown calendar {calendar!r}")
        if (
            lead_time is not None
            and calendar is None
            and not any(t.name == RECOVERY and t.calendar for t in rfc_targets or ())
        ):
            raise CalendarConfigError(
                f"{where}: a lead time needs a calendar (here, or on the profile's rfc resolution target)"
            )
        title = row.get("title")
        languages = naming.languages
        if title is None:
            if naming.keys is not None and f"form.rfc_type.{type_id.replace('-', '_')}" not in naming.keys:
                names = ", ".join(f'{lang} = "…"' for lang in languages)
                raise CalendarConfigError(f"{where}: the catalogues do not name it; give title = {{ {names} }}")
        elif not isinstance(title, dict) or any(
            not isinstance(title.get(lang), str) or not title[lang].strip() for lang in languages
        ):
            raise CalendarConfigError(f"{where}: title needs a name in each language ({', '.join(languages)})")
        found.append(
            RfcType(
                id=type_id,
                lead_time=lead_time,
                calendar=calendar,
                title={lang: title[lang].strip() for lang in languages} if title else None,
                cal=known_calendars[calendar] if calendar else None,
            )
        )
    return tuple(found)


@dataclass(frozen=True)
class Naming:
    """What the bot's catalogues offer a change type's name: the languages every configured title must
    have, and the catalogue keys (None: not checked, as when the rules are used without the bot)."""

    languages: tuple[str, ...] = ("en", "nl")
    keys: frozenset[str] | None = None


def load_profiles(
    config: dict[str, Any], known_calendars: Mapping[str, Calendar], naming: Naming = Naming()
) -> dict[str, Profile]:
    """Every profile of a configuration, checked against the known calendars."""
    tables = config.get("profiles")
    if not isinstance(tables, dict) or not tables:
        raise CalendarConfigError("the configuration has no [profiles]")
    profiles = {}
    for name, spec in tables.items():
        parsed: dict[tuple[str, str | None], tuple[TargetSpec, ...]] = {}
        for kind in KINDS:
            value = spec.get(kind)
            if value is None:
                continue
            if kind == "incident":
                unknown = set(value) - set(PRIORITIES)
                if unknown:
                    raise CalendarConfigError(f"profile {name}: unknown priorities {sorted(unknown)}")
                for priority, targets in value.items():
                    parsed[(kind, priority)] = tuple(
                        _target_from_config(name, f"incident {priority}", t, known_calendars) for t in targets
                    )
            else:
                parsed[(kind, None)] = tuple(_target_from_config(name, kind, t, known_calendars) for t in value)
        unknown_kinds = set(spec) - set(KINDS) - set(PROFILE_KEYS)
        if unknown_kinds:
            raise CalendarConfigError(f"profile {name}: unknown record kinds {sorted(unknown_kinds)}")
        profiles[name] = Profile(
            name=name,
            description=str(spec.get("description", "")),
            tables=parsed,
            office_hours=_calendar_key(name, spec, "office_hours", known_calendars),
            maintenance_window=_calendar_key(name, spec, "maintenance_window", known_calendars),
            rfc_types=_rfc_types_from_config(name, spec, known_calendars, parsed.get(("rfc", None)), naming),
        )
    return profiles


DEFAULT_PROFILE = "iot"


# -- a ticket's clocks -------------------------------------------------------------------------


@dataclass
class TicketHistory:
    """What the clocks need to know of a ticket; times are aware instants.

    `pauses` are the spans spent awaiting the customer (end None while still waiting).
    `resolved_at` is the resolution that stands (None once rejected); `restored_at` the first
    resolution, which a rejection leaves in place: the RFO and RCA count from it.
    `met` holds when other targets were delivered (e.g. "rfo", "rca").
    `lead_time`: the longer lead time an agent gave an RFC or RFI, replacing its recovery budget.
    """

    kind: str
    opened_at: datetime
    priority: str | None = None
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    roaming: bool = False
    met: dict[str, datetime] = field(default_factory=dict)
    restored_at: datetime | None = None
    lead_time: Budget | None = None
    rfc_type: str | None = None

    def met_at(self, target: str) -> datetime | None:
        """When `target` was met, if it was."""
        if target == "first_response":
            return self.first_response_at
        if target == RECOVERY:
            return self.resolved_at
        return self.met.get(target)


@dataclass(frozen=True)
class TargetStatus:
    """One clock of a ticket at a moment.

    state: "running", "paused", "met", "breached" (due passed, not met in time), "late" (a
    best-effort target past due: shown, not a breach), "no_deadline", "not_started" (its clock
    starts at a later event, e.g. the RFO at the resolution; `starts` names it). `extended`: its
    budget is a longer lead time an agent gave (then `budget` is that lead time).
    """

    target: str
    calendar: str | None
    budget: Budget | None
    due: datetime | None
    total: timedelta | None
    used: timedelta
    left: timedelta | None
    fraction: float | None
    paused: bool
    best_effort: bool
    state: str
    met_at: datetime | None = None
    extended: bool = False
    starts: str = "opened"


def _check_aware(*instants: datetime | None) -> None:
    for t in instants:
        if t is not None and (t.tzinfo is None or t.utcoffset() is None):
            raise NaiveDatetimeError(f"{t.isoformat()} has no time zone")


def _specs(history: TicketHistory, profile: Profile) -> list[tuple[TargetSpec, bool]]:
    """The targets of the ticket as they apply to it: (spec, extended), the recovery target's
    budget replaced by the lead time an agent gave an RFC or RFI."""
    result = []
    for spec in profile.targets(history.kind, history.priority, history.rfc_type):
        if (
            history.lead_time is not None
            and history.kind in EXTENDABLE
            and spec.name == RECOVERY
            and spec.deadline
            and spec.calendar is not None
        ):
            result.append((replace(spec, budget=history.lead_time), True))
        else:
            result.append((spec, False))
    return result


def _start(spec: TargetSpec, history: TicketHistory) -> datetime | None:
    """The instant the target's clock counts from, if it has come."""
    if spec.starts == STARTS_AT_RESOLUTION:
        return history.restored_at
    if spec.starts == "closed":
        return history.closed_at
    return history.opened_at


def deadlines(history: TicketHistory, profile: Profile, now: datetime) -> list[TargetStatus]:
    """Every target of the ticket's kind and priority under `profile`, as seen at `now`."""
    _check_aware(
        now, history.opened_at, history.first_response_at, history.resolved_at, history.closed_at, history.restored_at
    )
    specs = _specs(history, profile)
    _check_aware(*(t for span in history.pauses for t in span))
    _check_aware(*history.met.values())
    now = _utc(now)
    pauses = [(_utc(s), _utc(e) if e is not None else now) for s, e in history.pauses]
    paused_now = any(e is None and _utc(s) <= now for s, e in history.pauses)
    result = []
    for spec, extended in specs:
        met_at = history.met_at(spec.name)
        met_at = _utc(met_at) if met_at is not None else None
        best_effort = spec.name == RECOVERY and history.roaming
        start = _start(spec, history)
        start = _utc(start) if start is not None else None
        if not spec.deadline:
            result.append(
                TargetStatus(
                    spec.name,
                    None,
                    None,
                    None,
                    None,
                    timedelta(0),
                    None,
                    None,
                    False,
                    best_effort,
                    "met" if met_at else "no_deadline",
                    met_at,
                )
            )
            continue
        if start is None:
            result.append(
                TargetStatus(
                    spec.name,
                    spec.calendar,
                    spec.budget,
                    None,
                    None,
                    timedelta(0),
                    None,
                    None,
                    False,
                    best_effort,
                    "not_started",
                    met_at,
                    extended,
                    spec.starts,
                )
            )
            continue
        # An open pause counts up to now, so the due instant shown is where it stands now; a
        # target already met is not moved by waits that came after it was met.
        counted = [(ps, min(pe, met_at)) for ps, pe in pauses if ps < met_at] if met_at is not None else pauses
        due, total = spec.due(start, counted)
        zone = due.tzinfo
        due = _utc(due)
        until = min(now, met_at) if met_at else now
        used = spec.used(start, until, counted)
        left = max(total - used, timedelta(0))
        fraction = used / total if total else 1.0
        paused = paused_now and spec.pauses and met_at is None
        if met_at is not None:
            state = "met" if met_at < due else ("late" if best_effort else "breached")
        elif now >= due:
            state = "late" if best_effort else "breached"
        else:
            state = "paused" if paused else "running"
        result.append(
            TargetStatus(
                spec.name,
                spec.calendar,
                spec.budget,
                due.astimezone(zone),
                total,
                used,
                left,
                fraction,
                paused,
                best_effort,
                state,
                met_at,
                extended,
                spec.starts,
            )
        )
    return result


def points(
    history: TicketHistory, profile: Profile, now: datetime, fractions: Sequence[float]
) -> list[tuple[str, float, datetime]]:
    """(target, fraction, instant) for every running target: when each fraction of its budget
    will be used, given the pauses so far. Paused, met and not-started targets have none;
    a point already passed is given at its instant (the caller decides what to do with it)."""
    specs = {spec.name: spec for spec, _ in _specs(history, profile)}
    pauses = [(_utc(s), _utc(e) if e is not None else _utc(now)) for s, e in history.pauses]
    result = []
    for status in deadlines(history, profile, now):
        if status.state not in ("running", "breached", "late") or status.met_at is not None or status.total is None:
            continue
        spec = specs[status.target]
        start = _start(spec, history)
        if start is None:  # a clock that runs has started: never None here
            continue
        for fraction in fractions:
            result.append((status.target, fraction, spec.instant_at(start, status.total * fraction, pauses)))
    return result


def calendar_for(spec: TargetSpec) -> Calendar | None:
    """The calendar object of a target, if it has one."""
    return spec.cal
