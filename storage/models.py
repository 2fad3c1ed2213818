"""The runtime's tables: the inbox of webhook events, the outbox of messages, timers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime


class Base(DeclarativeBase):
    """Declarative base of every model."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class InboxEvent(Base):
    """A webhook delivery accepted by the endpoint, waiting to be (or already) processed."""

    __tablename__ = "inbox_events"
    __table_args__ = (Index("ix_inbox_claim", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # resource + ":" + data.id: Webex may deliver one event more than once.
    event_key: Mapped[str] = mapped_column(String(300), unique=True)
    resource: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|claimed|done|ignored|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """A message the bot will send, edit or delete; rows of one space go out in id order."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_head", "order_key", "status", "id"), Index("ix_outbox_due", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The space (room id) or the 1:1 recipient ("person:<email>"); order is kept per key.
    order_key: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(10), default="create")  # create|update|delete
    room_id: Mapped[str | None] = mapped_column(String(300))
    to_person_email: Mapped[str | None] = mapped_column(String(320))
    parent_id: Mapped[str | None] = mapped_column(String(300))
    # A thread root the bot itself is still sending: its Webex id is known once it is sent.
    parent_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
    # For update/delete: the outbox row of the message being changed.
    target_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
    target_message_id: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str | None] = mapped_column(Text)
    markdown: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[Any] | None]
    purpose: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    # Set just before the request to Webex: a row found "sending" with this set is in doubt.
    attempt_started_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    webex_message_id: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)


class Timer(Base):
    """A durable timer: at `due_at` the handler registered for `kind` runs once."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "status", "due_at"), Index("ix_timers_ref", "kind", "ref"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    ref: Mapped[str] = mapped_column(String(200))
    # Optional uniqueness: scheduling the same key twice keeps one timer.
    key: Mapped[str | None] = mapped_column(String(300), unique=True)
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|claimed|done|cancelled|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
