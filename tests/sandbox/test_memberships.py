"""Memberships as Webex keeps them: ids derived from person and room, leaving and removal, and
the memberships/deleted webhook (the removed bot hears its own removal)."""

from __future__ import annotations

import base64
import json

import pytest
from webexpythonsdk import ApiError

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BOT_EMAIL, BRAM_EMAIL, ERIK_EMAIL, SANNE_EMAIL, STAFF_ROOM
from sandbox.ids import uuid_of
from sandbox.state import ApiProblem


def _status(call) -> int:
    with pytest.raises(ApiError) as exc:
        call()
    return exc.value.status_code


def _bodies(receiver, n: int) -> list[dict]:
    return [json.loads(r["body"]) for r in receiver.wait(n)]


def test_a_membership_id_is_derived_from_person_and_room(state):
    room = state.room_by_title(ACME_ROOM)
    anna = state.person_by_email(ANNA_EMAIL)
    membership = state.membership_of(room["id"], anna["id"])
    decoded = base64.b64decode(membership["id"] + "=" * (-len(membership["id"]) % 4)).decode()
    assert decoded == f"ciscospark://us/MEMBERSHIP/{uuid_of(anna['id'])}:{uuid_of(room['id'])}"
    assert "=" not in membership["id"]


def test_the_same_person_joining_again_gets_the_same_membership_id(state):
    room = state.room_by_title(ACME_ROOM)
    first = state.membership_of(room["id"], state.person_by_email(BOT_EMAIL)["id"])
    removed = state.remove_member(room["id"], BOT_EMAIL, actor_email=ANNA_EMAIL)
    assert removed["id"] == first["id"]
    assert not state.is_member(room["id"], removed["personId"])
    again = state.add_member(room["id"], BOT_EMAIL, actor_email=ANNA_EMAIL)
    assert again["id"] == first["id"]
    assert state.is_member(room["id"], again["personId"])


def test_memberships_get_list_and_filters(api_for, bot_api, state):
    room_id = state.room_by_title(STAFF_ROOM)["id"]
    sanne = api_for(SANNE_EMAIL)
    mine = state.membership_of(room_id, state.person_by_email(SANNE_EMAIL)["id"])
    assert sanne.memberships.get(mine["id"]).personEmail == SANNE_EMAIL
    # Another space's membership is not found, as for a space one is not in.
    acme_anna = state.membership_of(state.room_by_title(ACME_ROOM)["id"], state.person_by_email(ANNA_EMAIL)["id"])
    assert _status(lambda: sanne.memberships.get(acme_anna["id"])) == 404
    erik_id = state.person_by_email(ERIK_EMAIL)["id"]
    assert [m.personId for m in sanne.memberships.list(roomId=room_id, personId=erik_id)] == [erik_id]
    assert [m.personEmail for m in sanne.memberships.list(roomId=room_id, personEmail=ERIK_EMAIL)] == [ERIK_EMAIL]
    # Without a room: the caller's own memberships, one per space; a person filter needs the room.
    assert {m.roomId for m in bot_api.memberships.list()} == {
        r["id"] for r in state.rooms.values() if state.is_member(r["id"], state.person_by_email(BOT_EMAIL)["id"])
    }
    assert {m.personEmail for m in bot_api.memberships.list()} == {BOT_EMAIL}
    assert _status(lambda: list(sanne.memberships.list(personEmail=ERIK_EMAIL))) == 400


def test_a_member_leaves_and_the_room_and_the_leaver_hear_memberships_deleted(api_for, bot_api, state, receiver):
    bot_api.webhooks.create(name="left", targetUrl=receiver.url, resource="memberships", event="deleted")
    room_id = state.room_by_title(ACME_ROOM)["id"]
    membership = state.membership_of(room_id, state.person_by_email(ANNA_EMAIL)["id"])
    api_for(ANNA_EMAIL).memberships.delete(membership["id"])
    [body] = _bodies(receiver, 1)
    assert (body["resource"], body["event"]) == ("memberships", "deleted")
    assert body["actorId"] == membership["personId"]
    # Shaped like memberships/created's data.
    assert body["data"] == {
        k: membership[k]
        for k in (
            "id",
            "roomId",
            "roomType",
            "personId",
            "personEmail",
            "personDisplayName",
            "isModerator",
            "isMonitor",
            "created",
        )
    }
    assert not state.is_member(room_id, membership["personId"])
    assert _status(lambda: api_for(ANNA_EMAIL).rooms.get(room_id)) == 404


def test_the_removed_bot_hears_its_own_removal_through_a_filter_on_its_person_id(api_for, bot_api, state, receiver):
    bot_id = state.person_by_email(BOT_EMAIL)["id"]
    bot_api.webhooks.create(
        name="me-gone", targetUrl=receiver.url, resource="memberships", event="deleted", filter=f"personId={bot_id}"
    )
    bot_api.webhooks.create(
        name="me-added", targetUrl=receiver.url, resource="memberships", event="created", filter=f"personId={bot_id}"
    )
    room_id = state.room_by_title(STAFF_ROOM)["id"]
    # Someone else leaving does not pass the filter.
    api_for(ERIK_EMAIL).memberships.delete(state.membership_of(room_id, state.person_by_email(ERIK_EMAIL)["id"])["id"])
    sanne = api_for(SANNE_EMAIL)
    sanne.memberships.delete(state.membership_of(room_id, bot_id)["id"])
    sanne.memberships.create(roomId=room_id, personEmail=BOT_EMAIL)
    removal, readded = _bodies(receiver, 2)
    assert (removal["event"], removal["data"]["personId"], removal["actorId"]) == (
        "deleted",
        bot_id,
        state.person_by_email(SANNE_EMAIL)["id"],
    )
    assert readded["event"] == "created" and readded["data"]["id"] == removal["data"]["id"]
    assert readded["data"]["created"] >= removal["data"]["created"]
    assert state.wait_deliveries(2) and len(state.deliveries) == 2


def test_the_bot_can_leave_a_space(bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    bot_api.memberships.delete(state.membership_of(room_id, state.person_by_email(BOT_EMAIL)["id"])["id"])
    assert _status(lambda: bot_api.rooms.get(room_id)) == 404
    assert room_id not in {r.id for r in bot_api.rooms.list()}


def test_removal_rules(api_for, state):
    room_id = state.room_by_title(STAFF_ROOM)["id"]
    erik = state.membership_of(room_id, state.person_by_email(ERIK_EMAIL)["id"])
    # Outsiders see nothing; in a space without moderators any member may remove another.
    assert _status(lambda: api_for(BRAM_EMAIL).memberships.delete(erik["id"])) == 404
    state.set_moderator(room_id, SANNE_EMAIL)
    assert (
        _status(
            lambda: api_for(ERIK_EMAIL).memberships.delete(
                state.membership_of(room_id, state.person_by_email(SANNE_EMAIL)["id"])["id"]
            )
        )
        == 403
    )
    assert state.is_member(room_id, erik["personId"])
    api_for(SANNE_EMAIL).memberships.delete(erik["id"])
    assert not state.is_member(room_id, erik["personId"])
    assert _status(lambda: api_for(SANNE_EMAIL).memberships.delete(erik["id"])) == 404
    # Nobody leaves a 1:1 space.
    direct = state.direct_room(ANNA_EMAIL, BOT_EMAIL)
    own = state.membership_of(direct["id"], state.person_by_email(ANNA_EMAIL)["id"])
    assert _status(lambda: api_for(ANNA_EMAIL).memberships.delete(own["id"])) == 403
    assert state.is_member(direct["id"], own["personId"])


def test_adding_by_person_id_and_as_moderator(api_for, state):
    sanne = api_for(SANNE_EMAIL)
    room = sanne.rooms.create("Escalations")
    added = sanne.memberships.create(roomId=room.id, personId=state.person_by_email(ERIK_EMAIL)["id"], isModerator=True)
    assert added.personEmail == ERIK_EMAIL and added.isModerator is True
    assert _status(lambda: sanne.memberships.create(roomId=room.id, personId="unknown")) == 404
    assert _status(lambda: sanne.memberships.create(roomId=room.id)) == 400
    assert {m.personEmail for m in sanne.memberships.list(roomId=room.id)} == {SANNE_EMAIL, ERIK_EMAIL}


def test_a_moderator_is_set_with_put(api_for, state):
    room_id = state.room_by_title(STAFF_ROOM)["id"]
    erik = state.membership_of(room_id, state.person_by_email(ERIK_EMAIL)["id"])
    sanne = api_for(SANNE_EMAIL)
    assert sanne.memberships.update(erik["id"], isModerator=True, isRoomHidden=False).isModerator is True
    # Now the space has a moderator, and Sanne is not one.
    assert _status(lambda: sanne.memberships.update(erik["id"], isModerator=False, isRoomHidden=False)) == 403
    assert _status(lambda: api_for(ERIK_EMAIL).memberships.update(erik["id"], isModerator=False)) == 400
    assert state.membership_of(room_id, erik["personId"])["isModerator"] is True


def test_removing_someone_who_is_not_a_member_is_refused(state):
    with pytest.raises(ApiProblem) as exc:
        state.remove_member(state.room_by_title(ACME_ROOM)["id"], BRAM_EMAIL)
    assert exc.value.status == 404
    assert len(state.members(state.room_by_title(ACME_ROOM)["id"])) == 2
