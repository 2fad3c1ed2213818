"""On PostgreSQL an event stored by a web process wakes the worker processes at once (LISTEN/
NOTIFY), only when its transaction commits, and the listener survives a lost connection."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from bot import inbox, wakeups
from sandbox.demo import ACME_ROOM, ANNA_EMAIL
from tests.harness import Harness

pytestmark = pytest.mark.postgres

WAIT_S = 10


def _event(n: int) -> dict:
    return {"id": "hook", "resource": "messages", "event": "created", "data": {"id": f"MSG-{n}", "roomId": "R"}}


@pytest.fixture
def listener(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite the web and the workers share a process")
    woken = threading.Event()
    started = wakeups.InboxListener(db.engine, woken.set, check_every_s=0.2).start()
    assert started.listening.wait(WAIT_S)
    assert woken.wait(WAIT_S)  # the wake-up after connecting, for what was stored before
    woken.clear()
    yield started, woken
    started.stop()


def test_a_stored_event_wakes_the_listener_when_its_transaction_commits(db, clock, listener):
    started, woken = listener
    with db.scope() as session:
        assert inbox.accept(session, _event(1), now=clock.now())
        wakeups.notify_inbox(session)
        assert not woken.wait(0.5)  # not before the commit
    assert woken.wait(WAIT_S)


def test_a_rolled_back_event_wakes_nobody(db, clock, listener):
    started, woken = listener
    with pytest.raises(RuntimeError):
        with db.scope() as session:
            inbox.accept(session, _event(2), now=clock.now())
            wakeups.notify_inbox(session)
            raise RuntimeError("the request failed")
    assert not woken.wait(1.0)


def test_the_listener_reconnects_after_losing_its_connection_and_wakes_once_for_what_it_missed(db, clock, listener):
    started, woken = listener
    with db.scope() as session:
        session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query = 'LISTEN ' || quote_ident('servicedesk_inbox:' || current_schema()) AND pid <> pg_backend_pid()"
            )
        )
    assert woken.wait(WAIT_S + wakeups.MAX_RECONNECT_S)  # the wake-up after reconnecting
    assert started.connects == 2
    woken.clear()
    with db.scope() as session:
        inbox.accept(session, _event(3), now=clock.now())
        wakeups.notify_inbox(session)
    assert woken.wait(WAIT_S)


def test_the_webhook_endpoint_notifies(db, clock, listener):
    started, woken = listener
    harness = Harness(db, clock)
    try:
        woken.clear()
        harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
        assert woken.wait(WAIT_S)
    finally:
        harness.close()
