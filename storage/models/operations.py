"""The desk's operations around tickets: on-call teams, shifts and pages, subscriptions,
maintenance, disruptions and problems."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class OnCallTeam(Base):
    """A team that is paged: its ordered rota and how patiently it is paged."""

    __tablename__ = "oncall_teams"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    rota: Mapped[list[Any]]  # engineer emails, in paging order
    repage_minutes: Mapped[int] = mapped_column(Integer, default=5)
    pages_per_engineer: Mapped[int] = mapped_column(Integer, default=2)


class OnCallShift(Base):
    """A planned (or taken-over) shift: `email` is on call first from `starts_at` until `ends_at`."""

    __tablename__ = "oncall_shifts"
    __table_args__ = (Index("ix_oncall_shifts_team", "team", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team: Mapped[str] = mapped_column(ForeignKey("oncall_teams.name"))
    email: Mapped[str] = mapped_column(String(320))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(320))


class Page(Base):
    """One page sent to one engineer about one ticket, and what became of it."""

    __tablename__ = "pages"
    __table_args__ = (Index("ix_pages_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    team: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(320))
    position: Mapped[int] = mapped_column(Integer)  # index in the paging order
    attempt: Mapped[int] = mapped_column(Integer)  # 1, 2, … for this engineer
    sent_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending|unanswered|declined|acknowledged|stopped
    answered_at: Mapped[datetime | None]


class Subscription(Base):
    """A customer space wants the notices of one service."""

    __tablename__ = "subscriptions"

    room_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    service: Mapped[str] = mapped_column(String(40), primary_key=True)


class Maintenance(Base):
    """Planned or ad-hoc work on one or more services, and where it was announced."""

    __tablename__ = "maintenances"
    __table_args__ = (Index("ix_maintenances_status", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    services: Mapped[list[Any]]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    impact: Mapped[str] = mapped_column(Text)
    planned: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="announced")  # announced|started|completed|cancelled
    audience: Mapped[list[Any]]  # room ids that were told about it
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]


class Disruption(Base):
    """A generic disruption affecting several customers, with its promised next update."""

    __tablename__ = "disruptions"
    __table_args__ = (Index("ix_disruptions_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    services: Mapped[list[Any]]
    severity: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open|closed
    impact: Mapped[str] = mapped_column(Text)
    actions: Mapped[str] = mapped_column(Text)
    next_steps: Mapped[str] = mapped_column(Text)
    next_update_at: Mapped[datetime | None]
    ticket_ids: Mapped[list[Any]]  # linked tickets
    opened_by: Mapped[str] = mapped_column(String(320))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closure: Mapped[dict[str, Any] | None]


class DisruptionProposal(Base):
    """Incidents that look like one disruption, proposed to the staff (once per set)."""

    __tablename__ = "disruption_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service: Mapped[str] = mapped_column(String(40))
    ticket_ids: Mapped[list[Any]]
    status: Mapped[str] = mapped_column(String(12), default="proposed")  # proposed|opened|dismissed
    created_at: Mapped[datetime]


class Problem(Base):
    """A problem: the cause behind one or more incidents, owned by a problem manager."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open|closed
    ticket_ids: Mapped[list[Any]]
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[dict[str, Any] | None]
