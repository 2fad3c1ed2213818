"""A message's whole path: sandbox Webex → signed webhook → inbox → router → outbox → Webex."""

import json
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, text

from bot import i18n, inbox
from bot.errors import Refused
from bot.inbox import InboxWorker
from bot.router import Router
from bot.security import sign
from sandbox.demo import ACME_ROOM, ADA_EMAIL, ANNA_EMAIL, BRAM_EMAIL, POLDER_ROOM, STAFF_ROOM
from storage import directory
from storage.models.runtime import InboxEvent
from tests.harness import SECRET

pytestmark = [pytest.mark.bare, pytest.mark.admins(ADA_EMAIL)]


def _texts(messages):
    return [m.get("markdown") or m.get("text") for m in messages]


def test_ping_in_a_group_space(harness):
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    [reply] = harness.bot_messages(ACME_ROOM)
    assert reply["markdown"].startswith(
        f"pong — service desk bot {harness.runtime.version}, it is 10:00 CET, Mon 23 Nov 2026"
    )
    assert reply.get("parentId") is None


def test_slash_is_optional_and_case_ignored(harness):
    harness.say(ANNA_EMAIL, ACME_ROOM, "PING")
    harness.run()
    assert len(harness.bot_messages(ACME_ROOM)) == 1


def test_reply_in_the_thread_it_was_asked_in(harness):
    root = harness.say(ANNA_EMAIL, ACME_ROOM, "hello there", mention=False)
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping", parent_id=root["id"])
    harness.run()
    [reply] = harness.bot_messages(ACME_ROOM)
    assert reply["parentId"] == root["id"]


def test_bot_does_not_answer_itself(harness, db):
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    # Webex delivers the bot's own reply to it as well; the endpoint answers it and stores nothing.
    [reply] = harness.bot_messages(ACME_ROOM)
    assert harness.state.wait_delivered(reply["id"], timeout=10)
    harness.run()
    assert len(harness.bot_messages(ACME_ROOM)) == 1
    with db.scope() as s:
        assert [e.status for e in s.scalars(select(InboxEvent))] == ["done"]
    assert [d["status_code"] for d in harness.state.deliveries] == [200, 200]


def test_own_message_announced_without_webhook_creator_is_dropped_by_the_worker(harness, db):
    """A delivery that does not name the webhook's creator is stored; the worker still knows the
    bot's own message by its author and answers nothing."""
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    [reply] = harness.bot_messages(ACME_ROOM)
    payload = {
        "id": "hook",
        "name": "servicedesk messages",
        "resource": "messages",
        "event": "created",
        "data": {
            "id": reply["id"],
            "roomId": reply["roomId"],
            "personId": reply["personId"],
            "personEmail": reply["personEmail"],
            "roomType": "group",
        },
    }
    body = json.dumps(payload).encode()
    resp = requests.post(
        f"{harness.bot.url}/webhooks/webex",
        data=body,
        headers={"X-Spark-Signature": sign(body, SECRET), "Content-Type": "application/json"},
        timeout=10,
    )
    assert resp.json() == {"accepted": True, "duplicate": False}
    harness.run()
    assert len(harness.bot_messages(ACME_ROOM)) == 1
    with db.scope() as s:
        assert sorted(e.status for e in s.scalars(select(InboxEvent))) == ["done", "ignored"]


def test_duplicate_delivery_gives_one_reply(harness, db):
    message = harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    payload = {
        "id": "redelivery",
        "name": "servicedesk messages",
        "resource": "messages",
        "event": "created",
        "data": {
            "id": message["id"],
            "roomId": message["roomId"],
            "personId": message["personId"],
            "personEmail": message["personEmail"],
            "roomType": "group",
        },
    }
    body = json.dumps(payload).encode()
    for _ in range(2):
        resp = requests.post(
            f"{harness.bot.url}/webhooks/webex",
            data=body,
            headers={"X-Spark-Signature": sign(body, SECRET)},
            timeout=10,
        )
        assert resp.status_code == 200
        assert resp.json()["duplicate"] is True
    harness.run()
    assert len(harness.bot_messages(ACME_ROOM)) == 1


def test_unknown_command_gets_a_hint(harness):
    harness.say(ANNA_EMAIL, ACME_ROOM, "/frobnicate now")
    harness.run()
    assert _texts(harness.bot_messages(ACME_ROOM)) == [
        "I don't know the command **/frobnicate**. Type `/help` to see what you can do here."
    ]


def test_only_a_mention_gets_a_greeting(harness):
    harness.say(ANNA_EMAIL, ACME_ROOM, "")
    harness.run()
    assert _texts(harness.bot_messages(ACME_ROOM)) == ["Hello! Type `/help` to see what you can do here."]


def test_help_lists_commands(harness):
    harness.say(ANNA_EMAIL, ACME_ROOM, "/help")
    harness.run()
    [reply] = _texts(harness.bot_messages(ACME_ROOM))
    assert "- `/help [command]` — list the commands you can use in this space" in reply
    assert "- `/ping` — check that the bot is running" in reply
    assert reply.endswith("In group spaces mention me first, for example `@IoT Service Desk /help`.")


def test_failing_handler_apologises_and_the_worker_goes_on(harness, db):
    router = Router()
    state = {"calls": 0}

    @router.command("boom")
    def boom(ctx, args):
        state["calls"] += 1
        ctx.reply("this must not be sent: the handler failed after queueing it")
        raise RuntimeError("bug in handler")

    @router.command("ping")
    def ping(ctx, args):
        ctx.reply("still alive")

    harness.runtime.router = router
    harness.say(ANNA_EMAIL, ACME_ROOM, "/boom")
    harness.say(ADA_EMAIL, STAFF_ROOM, "/ping")
    harness.run()
    assert _texts(harness.bot_messages(ACME_ROOM)) == [
        "Sorry, something went wrong while handling that. It has been recorded; please try again in a moment."
    ]
    assert _texts(harness.bot_messages(STAFF_ROOM)) == ["still alive"]
    with db.scope() as s:
        failed = s.scalars(select(InboxEvent).where(InboxEvent.status == "failed")).one()
        assert failed.error == "RuntimeError: bug in handler"


def test_handler_breaking_its_transaction_is_undone_and_answered(harness, db):
    # A failed statement aborts a PostgreSQL transaction: the answer needs a fresh one.
    router = Router()

    @router.command("broken")
    def broken(ctx, args):
        directory.set_person_language(ctx.session, email="written@example.com", language="nl", now=ctx.now())
        ctx.session.execute(text("SELECT * FROM no_such_table"))

    harness.runtime.router = router
    harness.say(ANNA_EMAIL, ACME_ROOM, "/broken")
    harness.run()
    assert _texts(harness.bot_messages(ACME_ROOM)) == [
        "Sorry, something went wrong while handling that. It has been recorded; please try again in a moment."
    ]
    with db.scope() as s:
        assert directory.person(s, email="written@example.com") is None
        event = s.scalars(select(InboxEvent)).one()
        assert event.status == "failed" and "no_such_table" in event.error
        # The sender is still known: the directory is read and written again for the answer.
        assert directory.person(s, email=ANNA_EMAIL).last_seen is not None


def test_refusal_undoes_what_the_handler_did_and_is_sent(harness, db):
    router = Router()

    @router.command("refuse")
    def refuse(ctx, args):
        directory.set_person_language(ctx.session, email="written@example.com", language="nl", now=ctx.now())
        ctx.reply("this must not be sent: the command was refused after queueing it")
        raise Refused("sla.no_ticket", number="INC-1")

    harness.runtime.router = router
    harness.say(ANNA_EMAIL, ACME_ROOM, "/refuse")
    harness.run()
    assert _texts(harness.bot_messages(ACME_ROOM)) == [i18n.t("sla.no_ticket", "en", number="INC-1")]
    with db.scope() as s:
        assert directory.person(s, email="written@example.com") is None
        assert [(e.status, e.error) for e in s.scalars(select(InboxEvent))] == [("done", None)]


def test_event_whose_message_was_deleted_is_dropped(harness, db):
    message = harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.state.delete_message(ANNA_EMAIL, message["id"])
    harness.run()
    assert harness.bot_messages(ACME_ROOM) == []
    with db.scope() as s:
        assert [e.status for e in s.scalars(select(InboxEvent))] == ["ignored"]


def test_webex_failing_on_fetch_retries_later(harness, db, clock):
    harness.state.faults.add("GET", "/v1/messages/", 503, times=1)
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    assert harness.bot_messages(ACME_ROOM) == []
    clock.advance(timedelta(seconds=1))
    harness.run()
    assert len(harness.bot_messages(ACME_ROOM)) == 1


def test_event_stored_before_a_crash_is_processed_after_restart(harness, db, clock):
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    # A worker claims the event and dies before handling it.
    assert harness.inbox.claim() is not None
    harness.run()
    assert harness.bot_messages(ACME_ROOM) == []
    # After the lease runs out, a worker of the restarted process takes it over.
    clock.advance(timedelta(seconds=61))
    harness.run()
    assert len(harness.bot_messages(ACME_ROOM)) == 1
    harness.run()
    assert len(harness.bot_messages(ACME_ROOM)) == 1


def _people_lookups(harness):
    return [
        r
        for r in harness.state.requests
        if r["method"] == "GET" and r["path"].startswith("/v1/people/") and not r["path"].endswith("/me")
    ]


def test_a_new_senders_name_is_asked_of_webex_once(harness, db):
    # The first message: the directory does not know Anna, so Webex is asked for her name.
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    assert len(_people_lookups(harness)) == 1
    with db.scope() as s:
        assert directory.person(s, email=ANNA_EMAIL).display_name
    # From then on the name comes from the directory, within the handling transaction.
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    assert len(_people_lookups(harness)) == 1
    assert len(harness.bot_messages(ACME_ROOM)) == 2
    with db.scope() as s:
        # (The bot's own replies come back as events too, and are ignored.)
        assert [e.status for e in s.scalars(select(InboxEvent)) if e.status not in ("ignored", "pending")] == [
            "done",
            "done",
        ]


# A batch holds one event of a space (the oldest unfinished; tests/bot/test_inbox_order.py): pings in three spaces.
THREE_SPACES = ((ANNA_EMAIL, ACME_ROOM), (BRAM_EMAIL, POLDER_ROOM), (ADA_EMAIL, STAFF_ROOM))


def _answers(harness) -> int:
    return sum(len(harness.bot_messages(room)) for _, room in THREE_SPACES)


def test_one_claim_leases_a_batch_each_event_with_its_lease(harness, db, clock):
    for email, room in THREE_SPACES:
        harness.say(email, room, "/ping")
    rows = harness.inbox.claim_batch(2)
    assert [r.id for r in rows] == sorted(r.id for r in rows) and len(rows) == 2
    with db.scope() as s:
        stored = {e.id: e for e in s.scalars(select(InboxEvent))}
    for row in rows:
        assert (stored[row.id].status, stored[row.id].claimed_by) == ("claimed", "test-inbox")
        assert stored[row.id].lease_until == clock.now() + inbox.LEASE and stored[row.id].attempts == 1
    [rest] = [e for e in stored.values() if e.id not in {r.id for r in rows}]
    assert rest.status == "pending"
    # A second worker gets only what the first did not lease.
    other = InboxWorker(harness.runtime, worker_id="other")
    assert [r.id for r in other.claim_batch(8)] == [rest.id]


def test_a_worker_dying_mid_batch_leaves_the_rest_to_be_handled_once(harness, db, clock):
    for email, room in THREE_SPACES:
        harness.say(email, room, "/ping")
    first, *unhandled = harness.inbox.claim_batch()
    assert len(unhandled) == 2
    harness.inbox.process(first)  # then the process dies with the other two claimed
    assert harness.inbox.drain() == 0  # their leases still hold
    clock.advance(timedelta(seconds=61))
    restarted = InboxWorker(harness.runtime, worker_id="restarted")
    assert restarted.drain() == 2
    # The dead worker's leftovers, if it ever came back, are refused: the events are closed.
    harness.inbox.process(unhandled[0])
    harness.sender.drain()
    assert _answers(harness) == 3
    with db.scope() as s:
        events = {e.id: e for e in s.scalars(select(InboxEvent))}
    assert [(events[r.id].status, events[r.id].attempts) for r in (first, *unhandled)] == [
        ("done", 1),
        ("done", 2),
        ("done", 2),
    ]
    assert {events[r.id].claimed_by for r in unhandled} == {"restarted"}


def test_an_event_whose_lease_ran_out_while_waiting_in_its_batch_is_not_processed(harness, db, clock):
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.say(BRAM_EMAIL, POLDER_ROOM, "/ping")
    original = harness.inbox.process

    def slow(row):
        original(row)
        clock.advance(timedelta(seconds=61))  # the first event took longer than a lease

    harness.inbox.process = slow
    assert harness.inbox.run_once() == 2
    harness.inbox.process = original
    with db.scope() as s:
        assert [e.status for e in s.scalars(select(InboxEvent).order_by(InboxEvent.id))] == ["done", "claimed"]
    # The next claim takes it over (its lease has run out) and handles it once.
    harness.run()
    assert _answers(harness) == 2
