"""Webex disables a webhook after failed deliveries; the watchdog sets the bot's own active again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import ConfigError, load_settings
from bot.watchdog import MAX_WAIT, STABLE, WebhookWatch
from sandbox.demo import ACME_ROOM, ADA_EMAIL, ANNA_EMAIL, SANNE_EMAIL, STAFF_ROOM
from storage import streaks
from storage.models.runtime import WebhookStreak
from tests.harness import SECRET, race

EVERY = timedelta(minutes=5)


def _messages_hook(harness) -> dict:
    return next(w for w in harness.state.webhooks.values() if w["resource"] == "messages")


def _disable_by_failed_deliveries(harness, *, fixed: bool = True) -> dict:
    """Deliveries the bot refuses (a secret it does not know) until Webex disables the webhook;
    `fixed`: the webhook has the right secret again afterwards (the cause is gone)."""
    hook = _messages_hook(harness)
    harness.state.delivery.disable_after = 3
    hook["secret"] = "not-the-bot's"
    before = len(harness.state.deliveries)
    for n in range(3):
        sent = harness.state.post_message(
            ANNA_EMAIL,
            room_id=harness.room(ACME_ROOM)["id"],
            markdown=f"<@personEmail:servicedesk@webex.bot> /ping {n}",
        )
        assert harness.state.wait_delivered(sent["id"], since=before)
    assert hook["status"] == "inactive"
    if fixed:
        hook["secret"] = SECRET  # the webhook stays disabled until someone acts
    return hook


def _puts(harness) -> list:
    """The instants the bot set a webhook (its name, address, secret, status) at Webex."""
    return [r["at"] for r in harness.state.requests if r["method"] == "PUT" and r["path"].startswith("/v1/webhooks/")]


def _told(harness) -> list[str]:
    harness.sender.drain()
    return [m["markdown"] for m in harness.bot_messages(STAFF_ROOM)]


def test_a_disabled_webhook_is_set_active_again_and_the_staff_told_once(harness):
    hook = _disable_by_failed_deliveries(harness)
    watch = WebhookWatch(harness.runtime, every=EVERY)
    assert watch.tick() == 1
    assert hook["status"] == "active"
    harness.sender.drain()
    [told] = harness.bot_messages(STAFF_ROOM)
    assert "**messages/created** webhook" in told["markdown"] and "active again" in told["markdown"]
    assert harness.runtime.metrics.value("servicedesk_webhooks_reactivated_total") == 1

    # Messages reach the bot again.
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"].startswith("pong")

    # Not checked again before the interval; then nothing to do and nothing said.
    assert watch.tick() == 0
    harness.clock.advance(EVERY)
    assert watch.tick() == 0
    harness.sender.drain()
    assert len(harness.bot_messages(STAFF_ROOM)) == 1
    assert harness.runtime.metrics.value("servicedesk_webhook_checks_total", outcome="ok") == 2


def test_an_activation_that_timed_out_but_took_effect_is_told_at_the_next_check(harness, monkeypatch):
    # Once the staff never heard of it: the answer to the activation was lost, and the next check found it active.
    from bot.webex import Transient

    hook = _disable_by_failed_deliveries(harness)
    activate = harness.runtime.webex.activate_webhook

    def timed_out(*args, **kwargs):
        activate(*args, **kwargs)
        raise Transient("update webhook: ReadTimeout", may_have_arrived=True)

    monkeypatch.setattr(harness.runtime.webex, "activate_webhook", timed_out)
    watch = WebhookWatch(harness.runtime, every=EVERY)
    assert watch.tick() == 0 and hook["status"] == "active"
    assert _told(harness) == []
    harness.clock.advance(EVERY)
    watch.tick()
    [told] = _told(harness)
    assert "**messages/created** webhook" in told and "active again" in told
    harness.clock.advance(EVERY)
    watch.tick()
    assert len(_told(harness)) == 1


def test_webex_unreachable_changes_nothing_and_the_next_check_tries_again(harness):
    hook = _disable_by_failed_deliveries(harness)
    watch = WebhookWatch(harness.runtime, every=EVERY)
    harness.state.faults.add("GET", "/v1/webhooks", 503, times=5)
    assert watch.tick() == 0
    assert hook["status"] == "inactive"
    assert harness.runtime.metrics.value("servicedesk_webhook_checks_total", outcome="unreachable") == 1
    while harness.state.faults.take("GET", "/v1/webhooks"):  # the outage ends
        pass
    harness.clock.advance(EVERY)
    assert watch.tick() == 1 and hook["status"] == "active"


def test_webhooks_of_other_integrations_are_left_alone(harness):
    other = dict(_messages_hook(harness), id="OTHER", name="someone else's", status="inactive")
    harness.state.webhooks["OTHER"] = other
    assert WebhookWatch(harness.runtime, every=EVERY).check() == 0
    assert other["status"] == "inactive"


def test_zero_minutes_turns_the_check_off(harness):
    _disable_by_failed_deliveries(harness)
    requests_before = len(harness.state.requests)
    assert WebhookWatch(harness.runtime, every=timedelta(0)).tick() == 0
    assert len(harness.state.requests) == requests_before


def test_the_interval_is_configured_in_minutes():
    assert load_settings({}).webhook_check_minutes == 5
    assert load_settings({"WEBHOOK_CHECK_MINUTES": "0"}).webhook_check_minutes == 0
    assert load_settings({"WEBHOOK_CHECK_MINUTES": "0.05"}).webhook_check_minutes == 0.05  # every 3 s, for drills
    for bad in ("-1", "nan", "1441"):
        with pytest.raises(ConfigError, match="WEBHOOK_CHECK_MINUTES"):
            load_settings({"WEBHOOK_CHECK_MINUTES": bad})
    with pytest.raises(ConfigError, match="WEBHOOK_CHECK_MINUTES"):
        load_settings({"WEBHOOK_CHECK_MINUTES": "soon"})


def test_the_secret_is_sent_again_so_deliveries_are_signed_as_the_bot_expects(harness):
    # Webex lost the secret the bot was registered with: every delivery fails the signature check.
    hook = _disable_by_failed_deliveries(harness, fixed=False)
    assert WebhookWatch(harness.runtime, every=EVERY).tick() == 1
    assert hook["status"] == "active" and hook["secret"] == SECRET
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"].startswith("pong")


def test_another_instances_webhooks_are_left_alone(harness):
    other = dict(_messages_hook(harness), id="ACC", name="servicedesk acceptance messages created", status="inactive")
    harness.state.webhooks["ACC"] = other
    assert WebhookWatch(harness.runtime, every=EVERY).check() == 0
    assert other["status"] == "inactive" and _puts(harness) == []


def test_when_webex_keeps_disabling_it_the_watchdog_backs_off_and_tells_once(harness, db):
    watch = WebhookWatch(harness.runtime, every=EVERY)
    start = harness.clock.now()
    hook = _messages_hook(harness)
    # Webex disables the webhook again after every re-activation; the watchdog looks every 5 minutes.
    while len(_puts(harness)) < 6:
        if hook["status"] == "active":
            _disable_by_failed_deliveries(harness)
        watch.tick()
        harness.clock.advance(EVERY)
    minutes = [int((at - start).total_seconds() // 60) for at in _puts(harness)]
    # 5, 10, 20, 40 minutes between attempts, then MAX_WAIT (an hour); the staff heard of it once.
    assert minutes == [0, 5, 15, 35, 75, 135]
    assert MAX_WAIT == timedelta(minutes=60)
    [told] = _told(harness)
    assert "at most every 60 minutes" in told and "stayed active for 60 minutes" in told
    assert harness.runtime.metrics.value("servicedesk_webhooks_reactivated_total") == 6

    # Active for less than STABLE, then disabled: the same streak, re-activated when the back-off
    # allows (an hour after the last attempt), and not told.
    watch.tick()
    harness.clock.advance(STABLE - EVERY)
    watch.tick()
    _disable_by_failed_deliveries(harness)
    harness.clock.advance(EVERY)
    assert watch.tick() == 1
    assert int((_puts(harness)[-1] - start).total_seconds() // 60) == 200
    assert len(_told(harness)) == 1

    # Active for STABLE: the streak is over; the next disabling is revived at once and told again.
    for _ in range(13):
        harness.clock.advance(EVERY)
        watch.tick()
    with db.scope() as session:
        assert session.get(WebhookStreak, hook["id"]) is None
    _disable_by_failed_deliveries(harness)
    harness.clock.advance(EVERY)
    assert watch.tick() == 1
    assert len(_puts(harness)) == 8 and len(_told(harness)) == 2


def test_two_processes_make_one_attempt_and_tell_once(harness):
    first, second = WebhookWatch(harness.runtime, every=EVERY), WebhookWatch(harness.runtime, every=EVERY)
    _disable_by_failed_deliveries(harness)
    assert first.tick() == 1
    _disable_by_failed_deliveries(harness)  # again, at once: the other process finds it disabled
    assert second.tick() == 0
    assert len(_puts(harness)) == 1 and len(_told(harness)) == 1


def test_two_transactions_taking_an_attempt_at_once_take_one(db, clock):
    now = clock.now()

    def take(session):
        return streaks.take_attempt(session, hook_id="HOOK", now=now, first_wait=EVERY, max_wait=MAX_WAIT)

    assert race(db, take, take) == (1, None)


def test_without_the_secret_a_process_leaves_the_webhooks_alone_unless_serving_unsigned_was_chosen(harness):
    hook = _disable_by_failed_deliveries(harness)
    runtime = harness.runtime
    runtime.settings = runtime.settings.with_(webex_webhook_secret=None)
    assert WebhookWatch(runtime, every=EVERY).tick() == 0
    assert hook["status"] == "inactive" and _puts(harness) == []
    runtime.settings = runtime.settings.with_(webhook_secret_waived=True)
    assert WebhookWatch(runtime, every=EVERY).tick() == 1
    assert hook["status"] == "active" and len(_puts(harness)) == 1


def test_when_the_staff_space_cannot_be_reached_the_admins_are_told(harness):
    harness.remove_bot(STAFF_ROOM, SANNE_EMAIL)
    harness.run()
    told_before = len(harness.direct_messages(ADA_EMAIL))
    _disable_by_failed_deliveries(harness)
    assert WebhookWatch(harness.runtime, every=EVERY).tick() == 1
    harness.sender.drain()
    texts = [m["markdown"] for m in harness.direct_messages(ADA_EMAIL)[told_before:]]
    assert len(texts) == 1 and "**messages/created** webhook" in texts[0]
