"""Retention: handled events and sent messages older than BOT_RETENTION_DAYS are deleted, and
nothing a ticket, a clock or a notice count still needs."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from bot import outbox
from bot.config import ConfigError, load_settings
from bot.retention import Retention
from bot.security import sign
from sandbox.delivery import HOOK_PAYLOAD_FIELDS, MESSAGE_DATA_FIELDS
from sandbox.demo import ACME_ROOM, ANNA_EMAIL, SANNE_EMAIL, STAFF_ROOM
from storage.models.runtime import InboxEvent, OutboxMessage
from storage.models.tickets import Ticket
from tests.harness import SECRET, local

DAY = timedelta(days=1)


def _retention(harness, days=30, **kw) -> Retention:
    harness.settings = harness.runtime.settings = harness.settings.with_(retention_days=days)
    return Retention(harness.runtime, **kw)


def _rows(db, model):
    with db.scope() as s:
        return s.scalars(select(model).order_by(model.id)).all()


def _sent_rows(harness, purposes, *, created):
    """Outbox rows with these purposes, sent, created at `created`; their ids."""
    with harness.runtime.db.scope() as s:
        ids = [
            outbox.enqueue(s, now=created, room_id="R-old", markdown=f"m{k}", purpose=purpose).id
            for k, purpose in enumerate(purposes)
        ]
        s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(status="sent", sent_at=created))
    return ids


def test_old_events_and_messages_go_while_the_tickets_thread_and_countdown_stay(harness, db):
    harness.at(local(2026, 1, 12, 9, 0))
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.run()
    old_outbox = {row.id: row.purpose for row in _rows(db, OutboxMessage)}
    assert {"ticket:INC-1001:root", "ticket:INC-1001:countdown"} <= set(old_outbox.values())

    harness.at(local(2026, 2, 11, 9, 0))  # 30 days on: not yet
    assert _retention(harness).tick() == {"inbox_events": 0, "outbox_messages": 0}
    harness.at(local(2026, 2, 11, 9, 1))  # then a new command; and an hour later the next prune
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    retention = _retention(harness)
    deleted = retention.tick()

    assert deleted == {"inbox_events": 2, "outbox_messages": len(old_outbox) - 2}
    assert [e.received_at for e in _rows(db, InboxEvent)] == [local(2026, 2, 11, 9, 1)]
    kept = _rows(db, OutboxMessage)
    assert sorted(row.purpose for row in kept if row.id in old_outbox) == [
        "ticket:INC-1001:countdown",
        "ticket:INC-1001:root",
    ]
    assert [row.created_at for row in kept if row.id not in old_outbox] == [local(2026, 2, 11, 9, 1)]
    assert harness.runtime.metrics.value("servicedesk_retention_deleted_total", table="inbox_events") == 2

    # The ticket's thread still leads to the ticket, and its countdown is edited, not posted anew.
    countdowns = [m for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("⏱")]
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P2 two sites")
    harness.run()
    after = [m for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("⏱")]
    assert [m["id"] for m in after] == [m["id"] for m in countdowns]
    # P2: resolution 16 office hours from Monday 09:00.
    assert "- Resolution: breached (was due Tue 13 Jan 2026 15:00)" in after[0]["markdown"]
    assert "- Resolution: breached" not in countdowns[0]["markdown"]
    root = [m for m in harness.bot_messages(ACME_ROOM) if not m.get("parentId") and "INC-1001" in m["markdown"]][0]
    harness.say(ANNA_EMAIL, ACME_ROOM, "Still offline here", parent_id=root["id"])
    harness.run()
    assert any(
        "INC-1001" in m["markdown"] and "Still offline here" in m["markdown"] for m in harness.bot_messages(STAFF_ROOM)
    )

    # Not again within the hour.
    _sent_rows(harness, [None], created=local(2025, 1, 1, 9, 0))
    assert retention.tick() == {}
    harness.at(local(2026, 2, 11, 10, 1))
    assert retention.tick() == {"inbox_events": 0, "outbox_messages": 1}


def test_unfinished_referenced_and_counted_rows_are_kept_whatever_their_age(harness, db, clock):
    now = clock.now()
    old = now - 400 * DAY
    doomed = _sent_rows(harness, [None, "ticket:INC-7", "ticket:INC-7:staff", "page:3"], created=old)
    kept = _sent_rows(
        harness, ["ticket:INC-7:countdown", "disruption:DIS-2:notice", "maintenance:MNT-4:start"], created=old
    )
    [parent] = _sent_rows(harness, [None], created=old)
    with db.scope() as s:
        # Not sent yet (a space Webex keeps refusing with 429), and a message another one threads under.
        waiting = outbox.enqueue(s, now=old, room_id="R-old", markdown="waiting")
        child = outbox.enqueue(s, now=now, room_id="R-old", markdown="reply", parent_outbox_id=parent)
        kept += [waiting.id, parent, child.id]
        s.add(
            InboxEvent(
                event_key="messages:old-pending",
                resource="messages",
                event="created",
                payload={},
                received_at=old,
                next_attempt_at=old,
            )
        )
    assert _retention(harness).prune(now) == {"inbox_events": 0, "outbox_messages": len(doomed)}
    assert sorted(row.id for row in _rows(db, OutboxMessage)) == sorted(kept)
    assert [e.event_key for e in _rows(db, InboxEvent)] == ["messages:old-pending"]


def test_a_large_backlog_goes_in_batches(harness, db, clock):
    _sent_rows(harness, [None] * 7, created=clock.now() - 31 * DAY)
    assert _retention(harness, batch=3).prune(clock.now()) == {"inbox_events": 0, "outbox_messages": 7}
    assert _rows(db, OutboxMessage) == []


def test_a_tick_does_a_few_batches_and_the_next_tick_goes_on_at_once(harness, db, clock):
    # The timer thread runs the ticks: a backlog must not hold the timers back in one long tick.
    _sent_rows(harness, [None] * 7, created=clock.now() - 31 * DAY)
    retention = _retention(harness, batch=2, batches_per_tick=2)
    assert retention.tick() == {"inbox_events": 0, "outbox_messages": 4}
    assert len(_rows(db, OutboxMessage)) == 3
    assert retention.tick() == {"inbox_events": 0, "outbox_messages": 3}  # no hour's wait
    assert retention.tick() == {}  # done: the next in an hour
    clock.advance(timedelta(hours=1))
    assert retention.tick() == {"inbox_events": 0, "outbox_messages": 0}


def test_retention_zero_keeps_everything(harness, db, clock):
    ids = _sent_rows(harness, [None, None], created=clock.now() - 4000 * DAY)
    retention = _retention(harness, days=0)
    assert retention.tick() == {} and retention.prune(clock.now()) == {}
    assert [row.id for row in _rows(db, OutboxMessage)] == ids


def test_the_retention_setting_is_checked():
    assert load_settings({}).retention_days == 30
    assert load_settings({"BOT_RETENTION_DAYS": "0"}).retention_days == 0
    assert load_settings({"BOT_RETENTION_DAYS": "365"}).retention_days == 365
    for bad in ("-1", "thirty", "1.5", "40000"):
        with pytest.raises(ConfigError, match="BOT_RETENTION_DAYS"):
            load_settings({"BOT_RETENTION_DAYS": bad})


# -- replays ---------------------------------------------------------------------------------------


def _delivery(harness, message: dict, **data) -> bytes:
    """The body Webex sent the bot for `message` (messages/created), as someone who kept it would replay it."""
    hook = next(w for w in harness.state.webhooks.values() if (w["resource"], w["event"]) == ("messages", "created"))
    payload = {k: hook[k] for k in HOOK_PAYLOAD_FIELDS if k in hook}
    payload |= {
        "event": "created",
        "actorId": message["personId"],
        "data": {k: message[k] for k in MESSAGE_DATA_FIELDS if k in message} | data,
    }
    return json.dumps(payload).encode()


def _replay(harness, body: bytes) -> requests.Response:
    return requests.post(
        f"{harness.bot.url}/webhooks/webex",
        data=body,
        timeout=10,
        headers={"X-Spark-Signature": sign(body, SECRET), "Content-Type": "application/json"},
    )


def _tickets(db) -> list[str]:
    with db.scope() as s:
        return [t.title for t in s.scalars(select(Ticket).order_by(Ticket.id))]


def test_a_delivery_replayed_after_its_event_was_deleted_runs_nothing(harness, db):
    harness.at(local(2026, 1, 12, 9, 0))
    message = harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.run()
    body = _delivery(harness, message)
    said = len(harness.bot_messages(ACME_ROOM))
    assert _tickets(db) == ["Modems offline"]

    # Until its event is deleted, a replay is a repeat the inbox knows.
    harness.at(local(2026, 2, 11, 7, 59))  # 30 days on, less the hour's margin, less a minute
    assert _replay(harness, body).json() == {"accepted": True, "duplicate": True}
    # From an hour before the retention may delete it, the event is refused by its age.
    harness.at(local(2026, 2, 11, 8, 1))
    refused = _replay(harness, body)
    assert (refused.status_code, refused.json()) == (400, {"error": "event older than the retention window"})
    harness.at(local(2026, 2, 11, 9, 1))
    assert _retention(harness).tick()["inbox_events"] == 1
    events = _rows(db, InboxEvent)
    assert events == []
    for later in (local(2026, 2, 11, 9, 2), local(2026, 9, 1, 12, 0)):
        harness.at(later)
        assert _replay(harness, body).status_code == 400
    harness.run()
    assert _rows(db, InboxEvent) == []
    assert _tickets(db) == ["Modems offline"]
    assert len(harness.bot_messages(ACME_ROOM)) == said
    assert harness.runtime.metrics.value("servicedesk_webhooks_total", outcome="stale") == 3


@pytest.mark.parametrize("created", [None, "now"], ids=["without-a-time", "claiming-to-be-new"])
def test_an_old_message_is_not_run_again_whatever_its_delivery_says_of_its_time(harness, db, created):
    # Webex's own time of the message decides: a delivery without a signature check (--no-webhook-secret),
    # or one that names an old message as new, is read back from Webex like any other.
    harness.at(local(2026, 1, 12, 9, 0))
    message = harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.run()
    harness.at(local(2026, 2, 11, 9, 1))
    _retention(harness).tick()
    said = len(harness.bot_messages(ACME_ROOM))
    claimed = {"created": harness.state.stamp()} if created == "now" else {}
    body = _delivery(harness, {k: v for k, v in message.items() if k != "created"}, **claimed)
    assert _replay(harness, body).json() == {"accepted": True, "duplicate": False}
    harness.run()
    [event] = _rows(db, InboxEvent)
    assert message["created"] == "2026-01-12T08:00:00.000Z"
    assert (event.status, event.error) == (
        "ignored",
        "created 2026-01-12T08:00:00+00:00, before the retention window: a replay",
    )
    assert _tickets(db) == ["Modems offline"]
    assert len(harness.bot_messages(ACME_ROOM)) == said


def test_with_retention_zero_nothing_is_refused_for_its_age(harness, db):
    harness.at(local(2026, 1, 12, 9, 0))
    message = harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    _retention(harness, days=0)
    harness.at(local(2027, 1, 12, 9, 0))
    assert _replay(harness, _delivery(harness, message)).json() == {"accepted": True, "duplicate": True}
