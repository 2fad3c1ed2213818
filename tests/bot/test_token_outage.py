"""Webex refuses the bot's token (401 on every call): the bot holds everything, loses nothing.

While the token is refused no event or message is marked failed; the endpoint goes on
accepting webhooks; /healthz says so with 200; a gauge says so; one line a minute is logged;
when the token works again everything is delivered once, in order, P1 pages first.
"""

import logging
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BOT_TOKEN, BRAM_EMAIL, ERIK_EMAIL, POLDER_ROOM, STAFF_ROOM
from storage.models.runtime import InboxEvent, OutboxMessage
from tests.harness import tick


def _revoke(harness) -> str:
    harness.state.revoke_token(BOT_TOKEN)
    return harness.state.tokens[BOT_TOKEN]


def _restore(harness, person_id: str) -> None:
    harness.state.restore_token(BOT_TOKEN)


def _counts(harness, model) -> dict[str, int]:
    with harness.runtime.db.scope() as s:
        return dict(s.execute(select(model.status, func.count()).group_by(model.status)).all())


def _health(harness) -> dict:
    response = requests.get(f"{harness.bot.url}/healthz", timeout=10)
    assert response.status_code == 200
    return response.json()


def _order(harness) -> list[str]:
    """Room titles of the bot's messages in the order the sandbox received them."""
    me = harness.runtime.webex.identity().person_id
    titles = {r["id"]: r["title"] for r in harness.state.rooms.values()}
    return [
        titles[e["message"]["roomId"]]
        for e in harness.state.events
        if e["kind"] == "created" and e["message"]["personId"] == me
    ]


def test_a_revoked_token_holds_everything_and_a_restored_one_delivers_it_once_in_order(harness, clock):
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 phone=+31201234567 Modems down in Utrecht")
    harness.inbox.drain()  # the P1 is registered and its page queued; nothing is sent yet
    bot_id = _revoke(harness)
    harness.say(BRAM_EMAIL, POLDER_ROOM, "/ping")
    harness.run()
    assert harness.runtime.access.state == "unauthorized"
    assert _health(harness)["webex"] == "unauthorized"
    assert harness.runtime.metrics.value("servicedesk_webex_unauthorized") == 1
    # Webhooks go on being accepted and stored while the token is refused.
    harness.say(ANNA_EMAIL, ACME_ROOM, "/tickets")
    for seconds in (1, 2, 5, 30, 60):
        tick(harness, clock.now() + timedelta(seconds=seconds))
    assert "failed" not in _counts(harness, InboxEvent) and "failed" not in _counts(harness, OutboxMessage)
    assert _counts(harness, InboxEvent)["pending"] == 2
    assert _order(harness) == []  # nothing reached Webex

    _restore(harness, bot_id)
    tick(harness, clock.now() + timedelta(minutes=1))
    assert harness.runtime.access.state == "ok" and _health(harness)["webex"] == "ok"
    # The P1 page went out first, before the older messages of the other spaces; then each
    # space's messages in the order they were queued.
    assert _order(harness) == ["Erik Visser", ACME_ROOM, ACME_ROOM, ACME_ROOM, STAFF_ROOM, POLDER_ROOM]
    [page] = harness.direct_messages(ERIK_EMAIL)
    assert page["markdown"].startswith("P1 page (#1) INC-1001")
    acme = [m["markdown"] for m in harness.bot_messages(ACME_ROOM)]
    assert acme[0].startswith("**INC-1001** — incident registered") and acme[2].startswith(
        "**Open tickets of Acme Logistics**"
    )
    assert [m["markdown"][:4] for m in harness.bot_messages(POLDER_ROOM)] == ["pong"]
    assert set(_counts(harness, InboxEvent)) == {"done"} and set(_counts(harness, OutboxMessage)) == {"sent"}
    # Nothing doubled: each queued message exists once at Webex.
    with harness.runtime.db.scope() as s:
        sent_ids = list(s.scalars(select(OutboxMessage.webex_message_id).where(OutboxMessage.action == "create")))
    assert (
        len(sent_ids)
        == len(set(sent_ids))
        == sum(1 for e in harness.state.events if e["kind"] == "created" and e["message"]["personId"] == bot_id)
    )


def test_while_refused_one_line_a_minute_is_logged_and_the_probe_backs_off(harness, clock, caplog):
    bot_id = _revoke(harness)
    harness.say(BRAM_EMAIL, POLDER_ROOM, "/ping")
    with caplog.at_level(logging.ERROR, logger="bot.access"):
        harness.run()
        for _ in range(18):  # three minutes in steps of ten seconds
            clock.set(clock.now() + timedelta(seconds=10))
            harness.run()
    lines = [r for r in caplog.records if r.name == "bot.access"]
    assert 3 <= len(lines) <= 4, [r.getMessage() for r in lines]
    probes = [r for r in harness.state.requests if r["path"] == "/v1/people/me" and r["status"] == 401]
    # 1, 2, 4, 8, 16, 32, 60, 60 … seconds apart: about 7 probes in three minutes, not 18.
    assert 4 <= len(probes) <= 9, len(probes)
    _restore(harness, bot_id)
    clock.set(clock.now() + timedelta(seconds=61))
    harness.run()
    assert [m["markdown"][:4] for m in harness.bot_messages(POLDER_ROOM)] == ["pong"]


def test_a_401_on_sending_puts_the_message_back_untouched(harness, clock):
    harness.say(BRAM_EMAIL, POLDER_ROOM, "/ping")
    harness.inbox.drain()
    bot_id = _revoke(harness)
    harness.sender.drain()
    with harness.runtime.db.scope() as s:
        [row] = s.scalars(select(OutboxMessage))
        assert (row.status, row.attempts, row.attempt_started_at) == ("pending", 0, None)
    _restore(harness, bot_id)
    clock.set(clock.now() + timedelta(seconds=2))
    harness.sender.drain()
    assert [m["markdown"][:4] for m in harness.bot_messages(POLDER_ROOM)] == ["pong"]


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_on_the_probe_keeps_holding(harness, clock, status):
    bot_id = _revoke(harness)
    harness.say(BRAM_EMAIL, POLDER_ROOM, "/ping")
    harness.run()
    _restore(harness, bot_id)
    harness.state.faults.add("GET", "/v1/people/me", status)
    clock.set(clock.now() + timedelta(seconds=2))
    harness.run()
    assert harness.runtime.access.state == "unauthorized" and harness.bot_messages(POLDER_ROOM) == []
    clock.set(clock.now() + timedelta(seconds=5))
    harness.run()
    assert [m["markdown"][:4] for m in harness.bot_messages(POLDER_ROOM)] == ["pong"]


def test_a_token_refused_inside_a_command_holds_that_command_too(harness, clock):
    from sandbox.demo import SANNE_EMAIL

    harness.say(SANNE_EMAIL, STAFF_ROOM, "/ping")  # the directory learns Sanne's name
    harness.run()
    harness.state.faults.add("GET", "/v1/people", 401)  # the rota command's own lookup at Webex
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/oncall set iot-oncall sanne@iot-desk.example erik@iot-desk.example")
    harness.run()
    assert harness.runtime.access.state == "unauthorized"
    assert len(harness.bot_messages(STAFF_ROOM)) == 1 and _counts(harness, InboxEvent).get("pending") == 1
    tick(harness, clock.now() + timedelta(seconds=1))
    assert harness.runtime.access.state == "ok"
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"].startswith("The rota of **iot-oncall** is now: sanne@")
    assert "failed" not in _counts(harness, InboxEvent)
