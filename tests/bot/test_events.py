"""Mention stripping by id from `html`, escaping of echoed text, and the bot's own memberships."""

import base64
from datetime import UTC, datetime

import pytest

from bot.events import JoinEvent, LeaveEvent, membership_event, strip_bot_mention
from bot.text import escape_markdown
from bot.webex import BotIdentity, person_uuid

BOT_UUID = "0f9a2b3c-1111-2222-3333-444455556666"
BOT_ID = base64.b64encode(f"ciscospark://us/PEOPLE/{BOT_UUID}".encode()).decode().rstrip("=")
BOT = BotIdentity(person_id=BOT_ID, uuid=BOT_UUID, display_name="IoT Service Desk", emails=("servicedesk@webex.bot",))


def _mention(uuid, label):
    return f'<spark-mention data-object-type="person" data-object-id="{uuid}">{label}</spark-mention>'


def test_person_uuid_from_id():
    assert person_uuid(BOT_ID) == BOT_UUID


def test_shortened_display_name_is_stripped_by_id():
    message = {"text": "IoT /ping", "html": f"<p>{_mention(BOT_UUID, 'IoT')} /ping</p>"}
    assert strip_bot_mention(message, BOT) == "/ping"


def test_other_mentions_are_kept():
    other = "aaaaaaaa-0000-0000-0000-000000000000"
    message = {"html": f"<p>{_mention(BOT_UUID, 'Desk')} /incident ask {_mention(other, 'Erik')} about it</p>"}
    assert strip_bot_mention(message, BOT) == "/incident ask Erik about it"


def test_mention_in_the_middle_and_entities():
    message = {"html": f"<p>please {_mention(BOT_UUID, 'IoT Service Desk')} /ping &amp; thanks</p>"}
    assert strip_bot_mention(message, BOT) == "please /ping & thanks"


def test_plain_text_in_direct_spaces():
    assert strip_bot_mention({"text": "  /help  "}, BOT) == "/help"


def test_escape_makes_markdown_inert():
    assert escape_markdown("**bold** <@personEmail:x@y.z> [a](http://e)") == (
        "\\*\\*bold\\*\\* &lt;@personEmail:x@y\\.z\\> \\[a\\]\\(http://e\\)"
    )


def test_the_bots_own_memberships_become_join_and_leave_events():
    data = {"id": "M1", "roomId": "R1", "roomType": "group", "personId": BOT_ID, "created": "2026-11-23T09:00:00.123Z"}
    joined, left = membership_event(data, "created", BOT), membership_event(data, "deleted", BOT)
    assert isinstance(joined, JoinEvent) and isinstance(left, LeaveEvent)
    assert (left.room_id, left.room_type, left.membership_id, left.sender.person_id) == ("R1", "group", "M1", BOT_ID)
    assert left.created == joined.created == datetime(2026, 11, 23, 9, 0, 0, 123000, tzinfo=UTC)
    assert left.thread_root is None


@pytest.mark.parametrize(
    ("changes", "event"),
    [
        ({"personId": "SOMEONE-ELSE"}, "created"),
        ({"personId": "SOMEONE-ELSE"}, "deleted"),
        ({"roomId": ""}, "created"),
        ({"roomId": 7}, "deleted"),
        ({}, "updated"),
    ],
    ids=["someone-joins", "someone-leaves", "no-room", "room-not-a-string", "updated"],
)
def test_other_memberships_are_no_events(changes, event):
    data = {"id": "M1", "roomId": "R1", "personId": BOT_ID} | changes
    assert membership_event(data, event, BOT) is None


@pytest.mark.parametrize("created", [None, "yesterday", "2026-11-23T09:00:00", 17])
def test_a_membership_without_a_usable_time_has_none(created):
    data = {"id": "M1", "roomId": "R1", "roomType": "spaceship", "personId": BOT_ID, "created": created}
    event = membership_event(data, "deleted", BOT)
    assert event.created is None and event.room_type == "group"
