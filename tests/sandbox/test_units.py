"""Ids, rendering, timestamps and the state's own rules, without HTTP."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.delivery import filter_matches
from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BOT_EMAIL, BRAM_EMAIL, POLDER_ROOM, STAFF_ROOM, build_demo_state
from sandbox.ids import new_id, uuid_of
from sandbox.render import render
from sandbox.state import ApiProblem, SandboxState


def test_ids_are_unpadded_base64_of_ciscospark_uris():
    person_id = new_id("PEOPLE")
    assert "=" not in person_id
    decoded = base64.b64decode(person_id + "=" * (-len(person_id) % 4)).decode()
    assert decoded.startswith("ciscospark://us/PEOPLE/")
    assert uuid.UUID(uuid_of(person_id)).version == 4
    assert decoded.endswith(uuid_of(person_id))


def test_render_mentions_by_email_and_id_with_and_without_label():
    people = {"a@x": {"id": new_id("PEOPLE"), "displayName": "Ann Example"}}
    by_id = {p["id"]: p for p in people.values()}

    def lookup(kind, value):
        return people.get(value) if kind == "personEmail" else by_id.get(value)

    ann = people["a@x"]
    text, html, mentioned = render(f"<@personEmail:a@x|Ann> hi **there** <@personId:{ann['id']}> & <b>", lookup)
    assert text == "Ann hi there Ann Example & <b>"
    assert mentioned == [ann["id"]]
    # The full base64 person id by default, as public captures of the REST API show it.
    tag = f'<spark-mention data-object-type="person" data-object-id="{ann["id"]}">'
    assert html.count(tag) == 2
    uuid_html = render("<@personEmail:a@x|Ann> hi", lookup, mention_ids="uuid")[1]
    assert f'data-object-id="{uuid_of(ann["id"])}">Ann</spark-mention>' in uuid_html
    assert "<strong>there</strong>" in html and "&amp; &lt;b&gt;" in html
    assert render("<@personEmail:nobody@x|N> hi", lookup)[2] == []


def test_timestamps_use_the_given_clock_with_milliseconds():
    state = SandboxState(now=lambda: datetime(2026, 11, 22, 13, 45, 1, 123456, tzinfo=UTC))
    person = state.add_person("p@x", "P Q")
    assert person["created"] == "2026-11-22T13:45:01.123Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", build_demo_state().stamp())


def test_demo_state_has_people_rooms_and_tokens():
    state = build_demo_state()
    bot = state.person_by_email(BOT_EMAIL)
    assert bot["type"] == "bot" and bot["displayName"] == "IoT Service Desk"
    assert state.person_by_token("sandbox-token-anna")["emails"] == [ANNA_EMAIL]
    assert state.person_by_email(ANNA_EMAIL)["orgId"] != state.person_by_email(BRAM_EMAIL)["orgId"]
    assert len(state.members(state.room_by_title(STAFF_ROOM)["id"])) == 5
    for title in (ACME_ROOM, POLDER_ROOM, STAFF_ROOM):
        assert state.is_member(state.room_by_title(title)["id"], bot["id"])


def test_direct_room_is_created_once():
    state = build_demo_state()
    room = state.direct_room(ANNA_EMAIL, BOT_EMAIL)
    assert room["type"] == "direct"
    assert state.direct_room(BOT_EMAIL, ANNA_EMAIL)["id"] == room["id"]


def test_events_feed_records_create_update_delete_in_order():
    state = build_demo_state()
    room_id = state.room_by_title(ACME_ROOM)["id"]
    message = state.post_message(ANNA_EMAIL, room_id=room_id, text="one")
    state.update_message(ANNA_EMAIL, message["id"], room_id=room_id, text="two", markdown=None)
    state.delete_message(ANNA_EMAIL, message["id"])
    events = state.events_since(0, room_id)
    assert [e["kind"] for e in events] == ["created", "updated", "deleted"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert state.events_since(events[-1]["seq"]) == []
    assert state.events_since(0, state.room_by_title(POLDER_ROOM)["id"]) == []
    # A wait with something newer returns at once; a wait with nothing newer times out empty.
    assert state.wait_events(0, room_id, timeout=5)[0] == events
    assert state.wait_events(events[-1]["seq"], timeout=0.05) == ([], events[-1]["seq"])


def test_post_message_rules_without_http():
    state = build_demo_state()
    room_id = state.room_by_title(ACME_ROOM)["id"]
    with pytest.raises(ApiProblem) as exc:
        state.post_message(BRAM_EMAIL, room_id=room_id, text="not my room")
    assert exc.value.status == 404
    with pytest.raises(ApiProblem) as exc:
        state.post_message(ANNA_EMAIL, room_id=room_id)
    assert exc.value.status == 400
    sent = state.post_message(ANNA_EMAIL, to_person_email=BRAM_EMAIL, text="hi")
    assert sent["roomType"] == "direct" and sent["toPersonEmail"] == BRAM_EMAIL
    assert state.messages_in(sent["roomId"])[0]["id"] == sent["id"]


def test_filters():
    data = {"roomId": "R", "roomType": "group", "mentionedPeople": ["P"]}
    assert filter_matches("roomId=R&roomType=group", data, "X")
    assert not filter_matches("roomType=direct", data, "X")
    assert filter_matches("mentionedPeople=me", data, "P")
    assert not filter_matches("mentionedPeople=me", data, "X")


def test_auto_disable_counts_only_failures_within_five_minutes():
    clock = {"t": datetime(2026, 1, 1, tzinfo=UTC)}
    state = SandboxState(now=lambda: clock["t"])
    state.webhooks["W"] = {"id": "W", "status": "active"}
    payload = {"resource": "messages", "event": "created", "data": {"id": "M"}}
    for _ in range(99):
        state.delivery.record("W", payload, 500, None)
    clock["t"] += timedelta(minutes=5, seconds=1)
    state.delivery.record("W", payload, None, "ConnectionError")
    assert state.webhooks["W"]["status"] == "active"
    # Successes do not count; failures 100..199 inside one window do.
    state.delivery.record("W", payload, 204, None)
    for _ in range(98):
        state.delivery.record("W", payload, 503, None)
    assert state.webhooks["W"]["status"] == "active"
    state.delivery.record("W", payload, 503, None)
    assert state.webhooks["W"]["status"] == "inactive"
    assert len(state.deliveries) == 99 + 1 + 1 + 99
