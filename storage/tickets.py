"""Tickets: numbers, lookups that respect organisations, changes on the timeline, pauses.

Keyword-only functions on a session; the caller's scope commits. Every change goes through
`change()`, which writes the before and after values to the audit timeline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.db import is_postgres
from storage.directory import audit
from storage.models.runtime import OutboxMessage
from storage.models.tickets import Sequence, Ticket, TicketNumber, TicketPause

PREFIXES = {
    "incident": "INC",
    "rfc": "RFC",
    "rfi": "RFI",
    "complaint": "CMP",
    "problem": "PRB",
    "maintenance": "MNT",
    "disruption": "DIS",
}
FIRST_NUMBER = 1001
NUMBER = re.compile(r"^(INC|RFC|RFI|CMP)-(\d{1,9})$", re.IGNORECASE)
OPEN_STATUSES = ("new", "in_progress", "awaiting_customer", "resolved")


def next_number(session: Session, *, prefix: str) -> str:
    """The next number of a prefix ('INC-1001', 'INC-1002', …), never handed out twice.

    One statement creates the prefix's counter or moves it on, holding its row until commit:
    two handlers numbering a prefix's first ticket at once (several workers on PostgreSQL) each
    get their own number, where reading the counter and then inserting it made one of them fail
    on the counter's key.
    """
    table = cast(Table, Sequence.__table__)  # a mapped class's table is typed as any FromClause
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = (
        insert(table)
        .values(prefix=prefix, next_value=FIRST_NUMBER + 1)
        .on_conflict_do_update(index_elements=[table.c.prefix], set_={"next_value": table.c.next_value + 1})
        .returning(table.c.next_value)
    )
    value = session.execute(stmt).scalar_one() - 1
    return f"{prefix}-{value}"


def normalise_number(text: str) -> str | None:
    """'inc-1001' → 'INC-1001'; None when it is not a ticket number."""
    match = NUMBER.match(text.strip())
    return f"{match.group(1).upper()}-{int(match.group(2))}" if match else None


def create(
    session: Session,
    *,
    kind: str,
    org_id: int,
    room_id: str,
    title: str,
    now: datetime,
    actor: str,
    priority: str | None = None,
    requested_priority: str | None = None,
    service: str | None = None,
    description: str | None = None,
    details: dict[str, Any] | None = None,
) -> Ticket:
    """A new ticket with its number, on the timeline."""
    number = next_number(session, prefix=PREFIXES[kind])
    ticket = Ticket(
        number=number,
        kind=kind,
        org_id=org_id,
        room_id=room_id,
        status="new",
        priority=priority,
        requested_priority=requested_priority,
        service=service,
        title=title,
        description=description,
        details=details or {},
        opened_at=now,
        opened_by=actor,
    )
    session.add(ticket)
    session.flush()
    session.add(TicketNumber(number=number, ticket_id=ticket.id))
    audit(
        session,
        at=now,
        actor=actor,
        room_id=room_id,
        subject_type="ticket",
        subject=number,
        action="opened",
        new={
            "kind": kind,
            "title": title,
            "priority": priority,
            "requested_priority": requested_priority,
            "service": service,
        },
    )
    return ticket


def find(session: Session, *, number: str, org_id: int | None, for_update: bool = False) -> Ticket | None:
    """A ticket by any of its numbers; with `org_id`, only that organisation's (others look missing)."""
    normal = normalise_number(number)
    if normal is None:
        return None
    stmt = select(Ticket).join(TicketNumber, TicketNumber.ticket_id == Ticket.id).where(TicketNumber.number == normal)
    if org_id is not None:
        stmt = stmt.where(Ticket.org_id == org_id)
    if for_update and is_postgres(session):
        stmt = stmt.with_for_update(of=Ticket)
    return session.scalar(stmt)


def by_thread(session: Session, *, root_message_id: str) -> Ticket | None:
    """The ticket whose thread root (the confirmation message) has this Webex id."""
    return session.scalar(
        select(Ticket)
        .join(OutboxMessage, OutboxMessage.id == Ticket.root_outbox_id)
        .where(OutboxMessage.webex_message_id == root_message_id)
    )


def change(
    session: Session, ticket: Ticket, *, actor: str, room_id: str | None, now: datetime, action: str, **changes: Any
) -> None:
    """Set fields of a ticket and put the change, before and after, on its timeline."""
    old = {k: _plain(getattr(ticket, k)) for k in changes}
    for key, value in changes.items():
        setattr(ticket, key, value)
    audit(
        session,
        at=now,
        actor=actor,
        room_id=room_id,
        subject_type="ticket",
        subject=ticket.number,
        action=action,
        old=old or None,
        new={k: _plain(v) for k, v in changes.items()} or None,
    )


def note(
    session: Session, ticket: Ticket, *, actor: str, room_id: str | None, now: datetime, action: str, text: str
) -> None:
    """Something said about a ticket (a response, a question, a customer note), on its timeline."""
    audit(
        session,
        at=now,
        actor=actor,
        room_id=room_id,
        subject_type="ticket",
        subject=ticket.number,
        action=action,
        new={"text": text},
    )


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def pauses(session: Session, ticket: Ticket) -> list[tuple[datetime, datetime | None]]:
    """The spans the ticket waited for the customer, oldest first (the last may be open)."""
    return pauses_of(session, [ticket])[ticket.id]


# Ticket ids per query of pauses_of: well within what SQLite and PostgreSQL take as parameters.
_PAUSES_CHUNK = 1000


def pauses_of(session: Session, tickets: Iterable[Ticket]) -> dict[int, list[tuple[datetime, datetime | None]]]:
    """The pauses of several tickets (by ticket id, oldest first), in one query per thousand tickets."""
    found: dict[int, list[tuple[datetime, datetime | None]]] = {ticket.id: [] for ticket in tickets}
    ids = list(found)
    for start in range(0, len(ids), _PAUSES_CHUNK):
        rows = session.execute(
            select(TicketPause.ticket_id, TicketPause.started_at, TicketPause.ended_at)
            .where(TicketPause.ticket_id.in_(ids[start : start + _PAUSES_CHUNK]))
            .order_by(TicketPause.ticket_id, TicketPause.started_at)
        )
        for ticket_id, started_at, ended_at in rows:
            found[ticket_id].append((started_at, ended_at))
    return found


def start_pause(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """The ticket now waits for the customer (its office-hour clocks stop)."""
    if (
        session.scalar(select(TicketPause).where(TicketPause.ticket_id == ticket.id, TicketPause.ended_at.is_(None)))
        is None
    ):
        session.add(TicketPause(ticket_id=ticket.id, started_at=now))


def end_pause(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """The customer answered: the clocks run again."""
    for pause in session.scalars(
        select(TicketPause).where(TicketPause.ticket_id == ticket.id, TicketPause.ended_at.is_(None))
    ):
        pause.ended_at = now


def open_tickets(session: Session, *, org_id: int | None = None) -> list[Ticket]:
    """Tickets not closed (of one organisation, or all)."""
    stmt = select(Ticket).where(Ticket.status.in_(OPEN_STATUSES))
    if org_id is not None:
        stmt = stmt.where(Ticket.org_id == org_id)
    return list(session.scalars(stmt.order_by(Ticket.id)))


def add_number(session: Session, ticket: Ticket, *, number: str) -> None:
    """Give a ticket a new number, keeping the old ones as aliases."""
    session.add(TicketNumber(number=number, ticket_id=ticket.id))
    ticket.number = number
