"""SLA clocks in chat: the countdown message, 75/90/breach warnings, the 2-2-2 method, P1 aftercare,
and reminders of a customer's answer that does not come (flows.py, reminders.py, aftercare.py,
countdown.py). The clocks follow the tickets' events: every change re-plans them."""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from commands import events
from commands.clocks import aftercare, flows, reminders, shared


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's timers and listeners."""
    timers.handler(shared.POINT)(flows.on_point)
    timers.handler(shared.REMIND)(reminders.on_reminder)
    timers.handler(shared.WAITING)(reminders.on_waiting)
    timers.handler(shared.AFTERCARE)(aftercare.on_aftercare)
    events.ticket_opened.connect(flows.on_ticket_changed, weak=False)
    events.ticket_changed.connect(flows.on_ticket_changed, weak=False)
    events.ticket_awaiting.connect(flows.on_ticket_awaiting, weak=False)
    events.ticket_resolved.connect(flows.on_ticket_resolved, weak=False)
    events.ticket_closed.connect(flows.on_ticket_closed, weak=False)
    events.ticket_reopened.connect(flows.on_ticket_reopened, weak=False)
    events.follow_up_delivered.connect(flows.on_follow_up_delivered, weak=False)
