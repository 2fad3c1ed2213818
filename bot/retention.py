"""Retention: the queues are transport, not the record. A webhook event handled and a message
sent more than `BOT_RETENTION_DAYS` ago are deleted, with what customers wrote and what the bot
answered them; tickets, their timeline, the audit log and the timers stay.

Kept whatever their age, because something still points at them or shows them:
- a message not finished (pending or being sent) and an event not handled;
- a ticket's thread root (replies in the thread find their ticket through it);
- a message another message threads under or edits (once that one is gone, it may go too);
- a ticket's SLA countdown card (its clock edits it while the ticket lives);
- maintenance and disruption notices (`/disruption` counts them).

An event deleted is forgotten: Webex redelivers an event within minutes, not days, so the
deduplication of deliveries is not weakened by any retention of a day or more. A delivery sent
again by someone else (a replay of a captured one, signature and all) after its row was deleted
would be new to the inbox, so the endpoint refuses every event created before `replay_cutoff`,
and a worker every message and card press Webex says were created before it: a replay never
runs a command twice.

The timer thread of every worker process calls `tick()`; it prunes once an hour, in batches
of BATCH rows, each its own short transaction. A tick does at most BATCHES_PER_TICK batches of
each table, so a large backlog (the first prune of a database kept for years) holds the timers
back for a fraction of a second at a time and goes on at the next tick, not an hour later. Two
processes pruning at once skip each other's rows on PostgreSQL.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Delete, Table, and_, delete, exists, not_, or_, select

from bot.context import RuntimeView
from storage.db import is_postgres
from storage.models.runtime import InboxEvent, OutboxMessage
from storage.models.tickets import Ticket

log = logging.getLogger(__name__)

EVERY = timedelta(hours=1)
# Webex's clock and this host's may differ: events are refused from this long before the
# retention's cutoff, so no clock difference up to it lets a replay in after its row is gone.
REPLAY_MARGIN = timedelta(hours=1)
BATCH = 1000
BATCHES_PER_TICK = 10
# Purposes of rows kept whatever their age (LIKE patterns): see the module docstring.
KEPT_PURPOSES = ("ticket:%:countdown", "disruption:%", "maintenance:%")


def replay_cutoff(now: datetime, retention_days: int) -> datetime | None:
    """Events created before this instant are refused (their inbox rows may be deleted by now);
    None when the retention keeps everything, and the inbox recognises every repeat."""
    if not retention_days:
        return None
    return now - timedelta(days=retention_days) + REPLAY_MARGIN


def _inbox_batch(cutoff: datetime, batch: int, *, locked: bool) -> Delete:
    pick = (
        select(InboxEvent.id)
        .where(InboxEvent.status.in_(("done", "ignored", "failed")), InboxEvent.processed_at < cutoff)
        .order_by(InboxEvent.id)
        .limit(batch)
    )
    if locked:
        pick = pick.with_for_update(skip_locked=True)
    return delete(InboxEvent).where(InboxEvent.id.in_(pick.scalar_subquery()))


def _outbox_batch(cutoff: datetime, batch: int, *, locked: bool) -> Delete:
    table = cast(Table, OutboxMessage.__table__)  # a mapped class's table is typed as any FromClause
    row = table.alias("row")
    other = table.alias("other")
    pick = (
        select(row.c.id)
        .where(
            row.c.status.in_(("sent", "failed")),
            row.c.created_at < cutoff,
            or_(row.c.purpose.is_(None), and_(*(not_(row.c.purpose.like(pattern)) for pattern in KEPT_PURPOSES))),
            ~exists().where(Ticket.root_outbox_id == row.c.id),
            ~exists().where(other.c.parent_outbox_id == row.c.id),
            ~exists().where(other.c.target_outbox_id == row.c.id),
        )
        .order_by(row.c.id)
        .limit(batch)
    )
    if locked:
        pick = pick.with_for_update(of=row, skip_locked=True)
    return delete(OutboxMessage).where(OutboxMessage.id.in_(pick.scalar_subquery()))


class Retention:
    """Deletes what the queues no longer need; `tick()` is called by the timer thread."""

    def __init__(
        self,
        runtime: RuntimeView,
        *,
        every: timedelta = EVERY,
        batch: int = BATCH,
        batches_per_tick: int = BATCHES_PER_TICK,
    ) -> None:
        self.runtime = runtime
        self.every = every
        self.batch = batch
        self.batches_per_tick = batches_per_tick
        self.next_at: datetime | None = None

    @property
    def keep(self) -> timedelta | None:
        days = self.runtime.settings.retention_days
        return timedelta(days=days) if days else None

    def tick(self) -> dict[str, int]:
        """Prune when the interval has passed (at the first call, then every `every`); when a tick
        left rows behind (its batches ran out), the next tick goes on."""
        now = self.runtime.clock.now()
        if self.keep is None or (self.next_at is not None and now < self.next_at):
            return {}
        deleted, finished = self._prune(now, max_batches=self.batches_per_tick)
        self.next_at = now + self.every if finished else now
        return deleted

    def prune(self, now: datetime) -> dict[str, int]:
        """Delete every event and message older than the retention; how many of each."""
        return self._prune(now, max_batches=None)[0] if self.keep is not None else {}

    def _prune(self, now: datetime, *, max_batches: int | None) -> tuple[dict[str, int], bool]:
        if self.keep is None:  # kept for ever (BOT_RETENTION_DAYS=0): tick and prune do not call this
            return {}, True
        cutoff = now - self.keep  # an instant in UTC: no calendar involved
        deleted = {"inbox_events": 0, "outbox_messages": 0}
        finished = True
        for table, build in (("inbox_events", _inbox_batch), ("outbox_messages", _outbox_batch)):
            batches = 0
            while True:
                with self.runtime.db.scope() as session:
                    result = session.execute(
                        build(cutoff, self.batch, locked=is_postgres(session)),
                        execution_options={"synchronize_session": False},
                    )
                    count: int = getattr(result, "rowcount", 0)  # a DELETE's result is a CursorResult
                deleted[table] += count
                batches += 1
                if count < self.batch:
                    break
                if max_batches is not None and batches >= max_batches:
                    finished = False
                    break
            if deleted[table]:
                self.runtime.metrics.pruned.labels(table=table).inc(deleted[table])
        if any(deleted.values()):
            log.info(
                "retention: deleted %d handled webhook events and %d sent or failed messages older than %s",
                deleted["inbox_events"],
                deleted["outbox_messages"],
                cutoff.isoformat(timespec="seconds"),
            )
        return deleted, finished
