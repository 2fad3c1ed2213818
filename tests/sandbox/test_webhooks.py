"""Webhooks: CRUD through the SDK and deliveries as Webex sends them (who hears what, signatures, disabling)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from webexpythonsdk import ApiError

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BOT_EMAIL, SANNE_EMAIL, STAFF_ROOM
from sandbox.ids import uuid_of
from tests.sandbox.test_messages_api import CARD


def _bodies(receiver, n: int) -> list[dict]:
    return [json.loads(r["body"]) for r in receiver.wait(n)]


def test_webhook_crud(bot_api, api_for, receiver):
    hook = bot_api.webhooks.create(
        name="msgs",
        targetUrl=receiver.url,
        resource="messages",
        event="created",
        filter="roomType=group",
        secret="s3cret",
    )
    assert hook.status == "active" and hook.filter == "roomType=group" and hook.ownedBy == "creator"
    assert [h.id for h in bot_api.webhooks.list()] == [hook.id]
    assert list(api_for(ANNA_EMAIL).webhooks.list()) == []
    with pytest.raises(ApiError) as exc:
        api_for(ANNA_EMAIL).webhooks.get(hook.id)
    assert exc.value.status_code == 404
    renamed = bot_api.webhooks.update(hook.id, name="renamed", targetUrl=receiver.url)
    assert renamed.name == "renamed" and renamed.status == "active"
    assert bot_api.webhooks.get(hook.id).name == "renamed"
    # Webex's PUT cannot deactivate: only its failure rule disables a webhook.
    with pytest.raises(ApiError) as exc:
        bot_api.webhooks.update(hook.id, name="quiet", targetUrl=receiver.url, status="inactive")
    assert exc.value.status_code == 400
    assert bot_api.webhooks.get(hook.id).status == "active" and bot_api.webhooks.get(hook.id).name == "renamed"
    assert bot_api.webhooks.update(hook.id, name="renamed", targetUrl=receiver.url, status="active").status == "active"
    with pytest.raises(ApiError) as exc:
        bot_api.webhooks.create(name="bad", targetUrl=receiver.url, resource="files", event="created")
    assert exc.value.status_code == 400
    bot_api.webhooks.delete(hook.id)
    assert list(bot_api.webhooks.list()) == []


def test_signed_delivery_matches_webex_payload(bot_api, state, receiver):
    hook = bot_api.webhooks.create(
        name="msgs", targetUrl=receiver.url, resource="messages", event="created", secret="s3cret"
    )
    room_id = state.room_by_title(ACME_ROOM)["id"]
    sent = state.post_message(ANNA_EMAIL, room_id=room_id, markdown=f"<@personEmail:{BOT_EMAIL}> /ping")
    [raw] = receiver.wait(1)
    expected = hmac.new(b"s3cret", raw["body"], hashlib.sha1).hexdigest()
    assert raw["headers"]["X-Spark-Signature"] == expected
    payload = json.loads(raw["body"])
    assert {k: payload[k] for k in ("id", "name", "targetUrl", "resource", "event", "ownedBy", "status")} == {
        "id": hook.id,
        "name": "msgs",
        "targetUrl": receiver.url,
        "resource": "messages",
        "event": "created",
        "ownedBy": "creator",
        "status": "active",
    }
    assert {"orgId", "createdBy", "appId", "created", "actorId"} <= payload.keys() and "filter" not in payload
    assert payload["actorId"] == sent["personId"]
    # Ids only, as Webex sends them: mentionedPeople is on the message the bot GETs, not here.
    assert payload["data"] == {k: sent[k] for k in ("id", "roomId", "roomType", "personId", "personEmail", "created")}
    assert state.wait_deliveries(1, timeout=10)
    assert state.deliveries[0]["status_code"] == 200 and state.deliveries[0]["data_id"] == sent["id"]


def test_bot_in_group_room_hears_mentions_and_itself_only(bot_api, api_for, state, receiver):
    bot_api.webhooks.create(name="msgs", targetUrl=receiver.url, resource="messages", event="created")
    room_id = state.room_by_title(ACME_ROOM)["id"]
    anna = api_for(ANNA_EMAIL)
    anna.messages.create(roomId=room_id, text="just chatting")
    mentioned = anna.messages.create(roomId=room_id, markdown=f"<@personEmail:{BOT_EMAIL}|Desk> help")
    own = bot_api.messages.create(roomId=room_id, text="bot speaking")
    direct = anna.messages.create(toPersonEmail=BOT_EMAIL, text="no mention needed in 1:1")
    # Deliveries leave in creation order, so the unmentioned message would have come first.
    assert [b["data"]["id"] for b in _bodies(receiver, 3)] == [mentioned.id, own.id, direct.id]
    assert state.wait_deliveries(3) and len(state.deliveries) == 3


def test_person_webhook_hears_everything_in_their_rooms(api_for, state, receiver):
    sanne = api_for(SANNE_EMAIL)
    sanne.webhooks.create(
        name="all",
        targetUrl=receiver.url,
        resource="messages",
        event="all",
        filter=f"roomId={state.room_by_title(STAFF_ROOM)['id']}",
    )
    state.post_message(ANNA_EMAIL, room_id=state.room_by_title(ACME_ROOM)["id"], text="not Sanne's room")
    first = state.post_message("erik@iot-desk.example", room_id=state.room_by_title(STAFF_ROOM)["id"], text="hello")
    [body] = _bodies(receiver, 1)
    assert body["data"]["id"] == first["id"] and body["event"] == "created" and body["filter"].startswith("roomId=")


def test_card_submit_is_delivered_to_the_card_author(bot_api, api_for, state, receiver):
    bot_api.webhooks.create(name="cards", targetUrl=receiver.url, resource="attachmentActions", event="created")
    api_for(ANNA_EMAIL).webhooks.create(
        name="anna", targetUrl=receiver.url, resource="attachmentActions", event="created"
    )
    room_id = state.room_by_title(ACME_ROOM)["id"]
    card = bot_api.messages.create(roomId=room_id, text="fallback", attachments=[dict(CARD)])
    action = state.submit_card(ANNA_EMAIL, card.id, {"note": "hi"})
    [body] = _bodies(receiver, 1)
    assert body["resource"] == "attachmentActions" and body["createdBy"] == state.person_by_email(BOT_EMAIL)["id"]
    assert body["data"] == {
        "id": action["id"],
        "type": "submit",
        "messageId": card.id,
        "personId": action["personId"],
        "roomId": room_id,
        "created": action["created"],
    }
    assert bot_api.attachment_actions.get(body["data"]["id"]).inputs == {"note": "hi"}
    assert state.wait_deliveries(1) and len(state.deliveries) == 1


def test_membership_created_reaches_the_added_bot(bot_api, api_for, state, receiver):
    bot_api.webhooks.create(name="joins", targetUrl=receiver.url, resource="memberships", event="created")
    sanne = api_for(SANNE_EMAIL)
    room = sanne.rooms.create("New space")
    membership = sanne.memberships.create(roomId=room.id, personEmail=BOT_EMAIL)
    [body] = _bodies(receiver, 1)
    assert body["actorId"] == state.person_by_email(SANNE_EMAIL)["id"]
    assert body["data"] == {
        "id": membership.id,
        "roomId": room.id,
        "roomType": "group",
        "personId": membership.personId,
        "personEmail": BOT_EMAIL,
        "personDisplayName": "IoT Service Desk",
        "isModerator": False,
        "isMonitor": False,
        "created": membership._json_data["created"],
    }


def test_a_membership_has_the_same_id_each_time_and_its_end_is_delivered(bot_api, api_for, state, receiver):
    bot_api.webhooks.create(name="joins", targetUrl=receiver.url, resource="memberships", event="all")
    sanne = api_for(SANNE_EMAIL)
    room = sanne.rooms.create("New space")
    first = sanne.memberships.create(roomId=room.id, personEmail=BOT_EMAIL)
    bot_uuid = uuid_of(first.personId)
    # As Webex derives it: the membership of this person in this room.
    assert base64.b64decode(first.id + "=" * (-len(first.id) % 4)).decode() == (
        f"ciscospark://us/MEMBERSHIP/{bot_uuid}:{uuid_of(room.id)}"
    )
    sanne.memberships.delete(first.id)
    with pytest.raises(ApiError) as exc:  # the bot is out: it can no longer see the room
        bot_api.rooms.get(room.id)
    assert exc.value.status_code == 404
    again = sanne.memberships.create(roomId=room.id, personEmail=BOT_EMAIL)
    assert again.id == first.id
    sanne_id = state.person_by_email(SANNE_EMAIL)["id"]
    bodies = _bodies(receiver, 3)
    # The bot hears of its joining, its removal (though no longer in the room) and joining again.
    assert [(b["event"], b["data"]["id"], b["data"]["personId"], b["actorId"]) for b in bodies] == [
        ("created", first.id, first.personId, sanne_id),
        ("deleted", first.id, first.personId, sanne_id),
        ("created", first.id, first.personId, sanne_id),
    ]
    assert bodies[1]["data"]["roomId"] == room.id


def test_someone_leaving_is_delivered_to_the_members_left_and_filters_apply(bot_api, api_for, state, receiver):
    bot_id = state.person_by_email(BOT_EMAIL)["id"]
    bot_api.webhooks.create(
        name="mine", targetUrl=receiver.url, resource="memberships", event="deleted", filter=f"personId={bot_id}"
    )
    sanne = api_for(SANNE_EMAIL)
    staff = state.room_by_title(STAFF_ROOM)
    [erik] = [m for m in sanne.memberships.list(roomId=staff["id"]) if m.personEmail == "erik@iot-desk.example"]
    sanne.memberships.delete(erik.id)  # not the bot: its filtered webhook does not hear it
    [mine] = [m for m in sanne.memberships.list(roomId=staff["id"]) if m.personEmail == BOT_EMAIL]
    sanne.memberships.delete(mine.id)
    [body] = _bodies(receiver, 1)
    assert (body["event"], body["data"]["id"], body["filter"]) == ("deleted", mine.id, f"personId={bot_id}")
    assert state.wait_deliveries(1) and len(state.deliveries) == 1


def test_removing_a_member_is_refused_to_outsiders_and_for_unknown_ids(api_for, state):
    acme = state.room_by_title(ACME_ROOM)
    [anna] = [m for m in state.memberships.values() if m["roomId"] == acme["id"] and m["personEmail"] == ANNA_EMAIL]
    for who, membership_id in ((SANNE_EMAIL, anna["id"]), (ANNA_EMAIL, "no-such-membership")):
        with pytest.raises(ApiError) as exc:
            api_for(who).memberships.delete(membership_id)
        assert exc.value.status_code == 404
    assert anna["id"] in state.memberships and state.is_member(acme["id"], anna["personId"])


def test_webhook_disabled_after_100_failures_until_set_active(api_for, state, failing_receiver, receiver):
    sanne = api_for(SANNE_EMAIL)
    failing = sanne.webhooks.create(
        name="failing", targetUrl=failing_receiver.url, resource="messages", event="created"
    )
    room_id = state.room_by_title(STAFF_ROOM)["id"]
    assert state.delivery.disable_after == 100
    for n in range(100):
        state.post_message(SANNE_EMAIL, room_id=room_id, text=f"m{n}")
    assert state.wait_deliveries(100, timeout=30)
    assert all(d["status_code"] == 500 for d in state.deliveries)
    assert sanne.webhooks.get(failing.id).status == "inactive"
    healthy = sanne.webhooks.create(name="healthy", targetUrl=receiver.url, resource="messages", event="created")
    quiet = state.post_message(SANNE_EMAIL, room_id=room_id, text="after disable")
    # The failing hook was created first and would be queued first; only the healthy one got it.
    assert state.wait_deliveries(101)
    assert [(d["webhook_id"], d["data_id"]) for d in state.deliveries[100:]] == [(healthy.id, quiet["id"])]
    failing_receiver.status = 200
    sanne.webhooks.update(failing.id, name="failing", targetUrl=failing_receiver.url, status="active")
    again = state.post_message(SANNE_EMAIL, room_id=room_id, text="active again")
    assert state.wait_deliveries(103)
    assert {(d["webhook_id"], d["status_code"]) for d in state.deliveries[101:]} == {
        (failing.id, 200),
        (healthy.id, 200),
    }
    assert {d["data_id"] for d in state.deliveries[101:]} == {again["id"]}
