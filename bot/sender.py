"""The sender: claims the outbox's rows and delivers them through the Webex seam, in order per space.

Order: only the oldest unfinished row of a space (its head) can be claimed, so a message
waiting for a retry holds back the later ones of that space and no others. Among the spaces'
heads, urgent rows (P1 pages and their outcome) go first, then conversation (answers, staff
alerts), then bulk (notices to a whole audience, reports), oldest first within each: a page or
an answer does not wait behind a broadcast to thousands of spaces. Bulk rows are paced
(BulkPacer, BOT_BULK_PER_SECOND) below Webex's limit, so a broadcast does not run into 429s
that would hold everything else.
Failure handling: 429 → every sender waits out Retry-After; 423 Locked → this row retries after
its Retry-After; 5xx, timeouts, connection errors → exponential backoff capped at MAX_BACKOFF;
401 → the token is refused: the row goes back untouched and nothing is claimed until Webex
accepts the token again (bot/access.py); other 4xx → failed with the reason.
Crash safety: a row is claimed with a lease and its attempt time; a row whose lease expired
while "sending" is claimed again. As that earlier request may have reached Webex, the sender
first looks for the message in a 1:1 space and adopts it instead of sending twice. A bot
cannot list its own messages in a group space, so there such a row is sent again: at least
once, never lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, select
from sqlalchemy.orm import Session

from bot import logs, undeliverable
from bot.access import WebexAccess
from bot.clock import Clock
from bot.metrics import Metrics
from bot.outbox import BULK, NORMAL
from bot.outbox_sql import (
    CLAIM_AFTER_SEND,
    CLAIM_HEAD,
    FAIL,
    FINISH_CREATE,
    FINISH_OTHER,
    RETRY,
    RETRY_CLEAN,
    RETRY_UNCOUNTED,
    Claimed,
)
from bot.pacing import DEFAULT_BULK_PER_SECOND, BulkPacer, RateGate, backoff
from bot.webex import Permanent, RateLimited, Transient, Unauthorized, WebexClient
from storage.db import Database, is_postgres
from storage.models.runtime import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
# Rows of one space a sender sends back to back before it looks at the other spaces again.
STREAK = 20
# How far before the recorded attempt a found message may be dated (clock skew with Webex).
RECONCILE_SLACK = timedelta(seconds=30)


class OutboxSender:
    """Claims head rows and delivers them through the Webex seam."""

    def __init__(
        self,
        db: Database,
        webex: WebexClient,
        clock: Clock,
        *,
        worker_id: str,
        gate: RateGate | None = None,
        metrics: Metrics | None = None,
        lease: timedelta = LEASE,
        access: WebexAccess | None = None,
        pacer: BulkPacer | None = None,
    ) -> None:
        self.db = db
        self.lease = lease
        self.webex = webex
        self.clock = clock
        self.worker_id = worker_id
        self.gate = gate or RateGate()
        self.metrics = metrics or Metrics()
        self.access = access or WebexAccess(self.metrics)
        self.pacer = pacer or BulkPacer(DEFAULT_BULK_PER_SECOND)
        self._found_nothing = False  # whether the last claim of this sender found no row due

    def claim(self) -> Claimed | None:
        """Claim the oldest due head row of any space (lease it to this worker)."""
        now = self.clock.now()
        if not self.gate.is_open(now) or not self.access.usable(now, self.webex):
            return None
        with self.db.scope() as session:
            return self._take(session, CLAIM_HEAD, now)

    def _take(
        self, session: Session, statements: tuple[Update, Update], now: datetime, **params: Any
    ) -> Claimed | None:
        """Lease the row `statements` pick to this worker, noting that its request is about to go out.

        One UPDATE … RETURNING: the pick and the lease are a single statement, so no ORM flush.
        """
        stmt = statements[1] if is_postgres(session) else statements[0]
        bulk_allowed = self.pacer.reserve(now)
        params = {
            "now": now,
            "worker_id": self.worker_id,
            "new_lease": now + self.lease,
            "max_priority": BULK if bulk_allowed else NORMAL,
            **params,
        }
        row = session.connection().execute(stmt, params).first()  # a row with the table's columns
        if bulk_allowed and (row is None or row.priority != BULK):
            self.pacer.refund()
        self._found_nothing = row is None
        return row

    def run_once(self) -> int:
        """Send the oldest due head row, then up to STREAK more: the following rows of its space, and
        when that space has none due, the next head of all spaces; returns how many."""
        self._found_nothing = False
        row = self.claim()
        done = 0
        while row is not None:
            done += 1
            row = self.deliver(row, keep_going=done < STREAK)
        return done

    def work(self) -> int:
        """One step of a sender thread: send what is due; 1 when the thread should look again at once.

        A turn that ended because a claim found nothing due took all there was, so the thread
        waits for its wake-up (a queued message rings the bell) instead of waking a peer to find
        nothing. A turn cut short at STREAK, or by a send that failed, may have left other
        spaces' rows due: the thread goes on.
        """
        sent = self.run_once()
        return 1 if sent and not self._found_nothing else 0

    def drain(self, limit: int = 10_000) -> int:
        """Send everything that is due now (tests and the sandbox use this)."""
        done = 0
        while done < limit:
            sent = self.run_once()
            if not sent:
                break
            done += sent
        return done

    def _in_doubt(self, row: Claimed) -> bool:
        # A fresh claim stamps attempt_started_at and lease_until from the same instant; an
        # older attempt time means an earlier attempt may have reached Webex.
        return row.attempt_started_at is not None and row.attempt_started_at < row.lease_until - self.lease

    def deliver(self, row: Claimed, *, keep_going: bool = False) -> Claimed | None:
        """Send one claimed row and record the outcome; with keep_going, claim the next row (its
        space's, else any space's head)."""
        purpose = row.purpose or ""
        with logs.bound(
            outbox=row.id,
            space=row.room_id or row.order_key,
            ticket=purpose.split(":", 1)[1] if purpose.startswith("ticket:") else None,
        ):
            return self._deliver(row, keep_going=keep_going)

    def _deliver(self, row: Claimed, *, keep_going: bool = False) -> Claimed | None:
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
        except Unauthorized as exc:
            self.access.lost(self.clock.now(), str(exc))
            self._retry(row, delay=timedelta(0), error=str(exc), in_doubt=False, counted=False)
            return None
        except RateLimited as exc:
            if exc.status == 429:
                # Webex limits the token: every sender waits. A 423 locks one resource only.
                self.metrics.rate_limited.labels(worker="outbox").inc()
                self.gate.hold(self.clock.now() + timedelta(seconds=exc.retry_after))
            self._retry(row, delay=timedelta(seconds=exc.retry_after), error=str(exc), in_doubt=False)
            return None
        except Transient as exc:
            self._retry(row, delay=backoff(row.attempts), error=str(exc), in_doubt=exc.may_have_arrived)
        except _NotReady as exc:
            self._retry(row, delay=backoff(row.attempts), error=str(exc), in_doubt=False)
        except Permanent as exc:
            self._fail(row, str(exc), status=exc.status)
        else:
            return self._finish(row, result, keep_going=keep_going)
        return None

    def _send(self, row: Claimed) -> dict[str, Any]:
        if row.action == "create":
            return self.webex.create_message(
                room_id=row.room_id,
                to_person_email=None if row.room_id else row.to_person_email,
                text=row.text,
                markdown=row.markdown,
                parent_id=self._parent_id(row),
                attachments=row.attachments,
                files=row.files,
            )
        target_id, room_id = self._target(row)
        if row.action == "update":
            return self.webex.update_message(target_id, room_id=room_id, text=row.text, markdown=row.markdown)
        self.webex.delete_message(target_id)
        return {"id": target_id, "roomId": room_id}

    def _parent_id(self, row: Claimed) -> str | None:
        if row.parent_id or row.parent_outbox_id is None:
            parent_id: str | None = row.parent_id
            return parent_id
        with self.db.read() as session:
            parent = session.get(OutboxMessage, row.parent_outbox_id)
            if parent is None:
                raise Permanent(f"thread root (outbox {row.parent_outbox_id}) is gone")
            if parent.status == "sent":
                return parent.webex_message_id
            if parent.status == "failed":
                # The root never made it: post at top level rather than lose the message.
                return None
        raise _NotReady(f"thread root (outbox {row.parent_outbox_id}) not sent yet")

    def _target(self, row: Claimed) -> tuple[str, str]:
        if row.target_message_id:
            return row.target_message_id, row.room_id or ""
        with self.db.read() as session:
            target = session.get(OutboxMessage, row.target_outbox_id)
            if target is None:
                raise Permanent(f"target outbox {row.target_outbox_id} is gone")
            if target.status == "sent" and target.webex_message_id is not None:
                return target.webex_message_id, target.room_id or ""
            if target.status == "failed":
                raise Permanent(f"target outbox {target.id} was never sent")
        raise _NotReady(f"target (outbox {row.target_outbox_id}) not sent yet")

    def _find_sent(self, row: Claimed) -> dict[str, Any] | None:
        """Look for a message this row may already have created before a crash or timeout.

        Only 1:1 spaces can be searched. A candidate has this row's author, thread and text and
        was created after the attempt began (less the clock slack); one that another row already
        recorded as its own is not this row's, however alike (two "pong"s in a minute). Of the
        rest, the earliest.
        """
        recent = self._recent_in_direct_space(row)
        if recent is None:
            log.warning(
                "outbox %s: may have reached Webex already, but a bot cannot search a group space; sending again",
                row.id,
            )
            return None
        since = row.attempt_started_at - RECONCILE_SLACK
        me = self.webex.identity().person_id
        parent = self._parent_id(row)
        candidates = []
        for message in recent:
            created = (
                datetime.fromisoformat(message.get("created", "").replace("Z", "+00:00"))
                if message.get("created")
                else None
            )
            if created is not None and created < since:
                break
            if (
                message.get("personId") == me
                and message.get("parentId") == parent
                and (message.get("markdown") if row.markdown else message.get("text")) == (row.markdown or row.text)
            ):
                candidates.append(message)
        if not candidates:
            return None
        with self.db.read() as session:
            taken = set(
                session.scalars(
                    select(OutboxMessage.webex_message_id).where(
                        OutboxMessage.webex_message_id.in_([m["id"] for m in candidates]), OutboxMessage.id != row.id
                    )
                )
            )
        free = [m for m in candidates if m["id"] not in taken]
        return free[-1] if free else None  # the list is newest first

    def _recent_in_direct_space(self, row: Claimed) -> list[dict[str, Any]] | None:
        """The newest messages of the 1:1 space `row` goes to, which the bot may list; None for a
        group space (Webex shows a bot only the messages that mention it there)."""
        if row.room_id:
            return (
                self.webex.list_recent_messages(row.room_id) if self.webex.room_type(row.room_id) == "direct" else None
            )
        # By email: the 1:1 space named by the person, which the attempt in doubt may have opened.
        return self.webex.list_direct_messages(row.to_person_email)

    def _record(self, session: Session, stmt: Update, row: Claimed, **params: Any) -> bool:
        """Run an outcome UPDATE guarded by this sender's lease; False (and a warning) when it was lost."""
        result = session.connection().execute(stmt, {"row_id": row.id, "worker_id": self.worker_id, **params})
        if result.rowcount != 1:
            log.warning("outbox %s: lease lost before the outcome was recorded", row.id)
            return False
        return True

    def _finish(self, row: Claimed, result: dict[str, Any], *, keep_going: bool = False) -> Claimed | None:
        now = self.clock.now()
        with self.db.scope() as session:
            if row.action == "create":
                owned = self._record(
                    session, FINISH_CREATE, row, now=now, sent_id=result.get("id"), result_room_id=result.get("roomId")
                )
            else:
                owned = self._record(session, FINISH_OTHER, row, now=now)
            if not owned:
                return None
            self.metrics.sent.inc()
            if not keep_going or not self.gate.is_open(now):
                return None
            # The space's next row, or when it has none due, the next head of all spaces: claimed in
            # this transaction instead of one of its own (most spaces get one message at a time).
            return self._take(session, CLAIM_AFTER_SEND, now, space_key=row.order_key)

    def _retry(self, row: Claimed, *, delay: timedelta, error: str, in_doubt: bool, counted: bool = True) -> None:
        now = self.clock.now()
        log.info("outbox %s: retry in %.1f s (%s)", row.id, delay.total_seconds(), error)
        # In doubt, the attempt time stays: the next claim first looks for the message at Webex.
        stmt = RETRY if in_doubt else RETRY_CLEAN if counted else RETRY_UNCOUNTED
        with self.db.scope() as session:
            self._record(session, stmt, row, retry_at=now + delay, error=error)

    def _fail(self, row: Claimed, error: str, *, status: int | None = None) -> None:
        log.warning("outbox %s: failed for good: %s", row.id, error)
        with self.db.scope() as session:
            if self._record(session, FAIL, row, error=error):
                self.metrics.send_failed.inc()
                # The family that sent it decides what follows (bot/undeliverable.py).
                undeliverable.note(
                    session,
                    undeliverable.Undeliverable(
                        outbox_id=row.id,
                        purpose=row.purpose,
                        room_id=row.room_id,
                        to_person_email=row.to_person_email,
                        status=status,
                        error=error,
                    ),
                    now=self.clock.now(),
                )


class _NotReady(Exception):
    """A row depends on another row (thread root, edit target) that is not sent yet."""
