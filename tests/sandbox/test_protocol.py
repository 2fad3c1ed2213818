"""Protocol details as Webex does them: a TrackingID on every answer, `max` and Link pagination
on every list, and the bot's own list calls following those links."""

from __future__ import annotations

import re

import pytest
import requests

from bot.webex import WebexClient
from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BOT_EMAIL, BOT_TOKEN, STAFF_ROOM, token_for
from sandbox.ids import new_id

LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def _get(server, path: str, *, token: str = BOT_TOKEN, **params) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _walk(server, path: str, *, token: str = BOT_TOKEN, **params) -> list[list[str]]:
    """The ids on each page, following Link headers from the first page."""
    pages = []
    reply = _get(server, path, token=token, **params)
    while True:
        assert reply.status_code == 200, reply.text
        pages.append([item["id"] for item in reply.json()["items"]])
        link = reply.headers.get("Link")
        if link is None:
            return pages
        reply = requests.get(LINK.match(link).group("url"), headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_every_v1_answer_has_a_tracking_id_and_errors_repeat_it(server):
    ok = _get(server, "/v1/people/me")
    missing = _get(server, "/v1/rooms/unknown")
    unauthorised = requests.get(f"{server.url}/v1/people/me", timeout=10)
    assert ok.headers["TrackingID"] != missing.headers["TrackingID"]
    for reply in (missing, unauthorised):
        assert reply.json()["trackingId"] == reply.headers["TrackingID"]
    assert "TrackingID" not in requests.get(f"{server.url}/_sandbox/directory", timeout=10).headers


def test_rooms_memberships_webhooks_messages_and_people_page_with_links(server, api_for, state):
    anna = token_for(ANNA_EMAIL)
    room_id = state.room_by_title(ACME_ROOM)["id"]
    for n in range(5):
        state.post_message(ANNA_EMAIL, room_id=room_id, text=f"m{n}")
        state.add_room(f"Extra {n}", [BOT_EMAIL], creator_email=ANNA_EMAIL)
    newest_first = [m["id"] for m in reversed(state.messages_in(room_id))]
    assert _walk(server, "/v1/messages", token=anna, roomId=room_id, max=2) == [
        newest_first[:2],
        newest_first[2:4],
        newest_first[4:],
    ]
    rooms = [r["id"] for r in state.rooms.values() if state.is_member(r["id"], state.person_by_email(ANNA_EMAIL)["id"])]
    assert sum(_walk(server, "/v1/rooms", token=anna, max=4), []) == rooms and len(rooms) == 6
    staff = state.room_by_title(STAFF_ROOM)["id"]
    pages = _walk(server, "/v1/memberships", roomId=staff, max=2)
    assert [len(page) for page in pages] == [2, 2, 1] and len(set(sum(pages, []))) == 5  # four staff and the bot
    for n in range(3):
        requests.post(
            f"{server.url}/v1/webhooks",
            json={"name": f"h{n}", "targetUrl": "http://127.0.0.1:9/x", "resource": "messages", "event": "created"},
            headers={"Authorization": f"Bearer {BOT_TOKEN}"},
            timeout=10,
        )
    assert [len(page) for page in _walk(server, "/v1/webhooks", max=1)] == [1, 1, 1]
    anna_id, ada_id = state.person_by_email(ANNA_EMAIL)["id"], state.person_by_email("ada@iot-desk.example")["id"]
    assert _walk(server, "/v1/people", id=f"{anna_id},{ada_id}", max=1) == [[anna_id], [ada_id]]
    # The next page keeps the request's own filters.
    link = _get(server, "/v1/messages", token=anna, roomId=room_id, max=2).headers["Link"]
    assert f"roomId={room_id}" in link and "max=2" in link and "cursor=" in link
    # The last page has no Link; a short list has one page.
    assert "Link" not in _get(server, "/v1/rooms", token=anna).headers


@pytest.mark.parametrize("value", ["0", "-1", "x", "1.5", "1001"])
def test_a_bad_max_is_refused(server, value):
    reply = _get(server, "/v1/rooms", max=value)
    assert reply.status_code == 400 and reply.json()["message"].startswith("max must be")


def test_a_cursor_from_nowhere_is_refused(server):
    assert _get(server, "/v1/rooms", cursor="nonsense").status_code == 400


def test_the_sdk_follows_the_links(api_for, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    for n in range(7):
        state.post_message(ANNA_EMAIL, room_id=room_id, text=f"m{n}")
    listed = [m.text for m in api_for(ANNA_EMAIL).messages.list(roomId=room_id, max=3)]
    assert listed == [f"m{n}" for n in reversed(range(7))]


def test_the_bots_webhook_list_follows_the_links(server, state):
    bot_id = state.person_by_email(BOT_EMAIL)["id"]
    for n in range(120):  # more than one default page of 100
        hook_id = new_id("WEBHOOK")
        state.webhooks[hook_id] = {
            "id": hook_id,
            "name": f"h{n}",
            "targetUrl": "http://127.0.0.1:9/x",
            "resource": "messages",
            "event": "created",
            "orgId": state.org_id,
            "createdBy": bot_id,
            "appId": "SANDBOX",
            "ownedBy": "creator",
            "status": "active",
            "created": state.stamp(),
            "ownerId": bot_id,
        }
    client = WebexClient(access_token=BOT_TOKEN, base_url=f"{server.url}/v1/")
    assert [h["name"] for h in client.list_webhooks()] == [f"h{n}" for n in range(120)]
    assert [r["status"] for r in state.requests if r["path"] == "/v1/webhooks"] == [200, 200]


def test_the_bots_recent_messages_are_one_page(server, state):
    direct = state.direct_room(ANNA_EMAIL, BOT_EMAIL)["id"]
    for n in range(8):
        state.post_message(ANNA_EMAIL, room_id=direct, text=f"m{n}")
    client = WebexClient(access_token=BOT_TOKEN, base_url=f"{server.url}/v1/")
    assert [m["text"] for m in client.list_recent_messages(direct, max_items=3)] == ["m7", "m6", "m5"]
    # The page had a next link; the bot took only what it asked for.
    assert [r["path"] for r in state.requests if r["path"] == "/v1/messages"] == ["/v1/messages"]
