"""The outbox against the sandbox: Retry-After, backoff, per-space order, crash safety."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import outbox, pacing, sender
from bot.sender import OutboxSender
from sandbox.demo import ACME_ROOM, BOT_EMAIL, POLDER_ROOM, STAFF_ROOM
from storage.models.runtime import OutboxMessage

pytestmark = pytest.mark.bare


def _queue(harness, room_title, *texts, **kw):
    room_id = harness.room(room_title)["id"]
    with harness.runtime.db.scope() as s:
        return [outbox.enqueue(s, now=harness.clock.now(), room_id=room_id, markdown=t, **kw).id for t in texts]


def _sent(harness, room_title):
    return [m["markdown"] for m in harness.bot_messages(room_title)]


def _row(harness, row_id):
    with harness.runtime.db.scope() as s:
        return s.get(OutboxMessage, row_id)


def test_429_waits_for_retry_after_then_delivers_once(harness, clock):
    t0 = clock.now()
    harness.state.faults.add("POST", "/v1/messages", 429, headers={"Retry-After": "2"})
    [row_id] = _queue(harness, ACME_ROOM, "hello")
    assert harness.sender.drain() == 1
    assert _sent(harness, ACME_ROOM) == []
    row = _row(harness, row_id)
    assert (row.status, row.next_attempt_at) == ("pending", t0 + timedelta(seconds=2))
    clock.advance(timedelta(seconds=1.999))
    assert harness.sender.drain() == 0
    clock.advance(timedelta(milliseconds=1))
    assert harness.sender.drain() == 1
    assert _sent(harness, ACME_ROOM) == ["hello"]
    row = _row(harness, row_id)
    assert row.status == "sent" and row.sent_at >= t0 + timedelta(seconds=2)
    assert row.webex_message_id == harness.bot_messages(ACME_ROOM)[0]["id"]
    assert harness.sender.drain() == 0
    assert _sent(harness, ACME_ROOM) == ["hello"]


def test_a_429_holds_every_space_until_retry_after(harness, clock):
    # Webex limits the bot's token: other spaces do not knock on the limit one by one.
    t0 = clock.now()
    harness.state.faults.add("POST", "/v1/messages", 429, headers={"Retry-After": "3"})
    _queue(harness, ACME_ROOM, "to acme")
    _queue(harness, POLDER_ROOM, "to polder")
    assert harness.sender.drain() == 1  # the 429
    clock.advance(timedelta(seconds=2))
    assert harness.sender.drain() == 0
    assert _sent(harness, POLDER_ROOM) == []
    assert [r["status"] for r in harness.state.requests if r["method"] == "POST" and r["path"] == "/v1/messages"] == [
        429
    ]
    clock.set(t0 + timedelta(seconds=3))
    assert harness.sender.drain() == 2
    assert (_sent(harness, ACME_ROOM), _sent(harness, POLDER_ROOM)) == (["to acme"], ["to polder"])


def test_a_423_retries_that_message_after_its_retry_after_and_holds_no_other_space(harness, clock):
    t0 = clock.now()
    harness.state.faults.add("POST", "/v1/messages", 423, headers={"Retry-After": "4"})
    [row_id] = _queue(harness, ACME_ROOM, "to acme")
    _queue(harness, POLDER_ROOM, "to polder")
    harness.sender.drain()
    # Locked is about one resource: the other space goes on at once, this one waits 4 s.
    assert (_sent(harness, ACME_ROOM), _sent(harness, POLDER_ROOM)) == ([], ["to polder"])
    assert _row(harness, row_id).next_attempt_at == t0 + timedelta(seconds=4)
    clock.set(t0 + timedelta(seconds=4))
    assert harness.sender.drain() == 1
    assert _sent(harness, ACME_ROOM) == ["to acme"]
    assert _row(harness, row_id).status == "sent"


def test_a_423_without_retry_after_waits_the_default(harness, clock):
    harness.state.faults.add("POST", "/v1/messages", 423)
    [row_id] = _queue(harness, ACME_ROOM, "hello")
    harness.sender.drain()
    assert _row(harness, row_id).next_attempt_at == clock.now() + timedelta(seconds=15)


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_error_on_a_post_counts_as_may_have_arrived(harness, clock, status, caplog):
    harness.state.faults.add("POST", "/v1/messages", status)
    [row_id] = _queue(harness, ACME_ROOM, "hello")
    harness.sender.drain()
    row = _row(harness, row_id)
    # The attempt time is kept: the next claim first looks for the message where it can.
    assert row.status == "pending" and row.attempt_started_at is not None
    clock.advance(timedelta(seconds=1))
    with caplog.at_level("WARNING", logger="bot.outbox"):
        harness.sender.drain()
    assert any("may have reached Webex already" in r.getMessage() for r in caplog.records)
    assert _sent(harness, ACME_ROOM) == ["hello"]


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_error_after_the_message_was_made_in_a_direct_space_is_not_sent_twice(harness, clock, status):
    harness.state.faults.add("POST", "/v1/messages", status, after=True)
    with harness.runtime.db.scope() as s:
        row_id = outbox.enqueue(s, now=clock.now(), to_person_email="erik@iot-desk.example", markdown="P1 page").id
    harness.sender.drain()
    assert _row(harness, row_id).status == "pending"
    clock.advance(timedelta(seconds=1))
    harness.sender.drain()
    # The message Webex made before the gateway gave up is found and adopted, not sent again.
    [sent] = harness.direct_messages("erik@iot-desk.example")
    assert sent["markdown"] == "P1 page" and _row(harness, row_id).webex_message_id == sent["id"]


def test_a_gateway_error_after_the_message_was_made_in_a_group_space_sends_it_again(harness, clock):
    # A bot cannot list a group space's messages: at least once, never lost (a copy is the price).
    harness.state.faults.add("POST", "/v1/messages", 502, after=True)
    [row_id] = _queue(harness, ACME_ROOM, "hello")
    harness.sender.drain()
    clock.advance(timedelta(seconds=1))
    harness.sender.drain()
    assert _sent(harness, ACME_ROOM) == ["hello", "hello"] and _row(harness, row_id).status == "sent"


def test_a_500_on_a_post_did_not_arrive(harness, clock):
    harness.state.faults.add("POST", "/v1/messages", 500)
    [row_id] = _queue(harness, ACME_ROOM, "hello")
    harness.sender.drain()
    assert _row(harness, row_id).attempt_started_at is None


def test_the_sandbox_rate_limit_answers_429_with_retry_after(harness):
    harness.state.rate_limit.configure(per_second=2, burst=2)
    for i in range(4):
        _queue(harness, ACME_ROOM if i % 2 else POLDER_ROOM, f"m{i}")
    harness.sender.drain()
    statuses = [r["status"] for r in harness.state.requests if r["method"] == "POST" and r["path"] == "/v1/messages"]
    assert statuses[:3] == [200, 200, 429]
    assert harness.state.rate_limit.refused == 1


def test_500_twice_then_success_delivers_once_with_backoff(harness, clock):
    t0 = clock.now()
    harness.state.faults.add("POST", "/v1/messages", 500, times=2)
    [row_id] = _queue(harness, ACME_ROOM, "hello")
    harness.sender.drain()
    assert _row(harness, row_id).next_attempt_at == t0 + timedelta(seconds=1)
    clock.advance(timedelta(seconds=1))
    harness.sender.drain()
    assert _row(harness, row_id).next_attempt_at == t0 + timedelta(seconds=3)
    clock.advance(timedelta(seconds=2))
    harness.sender.drain()
    assert _sent(harness, ACME_ROOM) == ["hello"]
    assert _row(harness, row_id).attempts == 3


def test_backoff_is_capped():
    assert [pacing.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert pacing.backoff(30) == pacing.MAX_BACKOFF == timedelta(minutes=5)


def test_other_4xx_fails_with_the_reason_and_does_not_block_the_space(harness, clock):
    harness.state.faults.add("POST", "/v1/messages", 400, body={"message": "bad markdown"})
    first, second = _queue(harness, ACME_ROOM, "rejected", "fine")
    harness.sender.drain()
    assert _sent(harness, ACME_ROOM) == ["fine"]
    row = _row(harness, first)
    assert row.status == "failed"
    assert "400" in row.last_error


def test_order_per_space_is_kept_while_other_spaces_go_on(harness, clock):
    # A message failing (503) holds back the later ones of its space, and no others.
    harness.state.faults.add("POST", "/v1/messages", 503)
    _queue(harness, ACME_ROOM, "a1", "a2", "a3")
    _queue(harness, POLDER_ROOM, "p1")
    harness.sender.drain()
    assert _sent(harness, ACME_ROOM) == []
    assert _sent(harness, POLDER_ROOM) == ["p1"]
    clock.advance(timedelta(seconds=1))
    harness.sender.drain()
    assert _sent(harness, ACME_ROOM) == ["a1", "a2", "a3"]


def test_thread_reply_waits_for_its_root_and_uses_its_id(harness, clock):
    room_id = harness.room(ACME_ROOM)["id"]
    harness.state.faults.add("POST", "/v1/messages", 503)
    with harness.runtime.db.scope() as s:
        root = outbox.enqueue(s, now=clock.now(), room_id=room_id, markdown="INC-1001 registered")
        outbox.enqueue(s, now=clock.now(), room_id=room_id, markdown="countdown", parent_outbox_id=root.id)
    harness.sender.drain()
    assert _sent(harness, ACME_ROOM) == []
    clock.advance(timedelta(seconds=1))
    harness.sender.drain()
    root_msg, reply = harness.bot_messages(ACME_ROOM)
    assert (root_msg["markdown"], reply["markdown"], reply["parentId"]) == (
        "INC-1001 registered",
        "countdown",
        root_msg["id"],
    )


def test_edit_and_delete_go_through_the_outbox(harness, clock):
    room_id = harness.room(ACME_ROOM)["id"]
    with harness.runtime.db.scope() as s:
        original = outbox.enqueue(s, now=clock.now(), room_id=room_id, markdown="v1")
        outbox.enqueue_update(s, now=clock.now(), target=original, markdown="v2")
    harness.sender.drain()
    [message] = harness.bot_messages(ACME_ROOM)
    assert message["markdown"] == "v2"
    with harness.runtime.db.scope() as s:
        outbox.enqueue_delete(s, now=clock.now(), target=s.get(OutboxMessage, original.id))
    harness.sender.drain()
    assert harness.bot_messages(ACME_ROOM) == []


def test_card_messages_cannot_be_queued_for_edit(harness, clock):
    room_id = harness.room(ACME_ROOM)["id"]
    card = {"type": "AdaptiveCard", "version": "1.3", "body": []}
    with harness.runtime.db.scope() as s:
        row = outbox.enqueue(
            s,
            now=clock.now(),
            room_id=room_id,
            markdown="card",
            attachments=[{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        )
        with pytest.raises(ValueError, match="cannot be edited"):
            outbox.enqueue_update(s, now=clock.now(), target=row, markdown="x")


def test_direct_message_by_email(harness, clock):
    from sandbox.demo import ERIK_EMAIL

    with harness.runtime.db.scope() as s:
        outbox.enqueue(s, now=clock.now(), to_person_email=ERIK_EMAIL, markdown="page")
    harness.sender.drain()
    room = harness.state.direct_room(ERIK_EMAIL, harness.runtime.webex.identity().emails[0])
    assert [m["markdown"] for m in harness.state.messages_in(room["id"])] == ["page"]


def test_claimed_then_crashed_before_sending_is_sent_once(harness, clock):
    [row_id] = _queue(harness, ACME_ROOM, "hello")
    assert harness.sender.claim().id == row_id  # the worker dies right after claiming
    assert harness.sender.drain() == 0
    clock.advance(timedelta(seconds=61))
    other = OutboxSender(harness.runtime.db, harness.runtime.webex, clock, worker_id="restarted")
    assert other.drain() == 1
    assert other.drain() == 0
    assert _sent(harness, ACME_ROOM) == ["hello"]


def _direct_room(harness, email):
    """The bot's 1:1 space with `email`, opened by a first message sent through the outbox."""
    with harness.runtime.db.scope() as s:
        outbox.enqueue(s, now=harness.clock.now(), to_person_email=email, markdown="hello")
    assert harness.sender.drain() == 1
    return harness.state.direct_room(email, BOT_EMAIL)["id"]


def _direct_sent(harness, room_id):
    return [m["markdown"] for m in harness.state.messages_in(room_id)]


def _restarted(harness):
    harness.clock.advance(timedelta(seconds=61))
    return OutboxSender(harness.runtime.db, harness.runtime.webex, harness.clock, worker_id="restarted")


@pytest.mark.parametrize("by_email", [False, True], ids=["room-id", "person-email"])
def test_sent_but_not_recorded_in_a_direct_space_is_not_sent_again(harness, by_email):
    from sandbox.demo import ERIK_EMAIL

    room_id = _direct_room(harness, ERIK_EMAIL)
    with harness.runtime.db.scope() as s:
        target = {"to_person_email": ERIK_EMAIL} if by_email else {"room_id": room_id}
        row_id = outbox.enqueue(s, now=harness.clock.now(), markdown="page", **target).id
    row = harness.sender.claim()
    harness.sender._send(row)  # Webex got it; the process dies before recording "sent"
    assert _restarted(harness).drain() == 1
    assert _direct_sent(harness, room_id) == ["hello", "page"]
    recorded = _row(harness, row_id)
    assert (recorded.status, recorded.webex_message_id) == ("sent", harness.state.messages_in(room_id)[-1]["id"])


def test_sent_but_not_recorded_in_a_group_space_is_sent_again_rather_than_lost(harness, caplog):
    # Webex shows a bot only the messages that mention it in a group space, so the successor
    # cannot find the first copy: at least once.
    [row_id] = _queue(harness, ACME_ROOM, "hello")
    row = harness.sender.claim()
    harness.sender._send(row)
    assert _restarted(harness).drain() == 1
    assert _sent(harness, ACME_ROOM) == ["hello", "hello"]
    recorded = _row(harness, row_id)
    assert (recorded.status, recorded.webex_message_id) == ("sent", harness.bot_messages(ACME_ROOM)[-1]["id"])
    assert "cannot search a group space" in caplog.text
    # It asked for the space's kind, never for a listing Webex would refuse.
    assert not [r for r in harness.state.requests if r["method"] == "GET" and r["path"] == "/v1/messages"]


def test_a_first_message_by_email_that_reached_webex_is_found_in_the_new_one_to_one_and_not_sent_again(harness):
    # The bot never had the 1:1 space's id: Webex finds the space by the person (GET /messages/direct).
    from sandbox.demo import ERIK_EMAIL

    with harness.runtime.db.scope() as s:
        outbox.enqueue(s, now=harness.clock.now(), to_person_email=ERIK_EMAIL, markdown="page")
    harness.sender._send(harness.sender.claim())
    assert _restarted(harness).drain() == 1
    room_id = harness.state.direct_room(ERIK_EMAIL, BOT_EMAIL)["id"]
    assert _direct_sent(harness, room_id) == ["page"]


def test_an_identical_message_another_row_sent_is_not_taken_for_this_one(harness, clock):
    # Two "pong"s in one minute: the first is sent and recorded; the second's sender dies after
    # claiming, before sending. Its successor must send it, not adopt the first.
    from sandbox.demo import ERIK_EMAIL

    room_id = _direct_room(harness, ERIK_EMAIL)
    with harness.runtime.db.scope() as s:
        outbox.enqueue(s, now=clock.now(), room_id=room_id, markdown="pong")
    assert harness.sender.drain() == 1
    with harness.runtime.db.scope() as s:
        second = outbox.enqueue(s, now=clock.now(), room_id=room_id, markdown="pong").id
    assert harness.sender.claim().id == second
    assert _restarted(harness).drain() == 1
    assert _direct_sent(harness, room_id) == ["hello", "pong", "pong"]
    first_id, second_id = (m["id"] for m in harness.state.messages_in(room_id)[1:])
    assert _row(harness, second).webex_message_id == second_id != first_id


def test_a_lost_lease_does_not_record_twice(harness, clock, db):
    [row_id] = _queue(harness, ACME_ROOM, "hello")
    slow = harness.sender.claim()
    clock.advance(timedelta(seconds=61))
    fast = OutboxSender(db, harness.runtime.webex, clock, worker_id="fast")
    assert fast.drain() == 1
    harness.sender.deliver(slow)  # the slow worker wakes up: its lease is gone
    assert _sent(harness, ACME_ROOM) == ["hello"]
    with db.scope() as s:
        assert s.scalars(select(OutboxMessage.status)).all() == ["sent"]


def test_an_urgent_message_goes_before_older_heads_of_other_spaces_but_never_ahead_in_its_own(harness):
    _queue(harness, ACME_ROOM, "notice a1", "notice a2")
    _queue(harness, POLDER_ROOM, "notice p1")
    _queue(harness, POLDER_ROOM, "page p", urgent=True)  # behind p1 in its own space
    _queue(harness, STAFF_ROOM, "page s", urgent=True)
    assert harness.sender.drain() == 5
    sent = [m["markdown"] for m in harness.state.messages.values() if m["personEmail"] == BOT_EMAIL]
    assert sent == ["page s", "notice a1", "notice a2", "notice p1", "page p"]


def test_one_senders_turn_goes_on_to_the_other_spaces_heads_most_urgent_and_oldest_first(harness):
    # When a space has nothing more due, the sender claims the next head of all spaces in the
    # transaction that records the send, instead of ending its turn.
    _queue(harness, ACME_ROOM, "a1")
    _queue(harness, POLDER_ROOM, "p1")
    _queue(harness, STAFF_ROOM, "s1", urgent=True)
    assert harness.sender.run_once() == 3
    sent = [m["markdown"] for m in harness.state.messages.values() if m["personEmail"] == BOT_EMAIL]
    assert sent == ["s1", "a1", "p1"]
    assert harness.sender.run_once() == 0


def test_a_sender_thread_looks_again_at_once_only_after_a_turn_cut_short(harness):
    # A turn ends after STREAK messages, with more due: the thread goes on (and wakes a peer).
    # A turn that ended because nothing more was due leaves the thread waiting for its bell.
    texts = [f"m{i}" for i in range(sender.STREAK + 3)]
    _queue(harness, ACME_ROOM, *texts)
    assert harness.sender.work() == 1
    assert _sent(harness, ACME_ROOM) == texts[: sender.STREAK]
    assert harness.sender.work() == 0
    assert _sent(harness, ACME_ROOM) == texts
    assert harness.sender.work() == 0


def test_a_failed_send_ends_the_turn_but_the_thread_goes_on_to_the_other_spaces(harness):
    harness.state.faults.add("POST", "/v1/messages", 500)
    _queue(harness, ACME_ROOM, "a1")  # fails, waits for its retry
    _queue(harness, POLDER_ROOM, "p1")
    assert harness.sender.work() == 1
    assert (_sent(harness, ACME_ROOM), _sent(harness, POLDER_ROOM)) == ([], [])
    assert harness.sender.work() == 0
    assert _sent(harness, POLDER_ROOM) == ["p1"]


def test_an_edit_keeps_the_priority_of_the_message_it_changes(harness):
    [row_id] = _queue(harness, ACME_ROOM, "page", urgent=True)
    with harness.runtime.db.scope() as s:
        edit = outbox.enqueue_update(
            s, now=harness.clock.now(), target=s.get(OutboxMessage, row_id), markdown="page, answered"
        )
        assert edit.priority == outbox.URGENT
        assert outbox.enqueue(s, now=harness.clock.now(), room_id="x", markdown="normal").priority == outbox.NORMAL


def test_a_message_longer_than_webex_takes_goes_as_several_in_order_in_its_thread(harness):
    room_id = harness.room(ACME_ROOM)["id"]
    lines = [f"- line {n:04d} " + "é" * 60 for n in range(200)]  # about 26,000 bytes
    with harness.runtime.db.scope() as s:
        root = outbox.enqueue(s, now=harness.clock.now(), room_id=room_id, markdown="root")
        first = outbox.enqueue(
            s, now=harness.clock.now(), room_id=room_id, markdown="\n".join(lines), parent_outbox_id=root.id
        )
        after = outbox.enqueue(s, now=harness.clock.now(), room_id=room_id, markdown="after")
    harness.sender.drain()
    sent = harness.bot_messages(ACME_ROOM)
    parts = sent[1:-1]
    assert len(parts) == 4 and sent[-1]["markdown"] == "after"
    assert all(len(m["markdown"].encode()) <= outbox.MAX_MESSAGE_BYTES for m in parts)
    assert all(m["parentId"] == sent[0]["id"] for m in parts)
    assert "".join(m["markdown"] for m in parts).splitlines() == lines  # cut between lines, nothing lost
    assert _row(harness, first.id).webex_message_id == parts[0]["id"] and after.id > first.id
    with harness.runtime.db.scope() as s:
        assert set(s.scalars(select(OutboxMessage.status))) == {"sent"}


def test_a_single_line_too_long_is_cut_at_a_character_boundary():
    body = "€" * 5000  # 15,000 bytes, no line end
    pieces = outbox.split_message(body)
    assert "".join(pieces) == body
    assert [len(p.encode()) for p in pieces] == [7437, 7437, 126]
    assert outbox.split_message("short") == ["short"]


def _rooms(harness, n):
    """`n` more group spaces with the bot in them (their ids)."""
    return [
        harness.state.add_room(f"Customer {i:03d}", [BOT_EMAIL], creator_email="anna@acme-logistics.example")["id"]
        for i in range(n)
    ]


def _queue_in(harness, room_id, text, **kw):
    with harness.runtime.db.scope() as s:
        return outbox.enqueue(s, now=harness.clock.now(), room_id=room_id, markdown=text, **kw).id


def _posted_in_order(harness):
    me = harness.runtime.webex.identity().person_id
    return [
        e["message"]["markdown"]
        for e in harness.state.events
        if e["kind"] == "created" and e["message"]["personId"] == me
    ]


def test_bulk_messages_are_paced_and_conversation_goes_first(harness, clock):
    rooms = _rooms(harness, 12)
    for i, room_id in enumerate(rooms):
        _queue_in(harness, room_id, f"notice {i}", bulk=True)
    _queue(harness, STAFF_ROOM, "staff alert")
    harness.sender.drain()
    # One second's worth of notices (5) at once, and the staff alert queued after them first.
    assert _posted_in_order(harness) == ["staff alert", *(f"notice {i}" for i in range(5))]
    clock.advance(timedelta(milliseconds=600))
    harness.sender.drain()
    assert len(_posted_in_order(harness)) == 1 + 5 + 3  # 0.6 s more: three more notices
    _queue(harness, ACME_ROOM, "an answer")
    with harness.runtime.db.scope() as s:
        outbox.enqueue(s, now=clock.now(), to_person_email="erik@iot-desk.example", markdown="P1 page", urgent=True)
    harness.sender.drain()
    assert _posted_in_order(harness)[-2:] == ["P1 page", "an answer"]  # not behind the rest of the broadcast
    clock.advance(timedelta(seconds=1))
    harness.sender.drain()
    assert _posted_in_order(harness)[-4:] == ["notice 8", "notice 9", "notice 10", "notice 11"]
    assert all(r["status"] == 200 for r in harness.state.requests if r["path"] == "/v1/messages")


def test_a_429_on_bulk_holds_a_page_no_longer_than_its_retry_after(harness, clock):
    t0 = clock.now()
    rooms = _rooms(harness, 3)
    harness.state.faults.add("POST", "/v1/messages", 429, headers={"Retry-After": "2"})
    for i, room_id in enumerate(rooms):
        _queue_in(harness, room_id, f"notice {i}", bulk=True)
    harness.sender.drain()  # the first notice meets the 429
    with harness.runtime.db.scope() as s:
        outbox.enqueue(s, now=clock.now(), to_person_email="erik@iot-desk.example", markdown="P1 page", urgent=True)
    clock.set(t0 + timedelta(seconds=2))
    harness.sender.drain()
    assert _posted_in_order(harness)[0] == "P1 page"
    assert _posted_in_order(harness)[1:] == ["notice 0", "notice 1", "notice 2"]


def test_the_bulk_pace_is_positive():
    with pytest.raises(ValueError):
        pacing.BulkPacer(0)


def test_a_file_goes_alone_and_is_never_edited(harness):
    csv = [{"name": "r.csv", "content_type": "text/csv", "text": "a,b\n"}]
    with harness.runtime.db.scope() as s:
        with pytest.raises(ValueError):
            outbox.enqueue(s, now=harness.clock.now(), room_id="R", markdown="x", files=csv * 2)
        with pytest.raises(ValueError):
            outbox.enqueue(
                s,
                now=harness.clock.now(),
                room_id="R",
                markdown="x",
                files=csv,
                attachments=[{"contentType": "application/vnd.microsoft.card.adaptive", "content": {}}],
            )
        row = outbox.enqueue(s, now=harness.clock.now(), room_id="R", markdown="x", files=csv)
        with pytest.raises(ValueError):
            outbox.enqueue_update(s, now=harness.clock.now(), target=row, markdown="y")
