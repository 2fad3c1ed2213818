"""Worker threads: inbox processors, outbox senders and the timer scheduler, in one process."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta

from bot.app import Bell, Runtime
from bot.inbox import InboxWorker
from bot.pacing import BulkPacer, RateGate
from bot.retention import Retention
from bot.scheduler import Scheduler
from bot.sender import OutboxSender
from bot.wakeups import InboxListener
from bot.watchdog import WebhookWatch

log = logging.getLogger(__name__)

# Rows of this process wake its workers at once, and on PostgreSQL events stored by other
# processes too (bot/wakeups.py); polling finds whatever a wake-up missed.
POLL_SECONDS = 0.5
SCHEDULER_POLL_SECONDS = 1.0


def worker_name(kind: str, n: int) -> str:
    """A worker id unique across hosts and processes."""
    return f"{socket.gethostname()}:{os.getpid()}:{kind}{n}"


class Workers:
    """Starts and stops the worker threads of one process."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.listener: InboxListener | None = None
        self.timers_bell = Bell()

    def start(self) -> None:
        """Start inbox, outbox and scheduler threads as configured."""
        settings = self.runtime.settings
        self.runtime.inbox_bell.cap = settings.inbox_threads
        self.runtime.outbox_bell.cap = settings.outbox_threads
        for n in range(settings.inbox_threads):
            worker = InboxWorker(self.runtime, worker_id=worker_name("inbox", n))
            self._spawn(f"inbox-{n}", worker.work, self.runtime.inbox_bell, POLL_SECONDS)
        gate = RateGate()  # one per process: a 429 pauses every sender of the bot's token
        pacer = BulkPacer(settings.bulk_per_second)  # one per process: the bulk pace is the process's
        for n in range(settings.outbox_threads):
            sender = OutboxSender(
                self.runtime.db,
                self.runtime.webex,
                self.runtime.clock,
                worker_id=worker_name("outbox", n),
                gate=gate,
                metrics=self.runtime.metrics,
                lease=timedelta(seconds=settings.lease_seconds),
                access=self.runtime.access,
                pacer=pacer,
            )
            self._spawn(f"outbox-{n}", sender.work, self.runtime.outbox_bell, POLL_SECONDS)
        scheduler = Scheduler(
            self.runtime.db, self.runtime.clock, worker_id=worker_name("timers", 0), runtime=self.runtime
        )
        watch = WebhookWatch(self.runtime, every=timedelta(minutes=settings.webhook_check_minutes))
        retention = Retention(self.runtime)

        def timers_then_wake() -> int:
            for what, chore in (("webhook check", watch.tick), ("retention", retention.tick)):
                try:
                    chore()
                except Exception:  # never let a chore stop the timers
                    log.exception("%s failed", what)
            handled = scheduler.run_once()
            if handled:
                self.runtime.wake_outbox()
            return handled

        self._spawn("timers", timers_then_wake, self.timers_bell, SCHEDULER_POLL_SECONDS)
        if self.runtime.db.engine.dialect.name == "postgresql" and settings.inbox_threads:
            # Events stored by other processes (the web processes) wake the inbox workers at once.
            self.listener = InboxListener(self.runtime.db.engine, self.runtime.wake_inbox).start()

    def _spawn(self, name: str, step: Callable[[], int], wake: Bell, poll: float) -> None:
        door = self.runtime.door

        def loop() -> None:
            while not self.stopping.is_set():
                door.wait_clear()  # let an acknowledgement in flight go first
                try:
                    busy = step()
                except Exception:  # keep the worker alive: the row stays claimed and its lease expires
                    log.exception("worker %s: step failed", name)
                    busy = 0
                if busy:
                    wake.ring()  # there may be more: a peer looks too (one that finds nothing stops the chain)
                else:
                    wake.wait(poll)

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every thread to stop after its current row and wait for them."""
        self.stopping.set()
        if self.listener is not None:
            self.listener.stop()
        for bell in (self.runtime.inbox_bell, self.runtime.outbox_bell, self.timers_bell):
            bell.ring_all()
        for thread in self.threads:
            thread.join(timeout)
