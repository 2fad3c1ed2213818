"""Failures Webex really gives: a revoked token, a bot removed from a space, an announcement-only
space, a 1:1 with an address that has no Webex account, 423 Locked, and a 502/504 on a POST
that took effect all the same."""

from __future__ import annotations

import json

import pytest
import requests
from webexpythonsdk import ApiError

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BOT_EMAIL, BOT_TOKEN, SANNE_EMAIL, STAFF_ROOM
from sandbox.state import INVALID_TOKEN, NO_ONE_ON_ONE, ApiProblem


def _error(call) -> ApiError:
    with pytest.raises(ApiError) as exc:
        call()
    return exc.value


def test_a_revoked_token_answers_401_everywhere_until_restored(api_for, bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    state.revoke_token(BOT_TOKEN)
    for call in (
        bot_api.people.me,
        lambda: bot_api.rooms.get(room_id),
        lambda: list(bot_api.webhooks.list()),
        lambda: bot_api.messages.create(roomId=room_id, text="lost?"),
    ):
        refused = _error(call)
        assert refused.status_code == 401 and refused.message == INVALID_TOKEN
    assert state.messages_in(room_id) == []
    # Other tokens go on working.
    assert api_for(ANNA_EMAIL).people.me().emails == [ANNA_EMAIL]
    state.restore_token(BOT_TOKEN)
    assert bot_api.messages.create(roomId=room_id, text="back").text == "back"
    with pytest.raises(KeyError):
        state.revoke_token("no-such-token")


def test_a_bot_removed_from_a_space_gets_404_on_that_room(bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    earlier = bot_api.messages.create(roomId=room_id, text="before")
    state.remove_member(room_id, BOT_EMAIL, actor_email=ANNA_EMAIL)
    for call in (
        lambda: bot_api.rooms.get(room_id),
        lambda: bot_api.messages.create(roomId=room_id, text="after"),
        lambda: list(bot_api.messages.list(roomId=room_id, mentionedPeople="me")),
        lambda: bot_api.messages.get(earlier.id),
        lambda: list(bot_api.memberships.list(roomId=room_id)),
    ):
        assert _error(call).status_code == 404
    assert [m["text"] for m in state.messages_in(room_id)] == ["before"]
    # Its other spaces are not affected.
    assert bot_api.rooms.get(state.room_by_title(STAFF_ROOM)["id"]).id


def test_only_moderators_post_in_an_announcement_only_space(api_for, bot_api, state):
    room_id = state.room_by_title(STAFF_ROOM)["id"]
    state.set_moderator(room_id, SANNE_EMAIL)
    state.set_announcement_only(room_id)
    assert bot_api.rooms.get(room_id).isAnnouncementOnly is True
    assert _error(lambda: bot_api.messages.create(roomId=room_id, text="alert")).status_code == 403
    assert state.messages_in(room_id) == []
    assert api_for(SANNE_EMAIL).messages.create(roomId=room_id, text="announcement").text == "announcement"
    state.set_moderator(room_id, BOT_EMAIL)
    assert bot_api.messages.create(roomId=room_id, text="alert").text == "alert"
    state.set_announcement_only(room_id, False)
    assert "isAnnouncementOnly" not in bot_api.rooms.get(room_id)._json_data
    # A 1:1 space has no moderators to announce.
    with pytest.raises(ApiProblem) as exc:
        state.set_announcement_only(state.direct_room(ANNA_EMAIL, BOT_EMAIL)["id"])
    assert exc.value.status == 404


def test_a_1_1_with_an_address_without_a_webex_account_is_refused(bot_api, state):
    rooms_before = len(state.rooms)
    refused = _error(lambda: bot_api.messages.create(toPersonEmail="nobody@nowhere.example", text="page"))
    assert refused.status_code == 404 and refused.message == NO_ONE_ON_ONE
    refused = _error(lambda: bot_api.messages.create(toPersonId="Y2lzY29zcGFyazovL3VzL1BFT1BMRS9ub2JvZHk", text="page"))
    assert refused.status_code == 404
    assert len(state.rooms) == rooms_before and state.messages == {}


def test_423_locked_with_retry_after(bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    state.faults.locked("POST", "/v1/messages", retry_after=7)
    locked = _error(lambda: bot_api.messages.create(roomId=room_id, text="x"))
    assert locked.status_code == 423 and locked.response.headers["Retry-After"] == "7"
    assert state.messages_in(room_id) == []
    assert bot_api.messages.create(roomId=room_id, text="x").text == "x"


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_error_after_the_message_was_created(bot_api, state, receiver, status):
    bot_api.webhooks.create(name="msgs", targetUrl=receiver.url, resource="messages", event="created")
    room_id = state.room_by_title(ACME_ROOM)["id"]
    state.faults.add("POST", "/v1/messages", status, after=True)
    refused = _error(lambda: bot_api.messages.create(roomId=room_id, text="arrived anyway"))
    assert (
        refused.status_code == status
        and refused.response.json()["trackingId"] == refused.response.headers["TrackingID"]
    )
    [message] = state.messages_in(room_id)
    assert message["text"] == "arrived anyway"
    # It exists for everyone, webhooks included: the sender cannot tell from the answer.
    [delivery] = receiver.wait(1)
    assert json.loads(delivery["body"])["data"]["id"] == message["id"]
    assert bot_api.messages.create(roomId=room_id, text="next").text == "next"


def test_an_after_fault_leaves_a_refused_request_refused(bot_api, state):
    state.faults.add("POST", "/v1/messages", 502, after=True)
    refused = _error(lambda: bot_api.messages.create(roomId=state.room_by_title(ACME_ROOM)["id"]))
    assert refused.status_code == 400


def test_after_faults_over_http(server, state):
    reply = requests.post(
        f"{server.url}/_sandbox/faults",
        json={"method": "POST", "path": "/v1/messages", "status": 504, "after": True},
        timeout=10,
    )
    assert reply.status_code == 200
    answer = requests.post(
        f"{server.url}/v1/messages",
        json={"roomId": state.room_by_title(ACME_ROOM)["id"], "text": "x"},
        headers={"Authorization": f"Bearer {BOT_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 504 and len(state.messages) == 1
