"""The state of each clock of a ticket: `deadlines()` turns a ticket's history into one
`TargetStatus` per target of its profile: due instant, budget, used, left, fraction, paused,
and met / breached.

Priority changes recompute from the Incident Start Time with the current priority (SPEC §4),
so the history carries the current priority only. A roaming partner's involvement turns the
recovery target into best effort: it is still computed and shown, never counted as breached.
An RFC or RFI given a longer lead time (SPEC §5) has its recovery target's budget replaced by
that lead time, so its deadline comes from the same arithmetic, and it shows as extended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from rules.calendar import Calendar, NaiveDatetimeError
from rules.sla import EXTENDABLE, RECOVERY, STARTS_AT_RESOLUTION, Budget, Profile, TargetSpec, as_utc


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
    now = as_utc(now)
    pauses = [(as_utc(s), as_utc(e) if e is not None else now) for s, e in history.pauses]
    paused_now = any(e is None and as_utc(s) <= now for s, e in history.pauses)
    result = []
    for spec, extended in specs:
        met_at = history.met_at(spec.name)
        met_at = as_utc(met_at) if met_at is not None else None
        best_effort = spec.name == RECOVERY and history.roaming
        start = _start(spec, history)
        start = as_utc(start) if start is not None else None
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
        due = as_utc(due)
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
    pauses = [(as_utc(s), as_utc(e) if e is not None else as_utc(now)) for s, e in history.pauses]
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
