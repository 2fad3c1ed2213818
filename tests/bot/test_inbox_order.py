"""The events of one space are handled in the order they arrived, as its messages are sent: a
transient Webex error on reading one holds back the later ones of its space, and no others."""

from datetime import timedelta

from sqlalchemy import column, create_engine, insert, select, table, text

from bot.inbox import InboxWorker
from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BRAM_EMAIL, POLDER_ROOM
from storage.migrate import upgrade
from storage.models.runtime import InboxEvent
from tests.conftest import START

ASKED = ["/sla P1 2026-01-09 17:01", "/sla P1 2026-01-09 17:02", "/sla P1 2026-01-09 17:03", "/sla P1 2026-01-09 17:04"]


def _answered(harness, room: str) -> list[str]:
    """The minute each /sla answer in the space was about, in the order the space received them."""
    return [
        m["markdown"].split("2026 ")[1][:5] for m in harness.bot_messages(room) if m["markdown"].startswith("**SLA for")
    ]


def test_a_command_retried_after_a_read_error_is_not_overtaken_by_later_ones(harness, clock):
    # Once the replies came 17:02, 17:03, 17:04, 17:01: the retried read went last.
    first = harness.say(ANNA_EMAIL, ACME_ROOM, ASKED[0])
    harness.state.faults.add("GET", f"/v1/messages/{first['id']}", 503)
    for text_ in ASKED[1:]:
        harness.say(ANNA_EMAIL, ACME_ROOM, text_)
    harness.say(BRAM_EMAIL, POLDER_ROOM, "/sla P1 2026-01-09 18:00")
    harness.run()
    assert _answered(harness, ACME_ROOM) == []  # the first waits for its retry, the others for the first
    assert _answered(harness, POLDER_ROOM) == ["18:00"]  # another space goes on
    clock.advance(timedelta(seconds=1))
    harness.run()
    assert _answered(harness, ACME_ROOM) == ["17:01", "17:02", "17:03", "17:04"]


def test_two_workers_never_hold_two_events_of_one_space(harness, clock):
    for text_ in ASKED[:2]:
        harness.say(ANNA_EMAIL, ACME_ROOM, text_)
    harness.say(BRAM_EMAIL, POLDER_ROOM, "/ping")
    first, second = InboxWorker(harness.runtime, worker_id="first"), InboxWorker(harness.runtime, worker_id="second")
    held = first.claim_batch()
    assert [row.order_key for row in held] == [harness.room(ACME_ROOM)["id"], harness.room(POLDER_ROOM)["id"]]
    assert second.claim_batch() == []  # Acme's second command waits for its first
    first.process(held[0])
    [next_one] = second.claim_batch()
    assert next_one.id > held[0].id and next_one.order_key == held[0].order_key
    second.process(next_one)
    first.process(held[1])
    harness.sender.drain()
    assert _answered(harness, ACME_ROOM) == ["17:01", "17:02"]


def test_an_event_waiting_at_the_upgrade_keeps_its_place(database_url, tmp_path):
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            conn.execute(text("INSERT INTO alembic_version VALUES ('0014')"))
            conn.execute(text("DROP INDEX ix_inbox_head"))
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE inbox_events DROP COLUMN order_key"))
        # The table as release 0014 had it: no order_key.
        events = table(
            "inbox_events",
            *(column(c.name, c.type) for c in InboxEvent.__table__.c if c.name not in ("id", "order_key")),
        )
        with engine.begin() as conn:
            for key, status, room in (("a", "pending", "ROOM-A"), ("b", "done", "ROOM-B")):
                conn.execute(
                    insert(events).values(
                        event_key=key,
                        resource="messages",
                        event="created",
                        status=status,
                        attempts=0,
                        payload={"data": {"id": key, "roomId": room}},
                        received_at=START,
                        next_attempt_at=START,
                    )
                )
        upgrade(engine)
        with engine.begin() as conn:
            assert dict(conn.execute(select(InboxEvent.event_key, InboxEvent.order_key)).all()) == {
                "a": "ROOM-A",
                "b": None,
            }
    finally:
        engine.dispose()


def test_the_endpoint_stores_the_space_of_each_event(harness):
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    with harness.runtime.db.read() as session:
        assert session.scalars(select(InboxEvent.order_key)).all() == [harness.room(ACME_ROOM)["id"]]


def test_events_without_a_space_are_not_held(harness, clock):
    with harness.runtime.db.scope() as session:
        for n in range(2):
            session.execute(
                insert(InboxEvent).values(
                    event_key=f"x:{n}",
                    resource="rooms",
                    event="created",
                    payload={"data": {}},
                    received_at=clock.now(),
                    status="pending",
                    attempts=0,
                    next_attempt_at=clock.now(),
                )
            )
    assert len(InboxWorker(harness.runtime, worker_id="w").claim_batch()) == 2
