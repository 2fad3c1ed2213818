"""The inbox: accepted webhook events, processed once each by workers.

The endpoint only stores (unique on resource, event and data.id, so a repeated delivery is dropped).
A worker claims rows (a few at a time, each with its own lease), fetches the message, card
action or the bot's membership from Webex outside any transaction, then runs the middleware
(bot/middleware.py) and the handler in one transaction that also marks the row done: the
handler's rows and its outgoing messages commit together with "done", or not at all.
Order: the events of one space are handled in the order they arrived, as its messages are sent (the
outbox): only the oldest unfinished event of a space can be claimed, so one waiting for a retry
after a failed read holds back the later ones of its space and no others.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot import logs
from bot.clock import Clock
from bot.context import Event, RuntimeView
from bot.envelope import KEY_MAX, event_key
from bot.events import JoinEvent, LeaveEvent, MessageEvent, card_event, membership_event, message_event, webex_time
from bot.inbox_sql import ACCEPT, CLAIM, CLOSE, RETRY, RETRY_UNCOUNTED, Claimed
from bot.middleware import STEPS, Call, SenderUnnamed, Step, chain
from bot.pacing import backoff
from bot.retention import replay_cutoff
from bot.webex import BotIdentity, Permanent, RateLimited, Transient, Unauthorized, WebexFailure
from storage.db import is_postgres

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_FETCH_ATTEMPTS = 20
HANDLED_RESOURCES = {
    ("messages", "created"),
    ("attachmentActions", "created"),
    ("memberships", "created"),
    ("memberships", "deleted"),
}
# Events one claim leases at most. A busy inbox pays one claim transaction per batch instead of
# per event; kept small, so a batch is worked off long before its leases run out and an idle
# worker is not left waiting behind another worker's backlog for long.
CLAIM_BATCH = 8


def accept(session: Session, payload: dict[str, Any], *, now: datetime) -> bool:
    """Store a webhook event; False when the same event was stored before."""
    resource, event, key = event_key(payload)
    room = payload["data"].get("roomId")
    values = dict(
        event_key=key,
        resource=resource,
        event=event,
        order_key=room if isinstance(room, str) and 0 < len(room) <= KEY_MAX else None,
        payload=payload,
        received_at=now,
        status="pending",
        attempts=0,
        next_attempt_at=now,
    )
    stmt = ACCEPT["postgresql" if is_postgres(session) else "sqlite"]
    return session.connection().execute(stmt, values).scalar() is not None


class _LeaseLost(Exception):
    """Another worker holds the event by now (rolls back the handle transaction)."""


class InboxWorker:
    """Claims stored events and turns them into handler calls."""

    def __init__(self, runtime: RuntimeView, *, worker_id: str, steps: Sequence[Step] = STEPS) -> None:
        self.runtime = runtime
        self.worker_id = worker_id
        self.lease = timedelta(seconds=getattr(runtime.settings, "lease_seconds", LEASE.total_seconds()))
        self.pipeline = chain(steps)

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    def claim(self) -> Claimed | None:
        """Lease the oldest due event to this worker."""
        rows = self.claim_batch(1)
        return rows[0] if rows else None

    def claim_batch(self, limit: int = CLAIM_BATCH) -> list[Claimed]:
        """Lease up to `limit` of the oldest due events to this worker in one transaction, oldest first.

        Each event gets its own lease; its handle transaction checks that lease again and closes
        the event, so an event is still handled once even when this worker dies mid-batch.
        """
        now = self.clock.now()
        with self.runtime.db.scope() as session:
            stmt = CLAIM["postgresql" if is_postgres(session) else "sqlite"]
            params = {"now": now, "worker_id": self.worker_id, "new_lease": now + self.lease, "batch": limit}
            rows = list(session.connection().execute(stmt, params))  # rows with the table's columns
        # RETURNING gives no order.
        return sorted(rows, key=lambda row: row.id)

    def run_once(self) -> int:
        """Claim a batch of due events and process them in order; returns how many were claimed.

        Nothing is claimed while Webex refuses the token: the events wait, pending, in order.
        """
        if not self.runtime.access.usable(self.clock.now(), self.runtime.webex):
            return 0
        rows = self.claim_batch()
        for row in rows:
            if self.runtime.access.state != "ok":
                # The token was refused while working the batch: the rest waits, pending and in order.
                self._retry(row, timedelta(0), "held: Webex refuses the token", counted=False)
                continue
            if self.clock.now() >= row.lease_until:
                # Stalled behind the batch's earlier events: another worker may own this one by now.
                log.warning("inbox %s: lease expired before processing; leaving it to the next claim", row.id)
                continue
            self.process(row)
        return len(rows)

    def work(self) -> int:
        """One step of a worker thread: process a batch; 1 when the thread should look again at once.

        A batch holds at most one event of a space (its oldest unfinished), so once it is worked
        off the next event of those spaces may be due: the thread looks again. Only an empty claim
        lets it wait for its wake-up: an event stored meanwhile rings the bell (a ring while every
        thread is busy is kept), and events of other processes ring it through LISTEN on
        PostgreSQL, or are found by polling.
        """
        return 1 if self.run_once() else 0

    def drain(self, limit: int = 10_000) -> int:
        """Process every due event (tests and benchmarks)."""
        done = 0
        while done < limit:
            claimed = self.run_once()
            if not claimed:
                break
            done += claimed
        return done

    def process(self, row: Claimed) -> None:
        """Fetch what the event points at, then handle it in one transaction."""
        data = row.payload.get("data") if isinstance(row.payload, dict) else None
        data = data if isinstance(data, dict) else {}
        with logs.bound(event=data.get("id"), space=data.get("roomId"), inbox=row.id):
            self._process(row)

    def _process(self, row: Claimed) -> None:
        if (row.resource, row.event) not in HANDLED_RESOURCES:
            self._close(row, status="ignored", error=f"{row.resource}/{row.event} is not handled")
            return
        try:
            event = self._fetch(row)
        except WebexFailure as exc:
            self._fetch_failed(row, exc)
            return
        if event is None or self._handle(row, event) or not isinstance(event, MessageEvent):
            return
        # The sender is new to the directory: ask Webex for their name, outside any transaction.
        try:
            event = self._named(event)
        except WebexFailure as exc:
            self._fetch_failed(row, exc)
            return
        self._handle(row, event, name_asked=True)

    def _fetch(self, row: Claimed) -> Event | None:
        """The event `row` announces, read from Webex; None when there is nothing to answer (row closed)."""
        data = row.payload.get("data", {})
        webex = self.runtime.webex
        bot = webex.identity()
        if row.resource == "memberships":
            return self._membership(row, data, bot)
        if row.resource == "messages":
            if data.get("personId") == bot.person_id:
                # The bot's own message, named by the delivery: no read from Webex to learn it
                # (middleware's drop_own_events is the rule for what is read anyway).
                self._close(row, status="ignored", error=None)
                return None
            message = webex.get_message(data["id"])
            return None if self._replayed(row, message) else message_event(message, bot)
        action = webex.get_attachment_action(data["id"])
        return None if self._replayed(row, action) else card_event(action, webex)

    def _replayed(self, row: Claimed, found: dict[str, Any]) -> bool:
        """Whether Webex says the message or card press was created before the retention window
        of when its event arrived: a replay, whatever the delivery said of its time (closed, ignored)."""
        cutoff = replay_cutoff(row.received_at, self.runtime.settings.retention_days)
        created = webex_time(found.get("created"))
        if cutoff is None or created is None or created >= cutoff:
            return False
        log.warning(
            "inbox %s: %s/%s %s was created %s, before the retention window: a replay, ignored",
            row.id,
            row.resource,
            row.event,
            found.get("id"),
            created.isoformat(),
        )
        self._close(
            row, status="ignored", error=f"created {created.isoformat()}, before the retention window: a replay"
        )
        return True

    def _membership(self, row: Claimed, data: dict[str, Any], bot: BotIdentity) -> JoinEvent | LeaveEvent | None:
        """The bot's join or removal the row announces, as Webex confirms it; None (row closed) when
        it is someone else's, a space the bot opened itself, or Webex does not confirm it."""
        # A space the bot opened itself (a page to an engineer's 1:1) needs no introduction.
        claimed = membership_event(data, row.event, bot) if row.payload.get("actorId") != bot.person_id else None
        if claimed is None:
            # Someone else joined or left a space the bot is in: nothing to say.
            self._close(row, status="ignored", error=None)
            return None
        confirmed = self._confirmed(claimed, bot)
        if confirmed is None:
            log.warning(
                "inbox %s: Webex does not confirm the bot's %s of %s; ignored",
                row.id,
                "join" if isinstance(claimed, JoinEvent) else "removal",
                claimed.room_id,
            )
            self._close(row, status="ignored", error="Webex does not confirm this membership event")
        return confirmed

    def _confirmed(self, claimed: JoinEvent | LeaveEvent, bot: BotIdentity) -> JoinEvent | LeaveEvent | None:
        """A membership event as Webex has it, as messages and card presses are read, not taken
        from the delivery: a join when Webex shows that very membership (the bot's, of that space,
        begun at that time); a removal when Webex no longer shows the bot the space. A 404 for the
        membership raises Permanent (the row is then ignored)."""
        webex = self.runtime.webex
        if isinstance(claimed, JoinEvent):
            found = membership_event(webex.get_membership(claimed.membership_id), "created", bot)
            if (
                found is None
                or found.room_id != claimed.room_id
                or found.created is None
                or found.created != claimed.created
            ):
                return None
            return found
        try:
            webex.get_room(claimed.room_id)
        except Permanent as exc:
            if exc.status in (403, 404):
                return claimed
            raise
        return None  # the bot is in the space: the removal is an old one, or none

    def _fetch_failed(self, row: Claimed, exc: WebexFailure) -> None:
        """Retry or close `row` after a failed Webex read, by the kind of failure."""
        if isinstance(exc, Unauthorized):
            self.runtime.access.lost(self.clock.now(), str(exc))
            self._retry(row, timedelta(0), str(exc), counted=False)
        elif isinstance(exc, RateLimited):
            if exc.status == 429:
                self.runtime.metrics.rate_limited.labels(worker="inbox").inc()
            self._retry(row, timedelta(seconds=exc.retry_after), str(exc))
        elif isinstance(exc, Permanent):
            # 404/403: deleted or no longer visible to the bot; nothing to answer.
            status = "ignored" if exc.status in (403, 404) else "failed"
            self._close(row, status=status, error=str(exc))
        else:
            self._retry(row, backoff(row.attempts), str(exc))

    def _handle(self, row: Claimed, event: Event, *, name_asked: bool = False) -> bool:
        """Run the middleware and the handler, and close the event, in one transaction.

        False, with nothing changed, when the sender of a message is unnamed and the directory
        does not know their name either: the caller asks Webex (outside any transaction) and
        calls again with `name_asked`.
        """
        runtime = self.runtime
        try:
            with runtime.db.scope() as session:
                # Close the event first, guarded by the lease: on PostgreSQL the UPDATE also locks the
                # row until commit, and the handler's rows commit together with "done" or not at all.
                if not self._set_closed(session, row, status="done", error=None):
                    log.warning("inbox %s: lease lost, another worker has it", row.id)
                    return True

                def start_over(status: str, error: str | None) -> None:
                    self._start_over(session, row, status=status, error=error)

                self.pipeline(
                    Call(
                        session=session,
                        event=event,
                        runtime=runtime,
                        received_at=row.received_at,
                        start_over=start_over,
                        name_asked=name_asked,
                    )
                )
        except SenderUnnamed:
            return False
        except _LeaseLost:
            log.warning("inbox %s: lease lost while answering a refused or failed command", row.id)
            return True
        except (RateLimited, Transient, Unauthorized) as exc:
            # A handler's own call to Webex (a lookup) will work later: undone already (the scope
            # rolled back), the event is still leased to this worker and retried as a failed read.
            self._fetch_failed(row, exc)
            return True
        runtime.wake_outbox()
        return True

    def _start_over(self, session: Session, row: Claimed, *, status: str, error: str | None) -> None:
        """Undo the transaction so far and close `row` with `status` again."""
        session.rollback()
        if not self._set_closed(session, row, status=status, error=error):
            raise _LeaseLost()

    def _named(self, event: MessageEvent) -> MessageEvent:
        """The event with its sender's display name as Webex has it (messages carry only the email)."""
        name = self.runtime.webex.get_person(event.sender.person_id).get("displayName", "")
        return replace(event, sender=replace(event.sender, display_name=name))

    def _retry(self, row: Claimed, delay: timedelta, error: str, *, counted: bool = True) -> None:
        if counted and row.attempts >= MAX_FETCH_ATTEMPTS:
            self._close(row, status="failed", error=f"gave up after {row.attempts} attempts: {error}")
            return
        log.info("inbox %s: retry in %.1f s (%s)", row.id, delay.total_seconds(), error)
        with self.runtime.db.scope() as session:
            session.connection().execute(
                RETRY if counted else RETRY_UNCOUNTED,
                {
                    "row_id": row.id,
                    "worker_id": self.worker_id,
                    "retry_at": self.clock.now() + delay,
                    "error_text": error,
                },
            )

    def _close(self, row: Claimed, *, status: str, error: str | None) -> None:
        with self.runtime.db.scope() as session:
            self._set_closed(session, row, status=status, error=error)

    def _set_closed(self, session: Session, row: Claimed, *, status: str, error: str | None) -> bool:
        """Close `row` with `status` if it is still leased to this worker; False when it is not."""
        params = {
            "row_id": row.id,
            "worker_id": self.worker_id,
            "new_status": status,
            "error_text": error,
            "now": self.clock.now(),
        }
        return session.connection().execute(CLOSE, params).rowcount == 1
