"""What the clock flows share: the kinds of their timers, a ticket's timer ref, the ticket read under lock."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.db import is_postgres
from storage.models.tickets import Ticket

# A P1's deliverables after the resolution: reminded a business day before and at their
# deadline (plan_aftercare), not at 75% and 90% of their budget like the ticket's own targets.
AFTERCARE_TARGETS = ("rfo", "rca_target", "rca")
POINT = "sla.point"
REMIND = "ticket.222"
AFTERCARE = "ticket.aftercare"
WAITING = "ticket.waiting"
TWO_DAYS = 2


def ref(ticket: Ticket) -> str:
    """The ref of the ticket's clock timers."""
    return f"ticket:{ticket.id}"


def locked(session: Session, ticket_id: int) -> Ticket | None:
    """The ticket of a clock timer, locked and read afresh.

    The commands that change a ticket cancel its clock timers without waiting for one another
    worker is running (`skip_running`): that timer's handler waits here for the ticket instead,
    and reads it as the command left it, so it neither deadlocks with the command nor acts on
    what the command just changed.
    """
    return session.get(Ticket, ticket_id, with_for_update=is_postgres(session), populate_existing=True)


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    """The card as a message attachment."""
    return {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
