"""Durable timers: rows in `timers`, claimed when due and handled once.

A timer is claimed and handled in one transaction, together with whatever its handler
changes (rows, further timers, outbox messages): a crash before the commit leaves the timer
pending and it runs again; after the commit it is done. Either way it has effect once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import Clock, to_utc
from bot.context import RuntimeView
from rules import Rules
from storage.db import Database, is_postgres
from storage.models.runtime import Timer

if TYPE_CHECKING:  # bot/undeliverable.py schedules timers: it imports this module
    from bot.undeliverable import Listener

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


@dataclass
class TimerContext:
    """What a timer handler gets: the transaction, the clock and the runtime's settings."""

    session: Session
    clock: Clock
    now: datetime
    runtime: RuntimeView | None

    @property
    def rules(self) -> Rules:
        """The calendars, profiles and desk in use."""
        if self.runtime is None:
            raise LookupError("this timer runs without a runtime, so without rules")
        return self.runtime.rules


TimerHandler = Callable[[TimerContext, Timer], None]


class TimerRegistry:
    """Handlers by timer kind (registering a kind twice is a start-up error), and the listeners of
    messages Webex refused for good (bot/undeliverable.py)."""

    def __init__(self) -> None:
        self._handlers: dict[str, TimerHandler] = {}
        self.undeliverable_listeners: list[Listener] = []

    def handler(self, kind: str) -> Callable[[TimerHandler], TimerHandler]:
        """Decorator: `@timers.handler("sla.warning")`."""

        def register(fn: TimerHandler) -> TimerHandler:
            if kind in self._handlers:
                raise RuntimeError(f"timer kind {kind!r} registered twice")
            self._handlers[kind] = fn
            return fn

        return register

    def get(self, kind: str) -> TimerHandler | None:
        """The handler for `kind`, if any."""
        return self._handlers.get(kind)

    def on_undeliverable(self, fn: Listener) -> Listener:
        """Run `fn` for every message Webex refused for good, after those registered before it."""
        if fn not in self.undeliverable_listeners:
            self.undeliverable_listeners.append(fn)
        return fn


def schedule(
    session: Session,
    *,
    kind: str,
    ref: str,
    due_at: datetime,
    now: datetime,
    payload: dict[str, Any] | None = None,
    key: str | None = None,
) -> Timer:
    """Create a timer; with `key`, an existing timer of that key is returned instead.

    The row is written with the transaction's next flush (its next query, at the latest its
    commit): a ticket plans several timers at once, and one INSERT for them all costs far
    less than one flush each (the timer's id is set then). Cancelling, an UPDATE through the
    session, flushes first.
    """
    if key is not None:
        existing = session.scalars(select(Timer).where(Timer.key == key)).first()
        if existing is not None:
            return existing
    timer = Timer(
        kind=kind,
        ref=ref,
        key=key,
        due_at=to_utc(due_at),
        payload=payload or {},
        status="pending",
        attempts=0,
        created_at=now,
    )
    session.add(timer)
    return timer


def cancel(session: Session, *, kind: str, ref: str, skip_running: bool = False) -> int:
    """Cancel the pending timers of a kind for a reference; returns how many.

    `skip_running`: leave alone a timer another worker has claimed and is running now (on
    PostgreSQL its row is locked until that worker commits). Waiting for it would deadlock
    when its handler waits for a row this transaction holds (the ticket), so such a handler
    must check for itself whether it is still wanted once it gets that row.
    """
    pending = (Timer.kind == kind, Timer.ref == ref, Timer.status == "pending")
    if skip_running and is_postgres(session):
        free = select(Timer.id).where(*pending).with_for_update(skip_locked=True)
        result = session.execute(update(Timer).where(Timer.id.in_(free)).values(status="cancelled"))
    else:
        result = session.execute(update(Timer).where(*pending).values(status="cancelled"))
    return getattr(result, "rowcount", 0) or 0  # an UPDATE's result is a CursorResult


class Scheduler:
    """Runs due timers; `run_due(now)` is what tests call after moving the clock."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        worker_id: str,
        registry: TimerRegistry | None = None,
        runtime: RuntimeView | None = None,
    ) -> None:
        """`registry`: the handlers to run; by default the runtime's."""
        if registry is None:
            if runtime is None:
                raise ValueError("a scheduler needs a timer registry or a runtime holding one")
            registry = runtime.timers
        self.db = db
        self.clock = clock
        self.worker_id = worker_id
        self.registry = registry
        self.runtime = runtime

    def run_once(self, now: datetime | None = None) -> int:
        """Claim and handle at most one due timer; returns 1 when one was handled."""
        now = now or self.clock.now()
        with self.db.scope() as session:
            stmt = (
                select(Timer)
                .where(Timer.status == "pending", Timer.due_at <= now)
                .order_by(Timer.due_at, Timer.id)
                .limit(1)
            )
            if is_postgres(session):
                stmt = stmt.with_for_update(skip_locked=True)
            timer = session.scalars(stmt).first()
            if timer is None:
                return 0
            timer.attempts += 1
            handler = self.registry.get(timer.kind)
            if handler is None:
                timer.status = "failed"
                timer.error = f"no handler for timer kind {timer.kind!r}"
                log.error("timer %s: %s", timer.id, timer.error)
                return 1
            try:
                with session.begin_nested():
                    handler(TimerContext(session=session, clock=self.clock, now=now, runtime=self.runtime), timer)
            except Exception as exc:  # a failing handler must not stop the other timers
                log.exception("timer %s (%s %s) failed", timer.id, timer.kind, timer.ref)
                timer.error = f"{type(exc).__name__}: {exc}"
                if timer.attempts >= MAX_ATTEMPTS:
                    timer.status = "failed"
                else:
                    timer.due_at = now + timedelta(seconds=30 * 2 ** (timer.attempts - 1))
                return 1
            timer.status = "done"
            timer.fired_at = now
            if self.runtime is not None:
                self.runtime.metrics.timer_fired(timer.due_at, now)
            return 1

    def run_due(self, now: datetime | None = None, *, limit: int = 100_000) -> int:
        """Handle every timer due at `now` (default: the clock), including ones handlers add."""
        handled = 0
        while handled < limit and self.run_once(now):
            handled += 1
        return handled
