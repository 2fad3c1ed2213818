"""The tickets family's answers to disruption events, connected here until the tickets package
connects them in its own register(): opening and resolving tickets is the tickets family's."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from commands.events import disruption_affected, disruption_closed
from commands.tickets import open_ticket, resolve
from storage.models import Ticket


def on_disruption_closed(ctx: Context, *, ticket: Ticket, cause: str, summary: str) -> None:
    """A disruption closed with this ticket linked and open: resolved with the disruption's cause and summary."""
    resolve(ctx, ticket, {"cause": cause, "resolution": summary, "outcome": summary}, quiet=True)


def on_disruption_affected(ctx: Context, *, disruption: str, inputs: dict[str, Any]) -> Ticket | None:
    """An incident of the organisation, linked to the disruption from the start (its notice's button)."""
    return open_ticket(ctx, "incident", inputs, disruption=disruption)


def connect() -> None:
    """Connect the listeners (once however often it is called: blinker keeps one of each)."""
    disruption_closed.connect(on_disruption_closed, weak=False)
    disruption_affected.connect(on_disruption_affected, weak=False)
