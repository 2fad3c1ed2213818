"""End to end over real HTTP: `run_bot.py sandbox` as its own process, driven with the real SDK.

A demo customer posts `@Bot /ping` in a group space with their own token; the sandbox delivers
the signed webhook to the bot process; the reply must arrive in that space, and the bot's own
reply (which Webex delivers back to it) must not trigger anything.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from webexpythonsdk import WebexAPI

from sandbox.demo import ACME_ROOM, ANNA_TOKEN, BOT_EMAIL, BOT_TOKEN

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60
REPLY_TIMEOUT_S = 20


@pytest.fixture
def bot_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("WEBEX_ACCESS_TOKEN", "DATABASE_URL")}
    env.update(BOT_PORT="0", LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_bot.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump():
        for line in proc.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    base = None
    deadline = time.monotonic() + READY_TIMEOUT_S
    while base is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line.startswith("sandbox ready: Webex API "):
            base = line.split()[4].removesuffix("/v1/")
    if base is None:
        proc.kill()
        pytest.fail("bot did not start:\n" + "".join(output))
    yield base, tmp_path
    proc.terminate()
    assert proc.wait(timeout=30) == 0, "".join(output)


def _wait_for_bot_messages(base, room_id, bot_id, count, since=0):
    """Follow the sandbox's long-poll feed until the bot has `count` messages in the room."""
    found = []
    deadline = time.monotonic() + REPLY_TIMEOUT_S
    while len(found) < count and time.monotonic() < deadline:
        body = requests.get(
            f"{base}/_sandbox/events", params={"since": since, "roomId": room_id, "timeout": 5}, timeout=15
        ).json()
        since = body["seq"]
        found += [e["message"] for e in body["events"] if e["kind"] == "created" and e["message"]["personId"] == bot_id]
    return found, since


def test_ping_round_trip_in_a_group_space(bot_process):
    base, cwd = bot_process
    customer = WebexAPI(access_token=ANNA_TOKEN, base_url=f"{base}/v1/", wait_on_rate_limit=False)
    bot_id = WebexAPI(access_token=BOT_TOKEN, base_url=f"{base}/v1/").people.me().id
    room = next(r for r in customer.rooms.list() if r.title == ACME_ROOM)

    since = 0
    for round_ in range(1, 4):
        customer.messages.create(roomId=room.id, markdown=f"<@personEmail:{BOT_EMAIL}> /ping")
        replies, since = _wait_for_bot_messages(base, room.id, bot_id, 1, since)
        assert len(replies) == 1, f"round {round_}: {replies}"
        assert replies[0]["markdown"].startswith("pong — service desk bot ")

    # Exactly one reply per ping, seen by the customer through the API as well.
    mine = [m for m in customer.messages.list(roomId=room.id) if m.personId == bot_id]
    assert len(mine) == 3
    # The bot was told of its own replies too, and dropped them at the door without storing them.
    with sqlite3.connect(cwd / "sandbox.db") as conn:
        rows = conn.execute("select status, count(*) from inbox_events group by status").fetchall()
    assert dict(rows) == {"done": 3}


def test_unmentioned_message_in_a_group_space_is_not_delivered(bot_process):
    base, _ = bot_process
    customer = WebexAPI(access_token=ANNA_TOKEN, base_url=f"{base}/v1/", wait_on_rate_limit=False)
    bot_id = WebexAPI(access_token=BOT_TOKEN, base_url=f"{base}/v1/").people.me().id
    room = next(r for r in customer.rooms.list() if r.title == ACME_ROOM)
    customer.messages.create(roomId=room.id, markdown="/ping without a mention")
    customer.messages.create(roomId=room.id, markdown=f"<@personEmail:{BOT_EMAIL}> /ping")
    replies, _ = _wait_for_bot_messages(base, room.id, bot_id, 1)
    # Only the mentioned ping was answered: the first never reached the bot.
    assert len(replies) == 1
    assert len([m for m in customer.messages.list(roomId=room.id) if m.personId == bot_id]) == 1


def test_odd_input_is_refused_and_no_event_fails(bot_process):
    # What once failed in `run_bot.py` itself: a superscript count, a year 9999, a card value of the wrong type.
    base, cwd = bot_process
    customer = WebexAPI(access_token=ANNA_TOKEN, base_url=f"{base}/v1/", wait_on_rate_limit=False)
    bot_id = WebexAPI(access_token=BOT_TOKEN, base_url=f"{base}/v1/").people.me().id
    room = next(r for r in customer.rooms.list() if r.title == ACME_ROOM)
    since = 0
    answers = []
    for text in ("/incident service=M2M devices=² Modems offline", "/sla P2 9999-12-31 23:00", "/incident"):
        customer.messages.create(roomId=room.id, markdown=f"<@personEmail:{BOT_EMAIL}> {text}")
        replies, since = _wait_for_bot_messages(base, room.id, bot_id, 1, since)
        answers += replies
    form = answers[-1]
    customer.attachment_actions.create(
        type="submit",
        messageId=form["id"],
        inputs={"action": "ticket.create", "kind": "incident", "service": "M2M", "title": ["a", "b"]},
    )
    replies, since = _wait_for_bot_messages(base, room.id, bot_id, 1, since)
    assert [m["markdown"].splitlines()[-1] for m in answers[:2] + replies] == [
        "- **Connections or devices affected**: give a whole number from 0 to 100,000,000; **²** is not one.",
        r"**Opened**: give a date and time from 2000-01-01 00:00 to 2099-12-31 23:59 (Amsterdam time), such as 2026-01-09 17:00; "
        r"**9999\-12\-31 23:00** is not one.",
        "Nothing was done: the form's field **title** must hold text.",
    ]
    with sqlite3.connect(cwd / "sandbox.db") as conn:
        assert dict(conn.execute("select status, count(*) from inbox_events group by status").fetchall()) == {"done": 4}
        assert conn.execute("select count(*) from tickets").fetchone() == (0,)
