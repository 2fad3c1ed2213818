"""Reads of the clocks (never commit): a ticket's pending clock timers, who resolved it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models.directory import AuditEntry
from storage.models.runtime import Timer
from storage.models.tickets import Ticket


def pending_clock_timers(session: Session, ticket: Ticket) -> list[Timer]:
    """The ticket's pending timers (tests and /ticket)."""
    return list(
        session.scalars(
            select(Timer).where(Timer.ref == f"ticket:{ticket.id}", Timer.status == "pending").order_by(Timer.due_at)
        )
    )


def resolved_by(session: Session, ticket: Ticket) -> str | None:
    """Who resolved the ticket last (proposed a complaint's outcome), from its timeline."""
    return session.scalar(
        select(AuditEntry.actor)
        .where(
            AuditEntry.subject_type == "ticket", AuditEntry.subject == ticket.number, AuditEntry.action == "resolved"
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
