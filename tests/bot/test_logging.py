"""LOG_FORMAT=json: one JSON object per line, carrying the event, space and ticket being worked on."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot import logs
from bot.config import ConfigError, load_settings
from sandbox.demo import ACME_ROOM, ANNA_EMAIL
from tests.harness import Harness


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_record_is_one_json_object_with_the_bound_fields(json_lines):
    log = logging.getLogger("bot.example")
    with logs.bound(event="M1", space="R1", ticket=None):
        logs.note(ticket="INC-1001")
        log.info("working on %s", "it")
    log.warning("outside")
    inside, outside = json_lines()
    assert inside["message"] == "working on it" and inside["level"] == "INFO" and inside["logger"] == "bot.example"
    assert (inside["event"], inside["space"], inside["ticket"]) == ("M1", "R1", "INC-1001")
    assert inside["time"].endswith("+00:00")
    assert "event" not in outside and "ticket" not in outside


def test_an_error_carries_its_traceback(json_lines):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("bot.example").exception("failed")
    [line] = json_lines()
    assert line["message"] == "failed" and "RuntimeError: boom" in line["error"]


def test_a_handled_command_logs_its_event_space_and_ticket(db, clock, json_lines):
    harness = Harness(db, clock)
    try:
        harness.seed_directory()
        message = harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline in Utrecht")
        harness.run()
        opened = [line for line in json_lines() if line["message"].startswith("ticket INC-1001 opened")]
        assert len(opened) == 1
        assert opened[0]["event"] == message["id"] and opened[0]["space"] == harness.room(ACME_ROOM)["id"]
        assert opened[0]["ticket"] == "INC-1001"
    finally:
        harness.close()


def test_log_format_is_text_or_json_and_anything_else_stops_start_up():
    assert load_settings({}).log_format == "text"
    assert load_settings({"LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT must be text or json, got 'xml'"):
        load_settings({"LOG_FORMAT": "xml"})


def test_configure_refuses_an_unknown_format():
    with pytest.raises(ValueError):
        logs.configure("INFO", "yaml")
