"""Watchers: the addresses a ticket's intake named hear in a 1:1 space of what happens to it (its
registration, its resolution, its closure), following the tickets' events (flows.py)."""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from commands import events
from commands.watchers import flows


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's listeners."""
    timers.on_undeliverable(flows.on_undeliverable)
    events.ticket_opened.connect(flows.on_ticket_opened, weak=False)
    events.ticket_resolved.connect(flows.on_ticket_resolved, weak=False)
    events.ticket_closed.connect(flows.on_ticket_closed, weak=False)
