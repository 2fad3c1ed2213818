"""The directory: organisations, spaces, people, staff roles and the audit timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Organisation(Base):
    """A customer organisation: its spaces' members are its customers."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # The name case-folded with spaces collapsed: "ACME  Logistics" and "acme logistics" are one org.
    key: Mapped[str] = mapped_column(String(100), unique=True)
    sla_profile: Mapped[str] = mapped_column(String(40), default="iot")
    language: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(320))


class SpaceRecord(Base):
    """What the bot knows of a Webex space: bound to an org, the staff space, or neither."""

    __tablename__ = "spaces"

    room_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    room_type: Mapped[str] = mapped_column(String(10), default="group")  # group|direct
    kind: Mapped[str] = mapped_column(String(10), default="unbound")  # customer|staff|unbound
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    language: Mapped[str | None] = mapped_column(String(5))
    changed_by: Mapped[str | None] = mapped_column(String(320))
    changed_at: Mapped[datetime | None]
    # When the bot's latest membership of the space began (Webex's data.created): a membership
    # event about an older one, delivered late, changes nothing.
    bot_joined_at: Mapped[datetime | None]
    # Whether the bot can post here: active; suspended (the bot was removed: the binding is kept,
    # nothing is sent until it is added again); unreachable (Webex refused a post with 403/404).
    state: Mapped[str] = mapped_column(String(12), default="active", server_default="active")
    state_changed_at: Mapped[datetime | None]


class Person(Base):
    """A person who talked to the bot; their language is used in 1:1 spaces and for pages."""

    __tablename__ = "people"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    person_id: Mapped[str | None] = mapped_column(String(300))
    display_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(5))
    last_seen: Mapped[datetime | None]


class RoleGrant(Base):
    """A staff role held by an email address; revoked grants stay as history."""

    __tablename__ = "role_grants"
    __table_args__ = (
        Index("ix_role_grants_email", "email", "role"),
        # At most one active grant of a role per person.
        Index(
            "uq_role_grants_active",
            "email",
            "role",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(30))
    granted_by: Mapped[str] = mapped_column(String(320))
    granted_at: Mapped[datetime]
    revoked_by: Mapped[str | None] = mapped_column(String(320))
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One line of an append-only timeline: who did what to which subject, when, from where."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))  # email, or "system"
    room_id: Mapped[str | None] = mapped_column(String(300))
    subject_type: Mapped[str] = mapped_column(String(30))  # role|space|org|…
    subject: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(40))
    old: Mapped[dict[str, Any] | None]
    new: Mapped[dict[str, Any] | None]
