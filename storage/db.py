"""Engine creation and the session scope that owns commit and rollback."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, FromClause, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

log = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine set up for the bot's access pattern on SQLite or PostgreSQL."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _tune_sqlite(engine)
    else:
        # LIFO: a busy process keeps reusing a few warm connections, so they are rarely idle.
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_use_lifo=True)
        _ping_when_idle(engine)
    return engine


# A pooled connection idle at least this long is tested before use. Pinging every checkout
# (pool_pre_ping) cost a round trip per transaction; a connection that went stale in a database
# restart was idle at least as long as the database was down (one in use then failed and was
# discarded, and SQLAlchemy then replaces the whole pool).
PING_AFTER_IDLE_S = 1.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_conn: DBAPIConnection | None, record: ConnectionPoolEntry | None) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool discards this connection and checks out another (up to three tries).
            log.info("pooled connection is stale (%s); reconnecting", type(exc).__name__)
            raise DisconnectionError() from exc


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:  # pysqlite's own connection
        # Let SQLAlchemy issue BEGIN itself (below) instead of pysqlite's implicit one.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        # Take the write lock up front: a deferred transaction that reads, then writes,
        # can fail with SQLITE_BUSY at once instead of waiting for busy_timeout. Read-only
        # scopes need no lock at all (WAL readers do not block the writer).
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")


def insert_missing(session: Session, table: FromClause, **values: Any) -> None:
    """INSERT … ON CONFLICT DO NOTHING on `table`'s primary key: a row that two workers create
    at the same moment (a person or space seen first by two events) is created once, and the
    second waits for the first's commit instead of failing on the key."""
    if not isinstance(table, Table):  # a mapped class's __table__, typed as any FromClause
        raise TypeError(f"{table} is not a table")
    insert = pg_insert if is_postgres(session) else sqlite_insert
    session.execute(
        insert(table).values(**values).on_conflict_do_nothing(index_elements=list(table.primary_key.columns))
    )


def is_postgres(session_or_engine: Session | Engine | Connection) -> bool:
    """True when running on PostgreSQL (claims then use FOR UPDATE SKIP LOCKED)."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def _hold(session: Session, instance: Any) -> None:
    session.info.setdefault("held", []).append(instance)


class Database:
    """An engine plus a session factory; `scope()` is the only place that commits."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # A session keeps the rows it loaded only while something refers to them: a row read by one
        # helper and dropped was read again by the next (the sender's person, the ticket's
        # organisation). Every session is one short transaction, so it holds them until it closes.
        event.listen(self._sessions, "loaded_as_persistent", _hold)
        event.listen(self._sessions, "pending_to_persistent", _hold)
        # SQLite has one writer at a time and every transaction here takes the write lock
        # (BEGIN IMMEDIATE). Threads of one process queue on this lock instead: SQLite's own
        # busy handler waits by sleeping up to 100 ms at a time, which a lock hand-over does not.
        # Other processes on the same file still meet at SQLite's lock and busy_timeout.
        self._writer = threading.RLock() if self.engine.dialect.name == "sqlite" else None

    @contextmanager
    def scope(self) -> Iterator[Session]:
        """A transaction: commit when the block ends normally, roll back when it raises."""
        if self._writer is not None:
            self._writer.acquire()
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if self._writer is not None:
                self._writer.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction: no writer lock on SQLite; rolled back at the end."""
        session = self._sessions()
        try:
            session.connection(execution_options={"read_only": True})
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
