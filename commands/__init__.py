"""Command families. `register(router, timers)` registers every family's commands, card actions,
timers and listeners; importing a family registers nothing."""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from commands import (
    admin,
    clocks,
    disruptions,
    escalation,
    help,
    lead_times,
    maintenance,
    paging,
    problems,
    report,
    sla,
    tickets,
    watchers,
)

FAMILIES = (
    help,
    sla,
    admin,
    tickets,
    clocks,
    watchers,
    report,
    paging,
    escalation,
    lead_times,
    maintenance,
    disruptions,
    problems,
)


def register(router: Router, timers: TimerRegistry) -> None:
    """Register every family with `router` and `timers`."""
    for family in FAMILIES:
        family.register(router, timers)
