"""Messages, people and rooms through the real webexpythonsdk against the served sandbox."""

from __future__ import annotations

import pytest
import requests
from webexpythonsdk import ApiError

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BOT_EMAIL, BOT_NAME, BRAM_EMAIL, SANNE_EMAIL, STAFF_ROOM
from sandbox.ids import uuid_of

CARD = {
    "contentType": "application/vnd.microsoft.card.adaptive",
    "content": {
        "type": "AdaptiveCard",
        "version": "1.3",
        "body": [{"type": "Input.Text", "id": "note"}],
        "actions": [{"type": "Action.Submit", "title": "Send", "data": {"action": "note"}}],
    },
}


def _status(call) -> int:
    with pytest.raises(ApiError) as exc:
        call()
    return exc.value.status_code


def test_people_me_for_the_bot(bot_api, state):
    me = bot_api.people.me()
    assert me.displayName == BOT_NAME and me.emails == [BOT_EMAIL] and me.type == "bot"
    assert me.id == state.person_by_email(BOT_EMAIL)["id"]
    assert bot_api.people.get(me.id).displayName == BOT_NAME
    # By email or name Webex finds only the caller's own organisation's people (not across orgs).
    assert [p.id for p in bot_api.people.list(email=SANNE_EMAIL)] == [state.person_by_email(SANNE_EMAIL)["id"]]
    assert list(bot_api.people.list(email=ANNA_EMAIL)) == [] and list(bot_api.people.list(displayName="Anna")) == []
    assert bot_api.people.get(state.person_by_email(ANNA_EMAIL)["id"]).displayName == "Anna de Vries"


def test_unknown_token_is_401(api_for):
    assert _status(lambda: api_for(token="nope").people.me()) == 401


def test_rooms_and_memberships(api_for, bot_api, state):
    assert {r.title for r in bot_api.rooms.list()} >= {ACME_ROOM, STAFF_ROOM}
    anna = api_for(ANNA_EMAIL)
    assert [r.title for r in anna.rooms.list()] == [ACME_ROOM]
    staff_room = state.room_by_title(STAFF_ROOM)["id"]
    assert _status(lambda: anna.rooms.get(staff_room)) == 404
    sanne = api_for(SANNE_EMAIL)
    room = sanne.rooms.create("Escalation")
    assert room.type == "group" and room.creatorId == state.person_by_email(SANNE_EMAIL)["id"]
    sanne.memberships.create(roomId=room.id, personEmail=BOT_EMAIL)
    assert _status(lambda: sanne.memberships.create(roomId=room.id, personEmail=BOT_EMAIL)) == 409
    emails = {m.personEmail for m in bot_api.memberships.list(roomId=room.id)}
    assert emails == {SANNE_EMAIL, BOT_EMAIL}


def test_create_with_room_id_and_get_and_list_newest_first(api_for, bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    first = bot_api.messages.create(roomId=room_id, markdown="**one**")
    second = bot_api.messages.create(roomId=room_id, text="two")
    assert first.roomType == "group" and first.personEmail == BOT_EMAIL
    assert first.text == "one" and "<strong>one</strong>" in first.html
    assert second.html is None and second.markdown is None
    got = bot_api.messages.get(first.id)
    assert got.id == first.id and got.created == first.created
    reader = api_for(ANNA_EMAIL)  # a bot cannot list a group space (see below)
    assert [m.id for m in reader.messages.list(roomId=room_id)] == [second.id, first.id]
    assert [m.id for m in reader.messages.list(roomId=room_id, max=1)][:1] == [second.id]
    assert [m.id for m in reader.messages.list(roomId=room_id, beforeMessage=second.id)] == [first.id]
    assert [m["id"] for m in state.messages_in(room_id)] == [first.id, second.id]


def test_create_with_to_person_email_uses_the_direct_room(bot_api, state):
    sent = bot_api.messages.create(toPersonEmail=ANNA_EMAIL, text="hello Anna")
    room = state.direct_room(BOT_EMAIL, ANNA_EMAIL)
    assert sent.roomId == room["id"] and sent.roomType == "direct"
    again = bot_api.messages.create(toPersonEmail=ANNA_EMAIL, text="again")
    assert again.roomId == sent.roomId


def test_mention_gives_spark_mention_html_and_mentioned_people(api_for, bot_api, state):
    anna = api_for(ANNA_EMAIL)
    room_id = state.room_by_title(ACME_ROOM)["id"]
    bot = state.person_by_email(BOT_EMAIL)
    sent = anna.messages.create(roomId=room_id, markdown=f"<@personEmail:{BOT_EMAIL}|Desk> /ping")
    assert sent.mentionedPeople == [bot["id"]]
    assert sent.text == "Desk /ping"
    assert f'<spark-mention data-object-type="person" data-object-id="{bot["id"]}">Desk</spark-mention>' in sent.html
    by_id = anna.messages.create(roomId=room_id, markdown=f"<@personId:{bot['id']}> hi")
    assert by_id.text == f"{BOT_NAME} hi" and by_id.mentionedPeople == [bot["id"]]
    listed = bot_api.messages.list(roomId=room_id, mentionedPeople="me")
    assert {m.id for m in listed} == {sent.id, by_id.id}
    assert {m.id for m in bot_api.messages.list(roomId=room_id, mentionedPeople=bot["id"])} == {sent.id, by_id.id}


def test_a_bot_lists_a_group_space_only_where_it_is_mentioned(api_for, bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    anna = api_for(ANNA_EMAIL)
    anna.messages.create(roomId=room_id, text="no mention")
    own = bot_api.messages.create(roomId=room_id, text="from the bot")
    assert _status(lambda: list(bot_api.messages.list(roomId=room_id))) == 403
    assert list(bot_api.messages.list(roomId=room_id, mentionedPeople="me")) == []
    assert _status(lambda: list(bot_api.messages.list(roomId=room_id, mentionedPeople="me", max=101))) == 400
    # Only the caller can be asked for; people see every message of their spaces.
    bot_id = state.person_by_email(BOT_EMAIL)["id"]
    assert _status(lambda: list(anna.messages.list(roomId=room_id, mentionedPeople=bot_id))) == 400
    assert [m.text for m in anna.messages.list(roomId=room_id)][:2] == ["from the bot", "no mention"]
    # In a 1:1 space a bot lists everything, its own messages too.
    direct = bot_api.messages.create(toPersonEmail=ANNA_EMAIL, text="hello Anna")
    assert [m.id for m in bot_api.messages.list(roomId=direct.roomId)] == [direct.id]
    assert own.roomType == "group"


def test_a_bot_reads_only_its_mentions_and_its_own_messages_in_a_group_space(api_for, bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    anna = api_for(ANNA_EMAIL)
    plain = anna.messages.create(roomId=room_id, text="between us")
    mentioned = anna.messages.create(roomId=room_id, markdown=f"<@personEmail:{BOT_EMAIL}> /ping")
    own = bot_api.messages.create(roomId=room_id, text="from the bot")
    assert _status(lambda: bot_api.messages.get(plain.id)) == 404
    assert bot_api.messages.get(mentioned.id).mentionedPeople == [state.person_by_email(BOT_EMAIL)["id"]]
    assert bot_api.messages.get(own.id).text == "from the bot"
    assert anna.messages.get(plain.id).text == "between us"  # people read everything in their spaces
    # In a 1:1 space the bot reads everything.
    direct = anna.messages.create(toPersonEmail=BOT_EMAIL, text="hi")
    assert bot_api.messages.get(direct.id).text == "hi"


def test_spark_mention_ids_are_base64_by_default_and_uuid_on_request(api_for, state):
    anna = api_for(ANNA_EMAIL)
    room_id = state.room_by_title(ACME_ROOM)["id"]
    bot_id = state.person_by_email(BOT_EMAIL)["id"]
    assert (
        f'data-object-id="{bot_id}"'
        in anna.messages.create(roomId=room_id, markdown=f"<@personEmail:{BOT_EMAIL}> a").html
    )
    state.mention_ids = "uuid"
    assert (
        f'data-object-id="{uuid_of(bot_id)}"'
        in anna.messages.create(roomId=room_id, markdown=f"<@personEmail:{BOT_EMAIL}> b").html
    )


def test_threads_one_level_deep_in_the_same_room(api_for, state):
    anna = api_for(ANNA_EMAIL)
    room_id = state.room_by_title(ACME_ROOM)["id"]
    root = anna.messages.create(roomId=room_id, text="root")
    reply = anna.messages.create(roomId=room_id, parentId=root.id, text="reply")
    assert reply.parentId == root.id
    assert [m.id for m in anna.messages.list(roomId=room_id, parentId=root.id)] == [reply.id]
    assert _status(lambda: anna.messages.create(roomId=room_id, parentId=reply.id, text="nested")) == 400
    assert _status(lambda: anna.messages.create(roomId=room_id, parentId="unknown", text="x")) == 400
    elsewhere = state.post_message(BOT_EMAIL, to_person_email=ANNA_EMAIL, text="dm")
    assert _status(lambda: anna.messages.create(roomId=room_id, parentId=elsewhere["id"], text="x")) == 400


def test_message_size_and_card_rules(bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    bot_api.messages.create(roomId=room_id, text="a" * 7439)
    assert _status(lambda: bot_api.messages.create(roomId=room_id, text="a" * 7440)) == 400
    assert _status(lambda: bot_api.messages.create(roomId=room_id, markdown="é" * 3720)) == 400
    assert _status(lambda: bot_api.messages.create(roomId=room_id, attachments=[dict(CARD)])) == 400
    assert (
        _status(lambda: bot_api.messages.create(roomId=room_id, text="x", attachments=[dict(CARD), dict(CARD)])) == 400
    )
    wrong = {**CARD, "contentType": "application/json"}
    assert _status(lambda: bot_api.messages.create(roomId=room_id, text="x", attachments=[wrong])) == 400
    card = bot_api.messages.create(roomId=room_id, text="fallback", attachments=[dict(CARD)])
    assert card.attachments[0]["contentType"] == CARD["contentType"]


def test_update_ten_times_then_400(bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    sent = bot_api.messages.create(roomId=room_id, markdown="v0")
    for n in range(1, 11):
        edited = bot_api.messages.update(sent.id, roomId=room_id, markdown=f"v{n}")
        assert edited.markdown == f"v{n}"
    assert edited._json_data["updated"] >= edited._json_data["created"]
    with pytest.raises(ApiError) as exc:
        bot_api.messages.update(sent.id, roomId=room_id, markdown="v11")
    assert exc.value.status_code == 400
    assert bot_api.messages.get(sent.id).markdown == "v10"


def test_update_rules(api_for, bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    card = bot_api.messages.create(roomId=room_id, text="fallback", attachments=[dict(CARD)])
    assert _status(lambda: bot_api.messages.update(card.id, roomId=room_id, text="edit")) == 400
    plain = bot_api.messages.create(roomId=room_id, text="mine")
    assert _status(lambda: api_for(ANNA_EMAIL).messages.update(plain.id, roomId=room_id, text="hers")) == 403
    assert _status(lambda: bot_api.messages.update(plain.id, text="no room")) == 400
    assert _status(lambda: bot_api.messages.update(plain.id, roomId=room_id)) == 400


def test_delete_then_404(api_for, bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    sent = bot_api.messages.create(roomId=room_id, text="bye")
    assert _status(lambda: api_for(ANNA_EMAIL).messages.delete(sent.id)) == 403
    bot_api.messages.delete(sent.id)
    assert _status(lambda: bot_api.messages.get(sent.id)) == 404
    assert _status(lambda: bot_api.messages.delete(sent.id)) == 404


def test_visibility_is_per_room_membership(api_for, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    sent = state.post_message(ANNA_EMAIL, room_id=room_id, text="private")
    bram = api_for(BRAM_EMAIL)
    assert _status(lambda: bram.messages.get(sent["id"])) == 404
    assert _status(lambda: list(bram.messages.list(roomId=room_id))) == 404
    assert _status(lambda: bram.messages.create(roomId=room_id, text="intrude")) == 404


def test_attachment_actions_create_and_get(api_for, bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    card = bot_api.messages.create(roomId=room_id, text="fallback", attachments=[dict(CARD)])
    anna = api_for(ANNA_EMAIL)
    action = anna.attachment_actions.create(type="submit", messageId=card.id, inputs={"note": "hi", "action": "note"})
    assert action.type == "submit" and action.messageId == card.id and action.roomId == room_id
    got = bot_api.attachment_actions.get(action.id)
    assert got.inputs == {"note": "hi", "action": "note"}
    assert got.personId == state.person_by_email(ANNA_EMAIL)["id"]
    assert _status(lambda: api_for(BRAM_EMAIL).attachment_actions.get(action.id)) == 404
    plain = bot_api.messages.create(roomId=room_id, text="no card")
    assert _status(lambda: anna.attachment_actions.create(type="submit", messageId=plain.id, inputs={})) == 400


def test_errors_have_the_webex_shape(server):
    missing = requests.get(f"{server.url}/v1/people/me", timeout=10)
    assert missing.status_code == 401
    body = missing.json()
    assert body["message"] and body["errors"][0]["description"] and body["trackingId"]
    auth = {"Authorization": "Bearer sandbox-bot-token"}
    wrong_method = requests.patch(f"{server.url}/v1/messages", headers=auth, timeout=10)
    assert wrong_method.status_code == 405 and wrong_method.json()["errors"]
    no_room = requests.get(f"{server.url}/v1/messages", headers=auth, timeout=10)
    assert no_room.status_code == 400 and "roomId" in no_room.json()["message"]
    not_json = requests.post(f"{server.url}/v1/messages", headers=auth, data="x", timeout=10)
    assert not_json.status_code == 400


def test_direct_messages_are_listed_by_the_other_person_without_opening_a_space(bot_api, state):
    rooms_before = len(state.rooms)
    assert list(bot_api.messages.list_direct(personEmail=ANNA_EMAIL)) == []
    assert len(state.rooms) == rooms_before  # asking opens no 1:1 space
    first = bot_api.messages.create(toPersonEmail=ANNA_EMAIL, text="one")
    second = bot_api.messages.create(toPersonEmail=ANNA_EMAIL, text="two")
    assert [m.id for m in bot_api.messages.list_direct(personEmail=ANNA_EMAIL)] == [second.id, first.id]
    assert _status(lambda: list(bot_api.messages.list_direct(personEmail=ANNA_EMAIL, personId=first.personId))) == 400
