"""The tables: runtime queues (inbox, outbox, timers), and the directory of orgs, spaces, people, roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime


class Base(DeclarativeBase):
    """Declarative base of every model."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


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


class CommandRate(Base):
    """Recent command instants of one person, for the per-person rate limit."""

    __tablename__ = "command_rates"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    recent: Mapped[list[Any]]  # epoch seconds of the latest commands, oldest first
    warned_at: Mapped[datetime | None]


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
