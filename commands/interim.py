"""The tickets family's answers to disruption events, connected here until the tickets package
connects them in its own register(): opening and resolving tickets is the tickets family's."""

from __future__ import annotations

from bot.context import Context
from commands import tickets
from commands.events import disruption_affected, disruption_closed
from storage.models import Disruption, Ticket


def resolve_linked(sender: Context, *, disruption: Disruption, summary: str, cause: str) -> None:
    """The disruption's linked tickets still open are resolved quietly with its summary and cause."""
    for ticket_id in disruption.ticket_ids:
        ticket = sender.session.get(Ticket, ticket_id)
        if ticket is None or ticket.status in ("resolved", "closed"):
            continue
        tickets.resolve(sender, ticket, {"cause": cause, "resolution": summary, "outcome": summary}, quiet=True)


def open_affected(sender: Context, *, disruption: Disruption) -> Ticket | None:
    """An incident of the sender's organisation on the disruption's first service, marked with its number."""
    ctx = sender
    return tickets.open_ticket(ctx, "incident", {"service": disruption.services[0],
                                                 "title": ctx.t("dis.affected.title", number=disruption.number)[:200],
                                                 "contact_name": ctx.actor.display_name or ctx.actor.email, "email": ctx.actor.email},
                               disruption=disruption.number)


def connect() -> None:
    """Connect the listeners (once however often it is called: blinker keeps one of each)."""
    disruption_closed.connect(resolve_linked, weak=False)
    disruption_affected.connect(open_affected, weak=False)
