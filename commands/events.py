"""Domain events: how one command family tells the others what happened without importing them.

A flow sends an event with the context it runs in (a handler's `Context` or a timer's
`TimerContext`) as the sender and the record as a keyword; listeners connect in their family's
`register()`, run in the sender's transaction, and must not commit. Signals are blinker's, so a
listener is called once however often its family registers.
"""

from __future__ import annotations

from blinker import Namespace

_events = Namespace()

# A ticket was registered (ticket=Ticket): clocks start, P1s page, disruption detection looks.
ticket_opened = _events.signal("ticket-opened")
# A ticket's resolution was recorded (ticket=Ticket): pages stop, aftercare (RFO/RCA) is planned.
ticket_resolved = _events.signal("ticket-resolved")
# A ticket was closed (ticket=Ticket): every timer of it stops.
ticket_closed = _events.signal("ticket-closed")
# A ticket was reopened (ticket=Ticket): clocks run again.
ticket_reopened = _events.signal("ticket-reopened")
# A ticket's priority changed (ticket=Ticket, old=str | None, new=str | None).
priority_changed = _events.signal("priority-changed")
# A disruption was closed (disruption=Disruption, summary=str, cause=str): its linked tickets still
# open are resolved quietly, with the summary as resolution and outcome and the cause as cause.
disruption_closed = _events.signal("disruption-closed")
# A customer space pressed "we are affected too" on a disruption's notice (disruption=Disruption):
# an incident of the sender's organisation on its first service, titled after it and marked with its
# number, is opened and returned; the one receiver's answer is that ticket.
disruption_affected = _events.signal("disruption-affected")
