"""The in-process harness: the bot and the sandbox Webex talk without a socket, the bot's client
records its calls, and a request slower than its read timeout times out after taking effect."""

from __future__ import annotations

import socket
import time

import pytest
import requests
from flask import Flask

from sandbox.demo import ACME_ROOM, ANNA_EMAIL
from tests.harness.loopback import serve_in_process


def test_a_command_is_answered_without_opening_a_socket(harness, monkeypatch):
    def refuse(*_args: object) -> None:
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    [reply] = harness.bot_messages(ACME_ROOM)
    assert reply["markdown"].startswith("pong")
    [sent] = harness.runtime.webex.calls_to("create_message")
    assert sent.kwargs["room_id"] == harness.room(ACME_ROOM)["id"] and sent.result["id"] == reply["id"]


def test_a_request_slower_than_its_read_timeout_times_out_after_taking_effect():
    done = []
    app = Flask("slow")

    @app.post("/work")
    def work() -> str:
        # Slower than the read timeout: the loopback times requests on the real clock, as a socket would.
        time.sleep(0.2)
        done.append(True)
        return "done"

    server = serve_in_process("slow", app)
    try:
        with pytest.raises(requests.ReadTimeout):
            requests.post(f"{server.url}/work", timeout=(1, 0.05))
        assert done == [True]
        assert requests.post(f"{server.url}/work", timeout=1).text == "done"
    finally:
        server.stop()
    with pytest.raises(requests.ConnectionError):  # no longer answered in process: a name that resolves nowhere
        requests.post(f"{server.url}/work", timeout=1)
