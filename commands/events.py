"""Domain events: how one command family tells the others what happened without importing them.

A flow sends an event with the context it runs in (a handler's `Context` or a timer's
`TimerContext`) as the sender, the record and the instant (`now`) as keywords; listeners connect
in their family's `register()` (so they run in the order of `commands.FAMILIES`), run in the
sender's transaction, and must not commit. Signals are blinker's, so a listener is called once
however often its family registers.
"""

from __future__ import annotations

from typing import Protocol

from blinker import Namespace
from sqlalchemy.orm import Session

from rules import Rules


class Sender(Protocol):
    """What every sender offers its listeners: the transaction and the operator's rules."""

    @property
    def session(self) -> Session: ...

    @property
    def rules(self) -> Rules: ...


_events = Namespace()

# A ticket was registered (ticket=Ticket, now): clocks start, watchers hear, a P1 request pages,
# disruption detection looks. Sent by tickets.
ticket_opened = _events.signal("ticket-opened")
# A ticket changed in a way its clocks follow (ticket=Ticket, now): taken, answered, noted,
# converted, its priority or lead time set, its page acknowledged: clocks re-plan and the countdown
# is brought up to date. Sent by tickets, paging, lead_times.
ticket_changed = _events.signal("ticket-changed")
# The desk asked the customer something (ticket=Ticket, now, asked_by=email): the clocks pause,
# and the staff is reminded when no answer comes. Sent by tickets.
ticket_awaiting = _events.signal("ticket-awaiting")
# A ticket's resolution was recorded (ticket=Ticket, now), after the customer was told; an RFC or
# RFI is closed with it: clocks plan aftercare and 2-2-2 (or stop), watchers hear, pages stop.
# Sent by tickets.
ticket_resolved = _events.signal("ticket-resolved")
# A resolved ticket was closed (ticket=Ticket, now, how="confirmed" | "no_answer" | "agreed"):
# every clock of it stops; watchers hear of a confirmation and of an auto-closure. Sent by
# tickets and clocks (the 2-2-2 closure).
ticket_closed = _events.signal("ticket-closed")
# A ticket was reopened (ticket=Ticket, now): 2-2-2 stops, clocks run again.
ticket_reopened = _events.signal("ticket-reopened")
# A customer asked for a priority (ticket=Ticket, priority=str, now): a P1 request pages, any
# other request stops a page. Sent by tickets.
priority_requested = _events.signal("priority-requested")
# An agent or the on-call engineer decided a ticket's priority (ticket=Ticket, old=str | None,
# new=str | None, now); old == new when a request was declined and the ticket keeps its own: a new
# P1 pages, anything else stops paging and says so where it was decided. Sent by tickets.
priority_changed = _events.signal("priority-changed")
# A P1's RFO or RCA was delivered (ticket=Ticket, now): its reminders are re-planned and the
# countdown shows it met. Sent by tickets.
follow_up_delivered = _events.signal("follow-up-delivered")
# An incident is about to be registered (service=str | None, inputs=the intake's fields, now):
# maintenance answers (number, notice, "report anyway" card) when one runs on the service, else
# None; tickets then answers with the notice instead. Sent by tickets.
incident_intake = _events.signal("incident-intake")
# A disruption was closed with a ticket linked to it and still open (ticket=Ticket, cause=str,
# summary=str), sent once per such ticket: tickets resolves it quietly with the disruption's
# cause and summary. Sent by disruptions.
disruption_closed = _events.signal("disruption-closed")
# An organisation is affected by a disruption too (disruption=number, inputs=the incident's intake
# fields): tickets opens an incident linked to it and returns the Ticket (the sender reads it from
# the send's results). Sent by disruptions.
disruption_affected = _events.signal("disruption-affected")
