"""Wake-ups across processes on PostgreSQL: the web process NOTIFYs when it stores an event, and
each worker process LISTENs, so a command is taken at once instead of at the next poll.

Polling (bot/workers.py) stays the safety net: a notification lost while a listener reconnects
(PostgreSQL restarted) costs at most one poll interval, and the listener wakes its workers once
after every (re)connect to cover what it may have missed. SQLite needs none of this: its web
and workers share one process and wake each other through `Runtime.wake_inbox`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from storage.db import is_postgres

log = logging.getLogger(__name__)

# One channel per schema: deployments (or test processes) that share a database in schemas of
# their own never wake each other.
INBOX_CHANNEL = "servicedesk_inbox"
_NOTIFY_INBOX = text(f"SELECT pg_notify('{INBOX_CHANNEL}:' || current_schema(), '')")
MAX_RECONNECT_S = 30.0


def notify_inbox(session: Session) -> None:
    """Tell every listening worker process that an event is stored; delivered when the
    transaction commits (and not at all if it rolls back). Nothing on SQLite."""
    if is_postgres(session):
        session.execute(_NOTIFY_INBOX)


def conninfo(engine: Engine) -> str:
    """A libpq URI for the engine's database (search_path and other options kept)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class InboxListener:
    """A thread holding one connection that LISTENs on its schema's channel and calls `wake` for each
    notification, reconnecting with backoff when the connection is lost."""

    def __init__(self, engine: Engine, wake: Callable[[], None], *, check_every_s: float = 1.0) -> None:
        self.dsn = conninfo(engine)
        self.wake = wake
        self.check_every_s = check_every_s
        self.stopping = threading.Event()
        self.listening = threading.Event()  # set while LISTEN is in force (tests wait on it)
        self.connects = 0
        self.thread = threading.Thread(target=self._run, name="inbox-listener", daemon=True)

    def start(self) -> InboxListener:
        self.thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self.thread.join(timeout)

    def _run(self) -> None:
        delay = 1.0
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as conn:
                    row = conn.execute("SELECT current_schema()").fetchone()
                    channel = f"{INBOX_CHANNEL}:{row[0] if row else 'public'}"
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.connects += 1
                    self.listening.set()
                    delay = 1.0
                    self.wake()  # whatever was stored while nobody listened
                    while not self.stopping.is_set():
                        for _ in conn.notifies(timeout=self.check_every_s, stop_after=1):
                            self.wake()
            except psycopg.Error as exc:
                self.listening.clear()
                if self.stopping.is_set():
                    break
                log.warning("inbox listener: connection lost (%s); reconnecting in %.0f s", exc, delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, MAX_RECONNECT_S)
        self.listening.clear()
