"""What the bot exposes at GET /metrics (Prometheus text format).

Two kinds of figure:
- counters and histograms of what this process did (webhooks answered, messages sent, 429s,
  timers fired, command latency per command family); each process exposes its own, and
  Prometheus adds them up across processes;
- gauges read from the database when scraped (inbox backlog and lag, outbox backlog, failed
  rows, due timers): the queues are shared, so every process reports the same truth.

Each runtime has its own registry, so several runtimes in one process (tests) do not mix.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from storage.models.runtime import InboxEvent, OutboxMessage, Timer

if TYPE_CHECKING:
    from bot.clock import Clock
    from storage.db import Database

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A timer fired later than this after its due time counts as late.
LATE_AFTER_S = 5.0
# From a few milliseconds (a /ping) to minutes (a backlog after an outage).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    """The process's counters and histograms, plus the database gauges collected at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.webhooks = Counter(
            "servicedesk_webhooks", "Webhook deliveries answered, by outcome", ["outcome"], registry=self.registry
        )
        self.sent = Counter(
            "servicedesk_outbox_sent", "Messages sent, edited or deleted at Webex", registry=self.registry
        )
        self.send_failed = Counter(
            "servicedesk_outbox_send_failed", "Messages given up on (a 4xx other than 429)", registry=self.registry
        )
        self.rate_limited = Counter(
            "servicedesk_webex_429", "429 answers from Webex, by who got them", ["worker"], registry=self.registry
        )
        self.timers_fired = Counter("servicedesk_timers_fired", "Timers run", registry=self.registry)
        self.timers_late = Counter(
            "servicedesk_timers_late",
            f"Timers run more than {LATE_AFTER_S:g} s after their due time",
            registry=self.registry,
        )
        self.command_latency = Histogram(
            "servicedesk_command_latency_seconds",
            "Webhook stored → handler done, per command family",
            ["family"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "servicedesk_handler_seconds",
            "Time in the handler, per command family",
            ["family"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.webhook_checks = Counter(
            "servicedesk_webhook_checks",
            "Checks of the bot's webhooks at Webex, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.webhooks_reactivated = Counter(
            "servicedesk_webhooks_reactivated", "Webhooks Webex had disabled, set active again", registry=self.registry
        )
        self.pruned = Counter(
            "servicedesk_retention_deleted",
            "Rows deleted by the retention, by table",
            ["table"],
            registry=self.registry,
        )
        self.webex_unauthorized = Gauge(
            "servicedesk_webex_unauthorized",
            "1 while Webex refuses the bot's token (401) and everything is held",
            registry=self.registry,
        )
        self._queues: QueueCollector | None = None

    def watch_queues(self, db: Database, clock: Clock) -> None:
        """Report the database's queues at every scrape (once per runtime)."""
        if self._queues is None:
            self._queues = QueueCollector(db, clock)
            self.registry.register(self._queues)

    def webhook(self, outcome: str) -> None:
        """One delivery answered: accepted, duplicate, own (the bot's own doing), bad_signature, bad_body, too_large."""
        self.webhooks.labels(outcome=outcome).inc()

    def command_done(self, family: str, *, handler_s: float, since_stored_s: float) -> None:
        """A command or card action was handled."""
        self.handler_seconds.labels(family=family).observe(handler_s)
        self.command_latency.labels(family=family).observe(max(0.0, since_stored_s))

    def timer_fired(self, due_at: datetime, now: datetime) -> None:
        self.timers_fired.inc()
        if (now - due_at).total_seconds() > LATE_AFTER_S:
            self.timers_late.inc()

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (tests, logs); 0 when it was never set."""
        found = self.registry.get_sample_value(name, labels or None)
        return found or 0.0

    def exposition(self) -> bytes:
        """The text GET /metrics answers."""
        return generate_latest(self.registry)


class QueueCollector:
    """Gauges of the shared queues, read in one short read-only transaction per scrape."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        now = self.clock.now()
        try:
            with self.db.read() as session:
                inbox = dict(session.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status)).all())
                oldest = session.scalar(
                    select(func.min(InboxEvent.received_at)).where(InboxEvent.status.in_(("pending", "claimed")))
                )
                outbox = dict(
                    session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
                )
                due = session.scalar(
                    select(func.count()).select_from(Timer).where(Timer.status == "pending", Timer.due_at <= now)
                )
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("metrics: queues unreadable: %s", exc)
            up = GaugeMetricFamily("servicedesk_database_up", "Whether the queues could be read at this scrape")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("servicedesk_database_up", "Whether the queues could be read at this scrape")
        up.add_metric([], 1)
        yield up
        inbox_gauge = GaugeMetricFamily("servicedesk_inbox_events", "Inbox events by status", labels=["status"])
        for status in ("pending", "claimed", "done", "ignored", "failed"):
            inbox_gauge.add_metric([status], inbox.get(status, 0))
        yield inbox_gauge
        lag = GaugeMetricFamily(
            "servicedesk_inbox_lag_seconds", "Age of the oldest event not yet handled (0 when none)"
        )
        lag.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)
        yield lag
        outbox_gauge = GaugeMetricFamily("servicedesk_outbox_messages", "Outbox rows by status", labels=["status"])
        for status in ("pending", "sending", "sent", "failed"):
            outbox_gauge.add_metric([status], outbox.get(status, 0))
        yield outbox_gauge
        timers_gauge = GaugeMetricFamily("servicedesk_timers_due", "Timers due and not yet run")
        timers_gauge.add_metric([], due or 0)
        yield timers_gauge
