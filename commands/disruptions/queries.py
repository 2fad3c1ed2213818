"""What the disruption commands read: disruptions and proposals, their audiences, what their notices reached (never commits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.common.audience import audience
from rules import Rules
from storage import directory
from storage.models.operations import Disruption
from storage.models.runtime import OutboxMessage
from storage.models.tickets import Ticket

# The notices to the audience: the spaces they went to are the ones that get the RCA.
NOTICE_KINDS = ("opened", "updated", "closed")


def audience_of(session: Session, d: Disruption, *, rules: Rules) -> list[str]:
    """Subscribers of an affected service (and spaces without subscriptions), plus spaces with a linked
    ticket, as far as the bot can post in them now."""
    rooms = set(audience(session, d.services, rules=rules))
    for ticket_id in d.ticket_ids:
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None and directory.reachable(session, room_id=ticket.room_id):
            rooms.add(ticket.room_id)
    return sorted(rooms)


def promised_update(d: Disruption) -> datetime:
    """When the next update was promised: an open disruption always has it (opening and updating require it)."""
    if d.next_update_at is None:
        raise ValueError(f"disruption {d.number} has no promised update")
    return d.next_update_at


def session_ticket(session: Session, ticket_id: int) -> Ticket | None:
    """A ticket by id, if it exists."""
    return session.get(Ticket, ticket_id)


def notified_rooms(session: Session, d: Disruption) -> list[str]:
    """The spaces its notices (opened, updated, closed) went to, as far as the bot can post in them now.

    The outbox keeps a disruption's notices whatever their age (bot/retention.py), so this is the
    audience of every moment of the disruption, not the subscribers of today.
    """
    purposes = [f"disruption:{d.number}:{kind}" for kind in NOTICE_KINDS]
    found = session.scalars(
        select(OutboxMessage.room_id)
        .distinct()
        .where(
            OutboxMessage.purpose.in_(purposes),
            OutboxMessage.action == "create",
            OutboxMessage.status != "failed",
            OutboxMessage.room_id.is_not(None),
        )
    ).all()
    return sorted(room_id for room_id in found if room_id is not None and directory.reachable(session, room_id=room_id))
