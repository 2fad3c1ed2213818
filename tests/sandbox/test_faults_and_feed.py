"""Fault injection, request log, the /_sandbox/ helpers and the long-poll event feed."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from webexpythonsdk import ApiError, RateLimitError

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BOT_EMAIL, BOT_TOKEN


def test_429_with_retry_after_then_success(bot_api, state):
    state.faults.add("GET", "/v1/people/me", 429, headers={"Retry-After": "2"})
    with pytest.raises(RateLimitError) as exc:
        bot_api.people.me()
    assert exc.value.retry_after == 2
    assert bot_api.people.me().emails == [BOT_EMAIL]
    assert [(r["method"], r["path"], r["status"]) for r in state.requests] == [
        ("GET", "/v1/people/me", 429),
        ("GET", "/v1/people/me", 200),
    ]


def test_faults_are_fifo_per_match_and_counted(bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    state.faults.add("POST", "/v1/messages", 503, times=2)
    state.faults.add("POST", "/v1/messages", 400, body={"message": "bad markdown", "errors": [{"description": "x"}]})
    for expected in (503, 503, 400):
        with pytest.raises(ApiError) as exc:
            bot_api.messages.create(roomId=room_id, text="x")
        assert exc.value.status_code == expected
    assert exc.value.message == "bad markdown"
    # Other methods and paths were never affected, and nothing was stored by the faulted calls.
    assert state.messages_in(room_id) == []
    assert bot_api.messages.create(roomId=room_id, text="ok").text == "ok"


def test_faults_over_http(server, bot_api):
    reply = requests.post(
        f"{server.url}/_sandbox/faults",
        json={"method": "GET", "path": "/v1/people/me", "status": 429, "headers": {"Retry-After": "7"}},
        timeout=10,
    )
    assert reply.status_code == 200
    with pytest.raises(RateLimitError) as exc:
        bot_api.people.me()
    assert exc.value.retry_after == 7
    assert requests.post(f"{server.url}/_sandbox/faults", json={"method": "GET"}, timeout=10).status_code == 400


def test_helper_post_submit_people_rooms(server, state):
    rooms = requests.get(f"{server.url}/_sandbox/rooms", timeout=10).json()["items"]
    acme = next(r for r in rooms if r["title"] == ACME_ROOM)
    assert set(acme["members"]) == {ANNA_EMAIL, BOT_EMAIL}
    people = requests.get(f"{server.url}/_sandbox/people", timeout=10).json()["items"]
    assert BOT_EMAIL in {p["emails"][0] for p in people}
    posted = requests.post(
        f"{server.url}/_sandbox/post", json={"as": ANNA_EMAIL, "roomId": acme["id"], "markdown": "**hi**"}, timeout=10
    ).json()
    assert posted["text"] == "hi" and state.messages_in(acme["id"])[-1]["id"] == posted["id"]
    direct = requests.post(
        f"{server.url}/_sandbox/post", json={"as": ANNA_EMAIL, "toPersonEmail": BOT_EMAIL, "text": "dm"}, timeout=10
    ).json()
    assert direct["roomType"] == "direct"
    card = state.post_message(
        BOT_EMAIL,
        room_id=acme["id"],
        text="fb",
        attachments=[{"contentType": "application/vnd.microsoft.card.adaptive", "content": {}}],
    )
    action = requests.post(
        f"{server.url}/_sandbox/submit",
        json={"as": ANNA_EMAIL, "messageId": card["id"], "inputs": {"a": 1}},
        timeout=10,
    ).json()
    assert action["inputs"] == {"a": 1} and state.actions[action["id"]]["messageId"] == card["id"]
    bad = requests.post(f"{server.url}/_sandbox/post", json={"as": ANNA_EMAIL, "roomId": acme["id"]}, timeout=10)
    assert bad.status_code == 400 and bad.json()["errors"]


def test_helper_creates_a_space_with_members_without_a_token(server, state):
    made = requests.post(
        f"{server.url}/_sandbox/rooms",
        json={"as": ANNA_EMAIL, "title": "Customer 1", "members": [BOT_EMAIL]},
        timeout=10,
    ).json()
    assert made["title"] == "Customer 1" and set(state.members(made["id"])) == {
        state.person_by_email(ANNA_EMAIL)["id"],
        state.person_by_email(BOT_EMAIL)["id"],
    }
    rooms_before = len(state.rooms)
    assert (
        requests.post(f"{server.url}/_sandbox/rooms", json={"as": ANNA_EMAIL, "members": []}, timeout=10).status_code
        == 400
    )
    assert (
        requests.post(f"{server.url}/_sandbox/rooms", json={"as": "nobody@x", "title": "t"}, timeout=10).status_code
        == 404
    )
    assert len(state.rooms) == rooms_before


def test_long_poll_returns_promptly_when_a_message_arrives(server, state, api_for):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    cursor = requests.get(f"{server.url}/_sandbox/events", params={"since": 10**12, "timeout": 0}, timeout=10).json()[
        "seq"
    ]
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        poll = pool.submit(
            requests.get,
            f"{server.url}/_sandbox/events",
            params={"since": cursor, "roomId": room_id, "timeout": 20},
            timeout=30,
        )
        # Post only once the poll is really waiting, so the wake-up path is what is tested.
        assert state.wait_pollers(1, timeout=10)
        sent = api_for(ANNA_EMAIL).messages.create(roomId=room_id, text="wake up")
        body = poll.result(timeout=10).json()
        elapsed = time.monotonic() - started
    assert elapsed < 5
    assert [(e["kind"], e["message"]["id"]) for e in body["events"]] == [("created", sent.id)]
    assert body["seq"] == body["events"][-1]["seq"] > cursor


def test_long_poll_times_out_empty_and_ignores_other_rooms(server, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    state.post_message(BOT_EMAIL, to_person_email=ANNA_EMAIL, text="other room")
    started = time.monotonic()
    body = requests.get(
        f"{server.url}/_sandbox/events", params={"since": 0, "roomId": room_id, "timeout": 0.3}, timeout=10
    ).json()
    assert body["events"] == [] and body["seq"] == 1
    assert time.monotonic() - started >= 0.3


def test_message_events_include_updates_and_deletes(server, bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    sent = bot_api.messages.create(roomId=room_id, text="v1")
    bot_api.messages.update(sent.id, roomId=room_id, text="v2")
    bot_api.messages.delete(sent.id)
    body = requests.get(f"{server.url}/_sandbox/events", params={"since": 0, "timeout": 0}, timeout=10).json()
    assert [(e["kind"], e["message"]["text"]) for e in body["events"]] == [
        ("created", "v1"),
        ("updated", "v2"),
        ("deleted", "v2"),
    ]


def test_request_log_records_status_and_is_bounded(server, state):
    requests.get(f"{server.url}/v1/people/me", headers={"Authorization": f"Bearer {BOT_TOKEN}"}, timeout=10)
    requests.get(f"{server.url}/v1/people/me", timeout=10)
    assert [(r["path"], r["status"]) for r in state.requests] == [("/v1/people/me", 200), ("/v1/people/me", 401)]
    assert state.requests.maxlen == 10_000
