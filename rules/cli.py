"""`run_bot.py sla add | between | targets`: the calendar and SLA engine for scripts.

Output is stable (one ISO 8601 instant with offset per line, or `HH:MM`, or JSON) and bad
input exits with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, NoReturn, Protocol
from zoneinfo import ZoneInfo

from rules import clock_state, load_service_levels, sla
from rules.calendar import Calendar, CalendarConfigError
from rules.local_time import EARLIEST, LATEST, localize

AMSTERDAM_KEY = "Europe/Amsterdam"


class CliInputError(ValueError):
    """Input the sla command cannot use; the message is the one line shown."""


class ServiceLevels(NamedTuple):
    """The calendars and profiles of the service-levels file in use."""

    calendars: dict[str, Calendar]
    profiles: dict[str, sla.Profile]


class Files(Protocol):
    """Where the operator's files are (the runtime's settings; this package does not import them)."""

    @property
    def service_levels_file(self) -> str | None: ...


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad arguments in one line and exits with 2."""

    def error(self, message: str) -> NoReturn:  # noqa: D102 - argparse's hook
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(2)


_VALUE_OPTIONS = ("--start", "--end", "--duration", "--resolved", "--closed")


def join_dashed_values(argv: list[str]) -> list[str]:
    """Keep `--duration -3bh` as an option with a (negative) value, so the refusal says so,
    instead of argparse reading `-3bh` as an unknown option."""
    joined: list[str] = []
    i = 0
    while i < len(argv):
        if (
            argv[i] in _VALUE_OPTIONS
            and i + 1 < len(argv)
            and argv[i + 1].startswith("-")
            and not argv[i + 1].startswith("--")
        ):
            joined.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            joined.append(argv[i])
            i += 1
    return joined


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `sla` and its actions on the run_bot.py subparsers."""
    parser = sub.add_parser(
        "sla",
        help="business time and SLA deadlines (scripts and checks)",
        description="Compute deadlines with the business calendars and SLA profiles.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=OneLineParser)
    add = actions.add_parser(
        "add",
        help="the deadline a budget gives from a start",
        description="Print the instant at which DURATION after START is used up.",
    )
    add.add_argument("--calendar", default="iot-office", help="calendar name (default iot-office)")
    add.add_argument("--start", required=True, help="ISO 8601; local Europe/Amsterdam time unless it has an offset")
    add.add_argument(
        "--duration", required=True, help="16bh office hours, 30bm office minutes, 5bd business days, 8h / 90m elapsed"
    )
    add.add_argument("--end-of-day", action="store_true", help="with bd: the closing time of the N-th business day")
    between = actions.add_parser(
        "between",
        help="business time between two instants",
        description="Print the business time from START to END as HH:MM.",
    )
    between.add_argument("--calendar", default="iot-office", help="calendar name (default iot-office)")
    between.add_argument("--start", required=True, help="ISO 8601; local unless it has an offset")
    between.add_argument("--end", required=True, help="ISO 8601; local unless it has an offset")
    targets = actions.add_parser(
        "targets",
        help="every target's due time for a record opened at START",
        description="Print each SLA target of a record kind and priority with its due time.",
    )
    targets.add_argument("--profile", default=sla.DEFAULT_PROFILE, help="SLA profile (default iot)")
    targets.add_argument("--kind", default="incident", help="incident, rfc, rfi or complaint")
    targets.add_argument("--priority", help="P1, P2 or P3 (incidents)")
    targets.add_argument("--start", required=True, help="when the record was opened; local unless it has an offset")
    targets.add_argument(
        "--resolved", help="when it was first resolved (targets that count from the resolution: a P1's RFO and RCA)"
    )
    targets.add_argument("--closed", help="when it was closed (targets a profile counts from the closure)")
    targets.add_argument("--json", action="store_true", help="print JSON instead of lines")


def parse_instant(text: str, zone_key: str = AMSTERDAM_KEY) -> datetime:
    """An ISO 8601 date-time from 2000 to 2099 (the calendars' range); local time in the calendar's
    zone unless it carries an offset."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliInputError(f"{text!r} is not an ISO 8601 date and time such as 2026-01-09T17:00") from None
    if not EARLIEST <= value.date() <= LATEST:
        raise CliInputError(f"{text!r} is not between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    if value.tzinfo is None:
        try:
            value = localize(value, ZoneInfo(zone_key))
        except ValueError as exc:
            raise CliInputError(str(exc)) from None
    return value


def format_hours(duration: timedelta) -> str:
    """A duration as HH:MM (hours may exceed 24)."""
    minutes = int(duration.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _calendar(levels: ServiceLevels, name: str) -> Calendar:
    if name not in levels.calendars:
        raise CliInputError(f"unknown calendar {name!r}; known: {', '.join(sorted(levels.calendars))}")
    return levels.calendars[name]


def _add(args: argparse.Namespace, levels: ServiceLevels) -> list[str]:
    cal = _calendar(levels, args.calendar)
    start = parse_instant(args.start, cal.zone.key)
    try:
        budget = sla.parse_budget(args.duration)
    except ValueError as exc:
        raise CliInputError(str(exc)) from None
    if args.end_of_day and budget.unit != "bd":
        raise CliInputError("--end-of-day goes with a duration in business days, such as 3bd")
    if budget.unit == "bd-eod" or args.end_of_day:
        due = cal.add_business_days(start, budget.amount, end_of_day=True)
    elif budget.unit == "bd":
        due = cal.add_business_days(start, budget.amount)
    elif budget.elapsed:
        # In UTC: on the zone's wall clock a DST night would make 8 h seven or nine.
        due = (start.astimezone(UTC) + budget.as_timedelta()).astimezone(cal.zone)
    else:
        due = cal.add_business_time(start, budget.as_timedelta())
    return [due.isoformat()]


def _between(args: argparse.Namespace, levels: ServiceLevels) -> list[str]:
    cal = _calendar(levels, args.calendar)
    start, end = parse_instant(args.start, cal.zone.key), parse_instant(args.end, cal.zone.key)
    if end.astimezone(UTC) < start.astimezone(UTC):
        raise CliInputError(f"--end {args.end} is before --start {args.start}")
    return [format_hours(cal.business_time_between(start, end))]


def _targets(args: argparse.Namespace, levels: ServiceLevels) -> list[str]:
    try:
        name = args.profile or sla.DEFAULT_PROFILE
        if name not in levels.profiles:
            raise KeyError(f"unknown profile {name!r}; known: {', '.join(sorted(levels.profiles))}")
        profile = levels.profiles[name]
        kind = args.kind.lower()
        priority = args.priority.upper() if args.priority else None
        specs = profile.targets(kind, priority if kind == "incident" else None)
    except KeyError as exc:
        raise CliInputError(exc.args[0]) from None
    start = parse_instant(args.start)
    later: dict[str, datetime | None] = {}
    for option in ("resolved", "closed"):
        value = getattr(args, option)
        at = parse_instant(value) if value else None
        if at is not None and at.astimezone(UTC) < start.astimezone(UTC):
            raise CliInputError(f"--{option} is before --start")
        later[option] = at
    history = clock_state.TicketHistory(
        kind=kind,
        priority=priority if kind == "incident" else None,
        opened_at=start,
        restored_at=later["resolved"],
        closed_at=later["closed"],
    )
    rows = clock_state.deadlines(history, profile, now=start)
    if args.json:
        return [
            json.dumps(
                [
                    {
                        "target": r.target,
                        "due": r.due.isoformat() if r.due else None,
                        "budget": str(r.budget) if r.budget else None,
                        "calendar": r.calendar,
                        "starts": spec.starts,
                        "deadline": spec.deadline,
                    }
                    for r, spec in zip(rows, specs, strict=False)
                ]
            )
        ]
    lines = []
    for r, spec in zip(rows, specs, strict=False):
        if not spec.deadline:
            lines.append(f"{r.target} none")
        elif r.due is None:
            lines.append(f"{r.target} from-{'resolution' if spec.starts == sla.STARTS_AT_RESOLUTION else 'closure'}")
        else:
            lines.append(f"{r.target} {r.due.isoformat()}")
    return lines


def run(args: argparse.Namespace, settings: Files) -> int:
    """Carry out `run_bot.py sla ACTION`; 0 on success, 2 on bad input."""
    try:
        calendars, profiles = load_service_levels(settings.service_levels_file)
        lines = {"add": _add, "between": _between, "targets": _targets}[args.action](
            args, ServiceLevels(calendars, profiles)
        )
    except (CliInputError, CalendarConfigError) as exc:
        sys.stderr.write(f"run_bot.py sla {args.action}: {exc}\n")
        return 2
    for line in lines:
        sys.stdout.write(line + "\n")
    return 0
