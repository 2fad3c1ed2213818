"""The inbox: accepted webhook events, processed once each by workers.

The endpoint only stores (unique on resource + data.id, so a repeated delivery is dropped).
A worker claims a row with a lease, fetches the message or card action from Webex outside
any transaction, then runs the handler in one transaction that also marks the row done:
the handler's rows and its outgoing messages commit together with "done", or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot import i18n
from bot.context import Context, build_context
from bot.errors import UserError
from bot.events import CardSubmitEvent, JoinEvent, MessageEvent, card_event, join_event, message_event
from bot.outbox import backoff
from storage import directory
from bot.security import rate_check
from bot.webex import Permanent, RateLimited, Transient
from storage.db import is_postgres
from storage.models import InboxEvent

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_FETCH_ATTEMPTS = 20
HANDLED_RESOURCES = {("messages", "created"), ("attachmentActions", "created"), ("memberships", "created")}


class BadEvent(ValueError):
    """A webhook body that is not a Webex event."""


def event_key(payload: dict[str, Any]) -> tuple[str, str, str]:
    """(resource, event, unique key) of a webhook payload; BadEvent if it lacks them."""
    if not isinstance(payload, dict):
        raise BadEvent("body is not a JSON object")
    resource, event, data = payload.get("resource"), payload.get("event"), payload.get("data")
    if not isinstance(resource, str) or not isinstance(event, str) or not isinstance(data, dict):
        raise BadEvent("resource, event and data are required")
    data_id = data.get("id")
    if not isinstance(data_id, str) or not data_id:
        raise BadEvent("data.id is required")
    return resource, event, f"{resource}:{event}:{data_id}"


def accept(session: Session, payload: dict[str, Any], *, now: datetime) -> bool:
    """Store a webhook event; False when the same event was stored before."""
    resource, event, key = event_key(payload)
    values = dict(
        event_key=key,
        resource=resource,
        event=event,
        payload=payload,
        received_at=now,
        status="pending",
        attempts=0,
        next_attempt_at=now,
    )
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = insert(InboxEvent).values(**values).on_conflict_do_nothing(index_elements=["event_key"]).returning(InboxEvent.id)
    return session.execute(stmt).scalar() is not None


class InboxWorker:
    """Claims stored events and turns them into handler calls."""

    def __init__(self, runtime, *, worker_id: str) -> None:
        self.runtime = runtime
        self.worker_id = worker_id

    @property
    def clock(self):
        return self.runtime.clock

    def claim(self) -> InboxEvent | None:
        """Lease the oldest due event to this worker."""
        now = self.clock.now()
        with self.runtime.db.scope() as session:
            stmt = (
                select(InboxEvent)
                .where(
                    or_(
                        and_(InboxEvent.status == "pending", InboxEvent.next_attempt_at <= now),
                        and_(InboxEvent.status == "claimed", InboxEvent.lease_until < now),
                    )
                )
                .order_by(InboxEvent.id)
                .limit(1)
            )
            if is_postgres(session):
                stmt = stmt.with_for_update(skip_locked=True)
            row = session.scalars(stmt).first()
            if row is None:
                return None
            row.status = "claimed"
            row.claimed_by = self.worker_id
            row.lease_until = now + LEASE
            row.attempts += 1
            session.flush()
            session.expunge(row)
            return row

    def run_once(self) -> int:
        """Process at most one event; returns 1 when one was claimed."""
        row = self.claim()
        if row is None:
            return 0
        self.process(row)
        return 1

    def drain(self, limit: int = 10_000) -> int:
        """Process every due event (tests and benchmarks)."""
        done = 0
        while done < limit and self.run_once():
            done += 1
        return done

    def process(self, row: InboxEvent) -> None:
        """Fetch what the event points at, then handle it in one transaction."""
        if (row.resource, row.event) not in HANDLED_RESOURCES:
            self._close(row, status="ignored", error=f"{row.resource}/{row.event} is not handled")
            return
        data = row.payload.get("data", {})
        webex = self.runtime.webex
        try:
            bot = webex.identity()
            if row.resource == "memberships":
                # A space the bot opened itself (a page to an engineer's 1:1) needs no introduction.
                joined = join_event(data, bot) if row.payload.get("actorId") != bot.person_id else None
                if joined is None:
                    # Someone else joined a space the bot is in: nothing to say.
                    self._close(row, status="ignored", error=None)
                    return
                event: MessageEvent | CardSubmitEvent | JoinEvent = joined
            elif row.resource == "messages":
                if data.get("personId") == bot.person_id:
                    self._close(row, status="ignored", error=None)
                    return
                event = self._named(message_event(webex.get_message(data["id"]), bot))
            else:
                event = card_event(webex.get_attachment_action(data["id"]), webex)
        except RateLimited as exc:
            self._retry(row, timedelta(seconds=exc.retry_after), str(exc))
            return
        except Transient as exc:
            self._retry(row, backoff(row.attempts), str(exc))
            return
        except Permanent as exc:
            # 404/403: deleted or no longer visible to the bot; nothing to answer.
            status = "ignored" if exc.status in (403, 404) else "failed"
            self._close(row, status=status, error=str(exc))
            return
        self._handle(row, event)

    def _handle(self, row: InboxEvent, event: MessageEvent | CardSubmitEvent | JoinEvent) -> None:
        runtime = self.runtime
        with runtime.db.scope() as session:
            current = session.get(InboxEvent, row.id, with_for_update=is_postgres(session))
            if current is None or current.status != "claimed" or current.claimed_by != self.worker_id:
                log.warning("inbox %s: lease lost, another worker has it", row.id)
                return
            ctx = build_context(session, event, runtime)
            status, error = "done", None
            try:
                with session.begin_nested():
                    if isinstance(event, JoinEvent):
                        runtime.router.dispatch_join(ctx)
                    elif self._within_rate(ctx):
                        if isinstance(event, MessageEvent):
                            runtime.router.dispatch_text(ctx, event.text)
                        else:
                            runtime.router.dispatch_card(ctx, event.inputs)
            except UserError as exc:
                ctx.reply(exc.render(ctx.lang))
            except Exception as exc:  # one bad handler must not stop the worker
                log.exception("inbox %s: handler failed", row.id)
                status, error = "failed", f"{type(exc).__name__}: {exc}"
                ctx.reply(i18n.t("error.apology", ctx.lang))
            current.status = status
            current.error = error
            current.processed_at = self.clock.now()
            current.lease_until = None
        runtime.wake_outbox()

    def _named(self, event: MessageEvent) -> MessageEvent:
        """The event with its sender's display name (messages carry only the email): from the
        directory when known, else asked of Webex once, outside any transaction."""
        if event.sender.display_name:
            return event
        with self.runtime.db.read() as session:
            known = directory.person(session, email=event.sender.email)
            name = known.display_name if known is not None else None
        if not name:
            name = self.runtime.webex.get_person(event.sender.person_id).get("displayName", "")
        return replace(event, sender=replace(event.sender, display_name=name))

    def _within_rate(self, ctx: Context) -> bool:
        """Count the command against its sender's limit; over it, one polite warning, then silence."""
        verdict = rate_check(ctx.session, email=ctx.actor.email, now=self.clock.now(), limit=self.runtime.settings.rate_limit)
        if verdict == "warn":
            ctx.reply(ctx.t("rate.slow_down"))
        return verdict == "ok"

    def _retry(self, row: InboxEvent, delay: timedelta, error: str) -> None:
        if row.attempts >= MAX_FETCH_ATTEMPTS:
            self._close(row, status="failed", error=f"gave up after {row.attempts} attempts: {error}")
            return
        log.info("inbox %s: retry in %.1f s (%s)", row.id, delay.total_seconds(), error)
        with self.runtime.db.scope() as session:
            current = session.get(InboxEvent, row.id, with_for_update=is_postgres(session))
            if current is not None and current.claimed_by == self.worker_id and current.status == "claimed":
                current.status = "pending"
                current.claimed_by = None
                current.lease_until = None
                current.next_attempt_at = self.clock.now() + delay
                current.error = error

    def _close(self, row: InboxEvent, *, status: str, error: str | None) -> None:
        with self.runtime.db.scope() as session:
            current = session.get(InboxEvent, row.id, with_for_update=is_postgres(session))
            if current is not None and current.claimed_by == self.worker_id and current.status == "claimed":
                current.status = status
                current.error = error
                current.processed_at = self.clock.now()
                current.lease_until = None
