"""Rate limits on by default: a token bucket per token, method and endpoint, refilled on the
sandbox's clock, 429 with Retry-After beyond it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from webexpythonsdk import RateLimitError

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BOT_EMAIL, BOT_TOKEN
from sandbox.state import RateLimit


def _limited(call) -> int:
    with pytest.raises(RateLimitError) as exc:
        call()
    return exc.value.retry_after


def test_on_by_default_with_a_burst_of_50_then_429(bot_api, state):
    assert (
        (state.rate_limit.per_second, state.rate_limit.burst) == (RateLimit.PER_SECOND, RateLimit.BURST) == (10.0, 50)
    )
    room_id = state.room_by_title(ACME_ROOM)["id"]
    for n in range(50):
        bot_api.messages.create(roomId=room_id, text=f"m{n}")
    # The 51st at the same instant waits for one token at 10 a second: Retry-After 1 (whole seconds).
    assert _limited(lambda: bot_api.messages.create(roomId=room_id, text="one too many")) == 1
    assert len(state.messages_in(room_id)) == 50
    assert (state.rate_limit.allowed, state.rate_limit.refused) == (50, 1)


def test_buckets_are_per_token_method_and_endpoint(api_for, bot_api, state):
    state.rate_limit.configure(per_second=1, burst=2)
    room_id = state.room_by_title(ACME_ROOM)["id"]
    for _ in range(2):
        bot_api.messages.create(roomId=room_id, text="x")
    assert _limited(lambda: bot_api.messages.create(roomId=room_id, text="x")) == 1
    # GET messages, another endpoint and another token each have their own bucket.
    sent = state.messages_in(room_id)[0]["id"]
    assert bot_api.messages.get(sent).id == sent
    assert bot_api.people.me().emails == [BOT_EMAIL]
    assert api_for(ANNA_EMAIL).messages.create(roomId=room_id, text="anna").text == "anna"


def test_refilled_on_the_sandbox_clock(bot_api, state, clock):
    state.rate_limit.configure(per_second=0.5, burst=2)
    bot_api.people.me()
    bot_api.people.me()
    # One token comes back every 2 s of the sandbox's clock; the real time the test takes does not count.
    assert _limited(bot_api.people.me) == 2
    clock.advance(timedelta(seconds=1))
    assert _limited(bot_api.people.me) == 1
    clock.advance(timedelta(seconds=1))
    assert bot_api.people.me().emails == [BOT_EMAIL]
    assert _limited(bot_api.people.me) == 2
    # A full bucket holds no more than the burst, however long it rested.
    clock.advance(timedelta(hours=1))
    bot_api.people.me()
    bot_api.people.me()
    assert _limited(bot_api.people.me) == 2


def test_the_429_is_webex_shaped_and_counted_for_the_stats(server, state):
    state.rate_limit.configure(per_second=0.1, burst=1)
    auth = {"Authorization": f"Bearer {BOT_TOKEN}"}
    assert requests.get(f"{server.url}/v1/people/me", headers=auth, timeout=10).status_code == 200
    refused = requests.get(f"{server.url}/v1/people/me", headers=auth, timeout=10)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "10"
    assert refused.json()["trackingId"] == refused.headers["TrackingID"] and refused.json()["errors"]
    stats = requests.get(f"{server.url}/_sandbox/stats", timeout=10).json()
    assert (stats["allowed"], stats["rate_limited"]) == (1, 1)
    # The page's helpers are not Webex and are not limited.
    for _ in range(3):
        assert requests.get(f"{server.url}/_sandbox/directory", timeout=10).status_code == 200


def test_switched_off_and_bad_settings_refused(bot_api, state):
    state.rate_limit.configure(per_second=None)
    for _ in range(60):
        bot_api.people.me()
    assert state.rate_limit.refused == 0
    with pytest.raises(ValueError):
        state.rate_limit.configure(per_second=-1)
    with pytest.raises(ValueError):
        state.rate_limit.configure(per_second=1, burst=0)
    assert state.rate_limit.per_second is None


def test_a_clock_set_back_does_not_refill():
    limit = RateLimit(per_second=1, burst=1)
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    key = ("token", "GET", "people")
    assert limit.take(key, t0) == 0
    assert limit.take(key, t0 - timedelta(hours=1)) == 1.0
    assert limit.take(key, t0 - timedelta(hours=1) + timedelta(seconds=1)) == 0
