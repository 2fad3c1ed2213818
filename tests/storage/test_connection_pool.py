"""Pooled PostgreSQL connections: tested before use only after being idle, and a stale one is
replaced without the transaction noticing."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from storage import db as db_module
from storage.db import Database


@pytest.fixture
def pg(postgres_url):
    database = Database(postgres_url)
    yield database
    database.dispose()


@pytest.fixture
def pings(pg, monkeypatch):
    """Counts the liveness tests the pool makes."""
    calls = []
    real = pg.engine.dialect.do_ping

    def counting(dbapi_conn):
        calls.append(1)
        return real(dbapi_conn)

    monkeypatch.setattr(pg.engine.dialect, "do_ping", counting)
    return calls


def _backend(database: Database) -> int:
    with database.scope() as session:
        return session.scalar(text("SELECT pg_backend_pid()"))


def test_busy_connections_are_not_pinged(pg, pings):
    first = _backend(pg)
    for _ in range(5):
        assert _backend(pg) == first  # the same warm connection, reused at once
    assert pings == []


def test_idle_connection_is_pinged_before_use(pg, pings, monkeypatch):
    _backend(pg)
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.0)
    _backend(pg)
    assert pings == [1]


def test_connection_killed_while_idle_is_replaced(pg, postgres_url, pings, monkeypatch):
    stale = _backend(pg)
    admin = create_engine(postgres_url)
    with admin.begin() as conn:  # as a database restart does to every connection
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": stale})
    admin.dispose()
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.0)
    fresh = _backend(pg)  # no error reaches the caller
    assert fresh != stale
    assert pings  # the dead one was found by its ping
