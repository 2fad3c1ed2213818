"""The outbox: every message the bot sends is a row first; a sender delivers rows in order per space.

Order: only the oldest unfinished row of a space (its head) can be claimed, so a message
waiting for a retry holds back the later ones of that space and no others.
Failure handling: 429 → retry after Retry-After; 5xx, timeouts, connection errors →
exponential backoff capped at MAX_BACKOFF; other 4xx → failed with the reason.
Crash safety: a row is claimed with a lease and its attempt time; a row whose lease expired
while "sending" is claimed again. As that earlier request may have reached Webex, the sender
first looks for the message in the space and adopts it instead of sending twice.
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from bot.clock import Clock
from bot.webex import Permanent, RateLimited, Transient, WebexClient, WebexFailure
from storage.db import Database, is_postgres
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
# Rows of one space a sender sends back to back before it looks at the other spaces again.
STREAK = 20
MAX_BACKOFF = timedelta(minutes=5)
# How far before the recorded attempt a found message may be dated (clock skew with Webex).
RECONCILE_SLACK = timedelta(seconds=30)
UNFINISHED = ("pending", "sending")


def _order_key(room_id: str | None, to_person_email: str | None) -> str:
    if room_id:
        return room_id
    if to_person_email:
        return f"person:{to_person_email.lower()}"
    raise ValueError("a message needs a room_id or a to_person_email")


def enqueue(
    session: Session,
    *,
    now: datetime,
    room_id: str | None = None,
    to_person_email: str | None = None,
    text: str | None = None,
    markdown: str | None = None,
    parent_id: str | None = None,
    parent_outbox_id: int | None = None,
    attachments: list[dict[str, Any]] | None = None,
    purpose: str | None = None,
) -> OutboxMessage:
    """Queue a new message; it is sent after the surrounding transaction commits."""
    if not (text or markdown):
        raise ValueError("a message needs text or markdown (also as a card's fallback)")
    row = OutboxMessage(
        order_key=_order_key(room_id, to_person_email),
        action="create",
        room_id=room_id,
        to_person_email=to_person_email.lower() if to_person_email else None,
        text=text,
        markdown=markdown,
        parent_id=parent_id,
        parent_outbox_id=parent_outbox_id,
        attachments=attachments,
        purpose=purpose,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def enqueue_update(session: Session, *, now: datetime, target: OutboxMessage, text: str | None = None, markdown: str | None = None) -> OutboxMessage:
    """Queue an edit of a message the bot sent (or will send) through the outbox."""
    if target.attachments:
        raise ValueError("messages with cards cannot be edited")
    row = OutboxMessage(
        order_key=target.order_key,
        action="update",
        room_id=target.room_id,
        to_person_email=target.to_person_email,
        target_outbox_id=target.id,
        text=text,
        markdown=markdown,
        purpose=target.purpose,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def enqueue_delete(session: Session, *, now: datetime, target: OutboxMessage) -> OutboxMessage:
    """Queue the deletion of a message the bot sent (or will send)."""
    row = OutboxMessage(
        order_key=target.order_key,
        action="delete",
        room_id=target.room_id,
        to_person_email=target.to_person_email,
        target_outbox_id=target.id,
        purpose=target.purpose,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s, … capped at MAX_BACKOFF."""
    return min(timedelta(seconds=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _may_have_arrived(exc: WebexFailure) -> bool:
    # A read timeout means Webex may have created the message; a refused connection or a
    # 5xx answer means it did not.
    cause = exc.__cause__
    return isinstance(cause, (requests.Timeout, socket.timeout)) and not isinstance(cause, requests.ConnectTimeout)


class RateGate:
    """Webex limits the bot's token, not a space: after a 429 every sender sharing the gate waits
    out the Retry-After, instead of each space finding the limit again with a request of its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: datetime | None = None

    def hold(self, until: datetime) -> None:
        """No sending before `until`."""
        with self._lock:
            if self._until is None or until > self._until:
                self._until = until

    def is_open(self, now: datetime) -> bool:
        """Whether sending may go on at `now`."""
        with self._lock:
            return self._until is None or now >= self._until


class OutboxSender:
    """Claims head rows and delivers them through the Webex seam."""

    def __init__(self, db: Database, webex: WebexClient, clock: Clock, *, worker_id: str, gate: RateGate | None = None) -> None:
        self.db = db
        self.webex = webex
        self.clock = clock
        self.worker_id = worker_id
        self.gate = gate or RateGate()

    def claim(self) -> OutboxMessage | None:
        """Claim the oldest due head row of any space (lease it to this worker)."""
        now = self.clock.now()
        if not self.gate.is_open(now):
            return None
        earlier = aliased(OutboxMessage)
        head_id = (
            select(func.min(earlier.id))
            .where(earlier.order_key == OutboxMessage.order_key, earlier.status.in_(UNFINISHED))
            .scalar_subquery()
        )
        due = or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
        )
        with self.db.scope() as session:
            stmt = select(OutboxMessage).where(due, OutboxMessage.id == head_id).order_by(OutboxMessage.id).limit(1)
            if is_postgres(session):
                stmt = stmt.with_for_update(skip_locked=True, of=OutboxMessage)
            return self._take(session, session.scalars(stmt).first(), now)

    def _take(self, session: Session, row: OutboxMessage | None, now: datetime) -> OutboxMessage | None:
        """Lease `row` to this worker and note that its request is about to go out."""
        if row is None:
            return None
        row.status = "sending"
        row.claimed_by = self.worker_id
        row.lease_until = now + LEASE
        row.attempts += 1
        if row.attempt_started_at is None:
            row.attempt_started_at = now
        # else: an earlier attempt may have reached Webex; keep its time so deliver() looks for it.
        session.flush()
        session.expunge(row)
        return row

    def _next_in_space(self, session: Session, order_key: str, now: datetime) -> OutboxMessage | None:
        """The following row of the same space, claimed, when it is due (a busy space keeps its sender)."""
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.order_key == order_key, OutboxMessage.status.in_(UNFINISHED))
            .order_by(OutboxMessage.id)
            .limit(1)
        )
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True)
        row = session.scalars(stmt).first()
        if row is None or row.status != "pending" or row.next_attempt_at > now:
            return None
        return self._take(session, row, now)

    def run_once(self) -> int:
        """Send the oldest due head row, then up to STREAK following rows of its space; returns how many."""
        row = self.claim()
        done = 0
        while row is not None:
            done += 1
            row = self.deliver(row, keep_going=done < STREAK)
        return done

    def drain(self, limit: int = 10_000) -> int:
        """Send everything that is due now (tests and the sandbox use this)."""
        done = 0
        while done < limit:
            sent = self.run_once()
            if not sent:
                break
            done += sent
        return done

    @staticmethod
    def _in_doubt(row: OutboxMessage) -> bool:
        # A fresh claim stamps attempt_started_at and lease_until from the same instant; an
        # older attempt time means an earlier attempt may have reached Webex.
        return row.attempt_started_at is not None and row.attempt_started_at < row.lease_until - LEASE

    def deliver(self, row: OutboxMessage, *, keep_going: bool = False) -> OutboxMessage | None:
        """Send one claimed row and record the outcome; with keep_going, claim its space's next row."""
        try:
            if self._in_doubt(row) and row.action == "create":
                found = self._find_sent(row)
                if found is not None:
                    log.warning("outbox %s: found already delivered as %s, not sending again", row.id, found.get("id"))
                    return self._finish(row, found, keep_going=keep_going)
            if self.clock.now() >= row.lease_until:
                # Stalled past the lease: another sender may own the row by now.
                log.warning("outbox %s: lease expired before sending; leaving it to the next claim", row.id)
                return None
            result = self._send(row)
        except RateLimited as exc:
            self.gate.hold(self.clock.now() + timedelta(seconds=exc.retry_after))
            self._retry(row, delay=timedelta(seconds=exc.retry_after), error=str(exc), in_doubt=False)
            return None
        except Transient as exc:
            self._retry(row, delay=backoff(row.attempts), error=str(exc), in_doubt=_may_have_arrived(exc))
        except _NotReady as exc:
            self._retry(row, delay=backoff(row.attempts), error=str(exc), in_doubt=False)
        except Permanent as exc:
            self._fail(row, str(exc))
        else:
            return self._finish(row, result, keep_going=keep_going)
        return None

    def _send(self, row: OutboxMessage) -> dict[str, Any]:
        if row.action == "create":
            return self.webex.create_message(
                room_id=row.room_id,
                to_person_email=None if row.room_id else row.to_person_email,
                text=row.text,
                markdown=row.markdown,
                parent_id=self._parent_id(row),
                attachments=row.attachments,
            )
        target_id, room_id = self._target(row)
        if row.action == "update":
            return self.webex.update_message(target_id, room_id=room_id, text=row.text, markdown=row.markdown)
        self.webex.delete_message(target_id)
        return {"id": target_id, "roomId": room_id}

    def _parent_id(self, row: OutboxMessage) -> str | None:
        if row.parent_id or row.parent_outbox_id is None:
            return row.parent_id
        with self.db.read() as session:
            parent = session.get(OutboxMessage, row.parent_outbox_id)
            if parent.status == "sent":
                return parent.webex_message_id
            if parent.status == "failed":
                # The root never made it: post at top level rather than lose the message.
                return None
        raise _NotReady(f"thread root (outbox {row.parent_outbox_id}) not sent yet")

    def _target(self, row: OutboxMessage) -> tuple[str, str]:
        if row.target_message_id:
            return row.target_message_id, row.room_id or ""
        with self.db.read() as session:
            target = session.get(OutboxMessage, row.target_outbox_id)
            if target.status == "sent":
                return target.webex_message_id, target.room_id
            if target.status == "failed":
                raise Permanent(f"target outbox {target.id} was never sent")
        raise _NotReady(f"target (outbox {row.target_outbox_id}) not sent yet")

    def _find_sent(self, row: OutboxMessage) -> dict[str, Any] | None:
        """Look for a message this row may already have created before a crash or timeout."""
        if not row.room_id:
            return None
        since = row.attempt_started_at - RECONCILE_SLACK
        me = self.webex.identity().person_id
        parent = self._parent_id(row)
        for message in self.webex.list_recent_messages(row.room_id):
            created = datetime.fromisoformat(message.get("created", "").replace("Z", "+00:00")) if message.get("created") else None
            if created is not None and created < since:
                break
            if (
                message.get("personId") == me
                and message.get("parentId") == parent
                and (message.get("markdown") if row.markdown else message.get("text")) == (row.markdown or row.text)
            ):
                return message
        return None

    def _owned(self, session: Session, row: OutboxMessage) -> OutboxMessage | None:
        current = session.get(OutboxMessage, row.id, with_for_update=is_postgres(session))
        if current is None or current.claimed_by != self.worker_id or current.status != "sending":
            log.warning("outbox %s: lease lost before the outcome was recorded", row.id)
            return None
        return current

    def _finish(self, row: OutboxMessage, result: dict[str, Any], *, keep_going: bool = False) -> OutboxMessage | None:
        now = self.clock.now()
        with self.db.scope() as session:
            current = self._owned(session, row)
            if current is None:
                return None
            current.status = "sent"
            current.sent_at = now
            current.lease_until = None
            if row.action == "create":
                current.webex_message_id = result.get("id")
                current.room_id = current.room_id or result.get("roomId")
            session.flush()
            return self._next_in_space(session, row.order_key, now) if keep_going and self.gate.is_open(now) else None

    def _retry(self, row: OutboxMessage, *, delay: timedelta, error: str, in_doubt: bool) -> None:
        now = self.clock.now()
        log.info("outbox %s: retry in %.1f s (%s)", row.id, delay.total_seconds(), error)
        with self.db.scope() as session:
            current = self._owned(session, row)
            if current is None:
                return
            current.status = "pending"
            current.next_attempt_at = now + delay
            current.lease_until = None
            current.claimed_by = None
            current.last_error = error
            if not in_doubt:
                current.attempt_started_at = None

    def _fail(self, row: OutboxMessage, error: str) -> None:
        log.warning("outbox %s: failed for good: %s", row.id, error)
        with self.db.scope() as session:
            current = self._owned(session, row)
            if current is None:
                return
            current.status = "failed"
            current.lease_until = None
            current.last_error = error


class _NotReady(Exception):
    """A row depends on another row (thread root, edit target) that is not sent yet."""


def pending_count(session: Session) -> int:
    """Rows not yet sent or failed."""
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(UNFINISHED))) or 0
