"""The runtime's own tables: the durable queues (inbox, outbox, timers), the webhook watchdog's
streaks, the per-person rate limit and the one-shot cards already used."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class InboxEvent(Base):
    """A webhook delivery accepted by the endpoint, waiting to be (or already) processed."""

    __tablename__ = "inbox_events"
    __table_args__ = (
        Index("ix_inbox_claim", "status", "next_attempt_at"),
        Index("ix_inbox_head", "order_key", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # resource:event:data.id (and data.created for memberships): Webex may deliver one event more than once.
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
    # The space the event happened in (data.roomId): a space's events are handled in the order they arrived.
    order_key: Mapped[str | None] = mapped_column(String(300))


class OutboxMessage(Base):
    """A message the bot will send, edit or delete; rows of one space go out in id order."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_head", "order_key", "status", "id"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # Rows pointing at a row: what the retention asks before deleting it, and the foreign keys check.
        # Partial: most rows point at none, and every claim and send rewrites a row's index entries.
        Index(
            "ix_outbox_parent",
            "parent_outbox_id",
            postgresql_where=text("parent_outbox_id IS NOT NULL"),
            sqlite_where=text("parent_outbox_id IS NOT NULL"),
        ),
        Index(
            "ix_outbox_target",
            "target_outbox_id",
            postgresql_where=text("target_outbox_id IS NOT NULL"),
            sqlite_where=text("target_outbox_id IS NOT NULL"),
        ),
    )

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
    # At most one file, uploaded with the message: {"name", "content_type", "text"} (Webex takes one per message).
    files: Mapped[list[Any] | None]
    purpose: Mapped[str | None] = mapped_column(String(80))
    # 0 urgent (P1 pages and their outcome), 1 normal: which space's head goes first; order within a space is kept.
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
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


class WebhookStreak(Base):
    """One of the bot's webhooks that Webex disabled: how often the watchdog set it active again
    since, when it may try next, whether the staff were told. Gone once the webhook stayed active."""

    __tablename__ = "webhook_streaks"

    hook_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    told_at: Mapped[datetime | None]
    # The first check that found the webhook active after the latest re-activation.
    active_since: Mapped[datetime | None]


class CommandRate(Base):
    """Recent command instants of one person, for the per-person rate limit."""

    __tablename__ = "command_rates"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    recent: Mapped[list[Any]]  # epoch seconds of the latest commands, oldest first
    warned_at: Mapped[datetime | None]


class FormSubmission(Base):
    """A one-shot card that was used: the card's message, what its press made, and who pressed it."""

    __tablename__ = "form_submissions"

    # The Webex id of the card's message: every press of one card carries it, whatever its action id.
    message_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    action: Mapped[str] = mapped_column(String(80))
    # What the press made, as the refusal of a later press names it (INC-1001, DIS-1001, …); None when nothing was.
    number: Mapped[str | None] = mapped_column(String(200))
    submitted_by: Mapped[str] = mapped_column(String(320))
    submitted_at: Mapped[datetime]
