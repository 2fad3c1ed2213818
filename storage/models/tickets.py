"""Tickets: their numbers (with the numbers they had before) and the spans they waited for the customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Sequence(Base):
    """The next number of each record prefix (INC, RFC, …); numbers are never reused."""

    __tablename__ = "sequences"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    next_value: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    """An incident, request for change, request for information or complaint of one organisation."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_org_status", "org_id", "status"),
        Index("ix_tickets_status", "status"),
        Index(
            "ix_tickets_root_outbox",
            "root_outbox_id",
            postgresql_where=text("root_outbox_id IS NOT NULL"),
            sqlite_where=text("root_outbox_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # incident|rfc|rfi|complaint
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    room_id: Mapped[str] = mapped_column(String(300))
    # The confirmation message: the root of the ticket's thread in the customer space.
    root_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
    status: Mapped[str] = mapped_column(String(20), default="new")  # new|in_progress|awaiting_customer|resolved|closed
    priority: Mapped[str | None] = mapped_column(String(2))
    requested_priority: Mapped[str | None] = mapped_column(String(2))
    service: Mapped[str | None] = mapped_column(String(40))
    # An incident's or RFC's title is at most 200 characters; an RFI's question and a complaint
    # (4,000) are their titles. SQLite enforces no length and keeps the column it was made with.
    title: Mapped[str] = mapped_column(String(200).with_variant(String(4000), "postgresql"))
    description: Mapped[str | None] = mapped_column(Text)
    # Kind-specific fields (impact, contact, watchers, roaming, RFC type and date, references, …).
    details: Mapped[dict[str, Any]]
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(320))
    assignee: Mapped[str | None] = mapped_column(String(320))
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    # The first resolution, when the service was restored: a rejected resolution clears
    # resolved_at and keeps this, so the RFO and RCA, which count from it, do not start again.
    restored_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # A longer lead time an agent gave an RFC or RFI ("10bd", with a reason on the timeline); None: the profile's.
    lead_time: Mapped[str | None] = mapped_column(String(12))
    resolution: Mapped[dict[str, Any] | None]
    # The SLA clocks' own state: the countdown message and its edits, the warnings sent.
    clock: Mapped[dict[str, Any]] = mapped_column(default=dict)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # Paging: "active" while engineers are being paged, "acknowledged", "exhausted", or None.
    paging: Mapped[str | None] = mapped_column(String(16))
    acknowledged_by: Mapped[str | None] = mapped_column(String(320))
    acknowledged_at: Mapped[datetime | None]


class TicketNumber(Base):
    """Every number a ticket had: an RFI converted to an incident is still found by its RFI number."""

    __tablename__ = "ticket_numbers"

    number: Mapped[str] = mapped_column(String(16), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))


class TicketPause(Base):
    """A span a ticket waited for the customer; its office-hour clocks did not run."""

    __tablename__ = "ticket_pauses"
    __table_args__ = (Index("ix_ticket_pauses_ticket", "ticket_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
