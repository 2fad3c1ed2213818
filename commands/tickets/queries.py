"""Reads of the ticket views (never commit): a ticket's numbers and its timeline under all of them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import directory
from storage.models.directory import AuditEntry
from storage.models.tickets import Ticket, TicketNumber


def aliases(session: Session, ticket: Ticket) -> list[str]:
    """Every number the ticket has had (an RFI converted to an incident keeps its RFI number)."""
    return list(session.scalars(select(TicketNumber.number).where(TicketNumber.ticket_id == ticket.id)))


def timeline(session: Session, ticket: Ticket) -> list[AuditEntry]:
    """The ticket's timeline under all its numbers, oldest first."""
    entries: list[AuditEntry] = []
    for number in aliases(session, ticket):
        entries += directory.timeline(session, subject_type="ticket", subject=number)
    return sorted(entries, key=lambda e: e.id)
