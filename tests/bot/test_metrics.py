"""GET /metrics: what this process did, and the shared queues as the database holds them; served
on an address of its own, and on the webhook port only to the bearer of METRICS_TOKEN."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Runtime, create_app, create_metrics_app
from bot.config import Settings
from bot.metrics import Metrics, QueueCollector
from bot.scheduler import TimerRegistry, schedule
from bot.security import sign
from bot.serving import serve_in_thread
from bot.webex import WebexClient
from sandbox.demo import ACME_ROOM, ANNA_EMAIL
from storage.db import Database
from tests.harness import SECRET
from tests.harness.loopback import serve_in_process

TOKEN = "metrics-token-0123456789"


@pytest.fixture
def metrics_url(harness):
    """The harness's runtime's /metrics on an address of its own, as `run_bot.py serve` serves it (in process)."""
    server = serve_in_process("metrics", create_metrics_app(harness.runtime))
    yield server.url
    server.stop()


def _scrape(url: str, **headers: str) -> dict[tuple[str, tuple], float]:
    response = requests.get(f"{url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def _post(url: str, body: bytes, signature: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Spark-Signature"] = signature
    return requests.post(f"{url}/webhooks/webex", data=body, headers=headers, timeout=10).status_code


def test_webhooks_are_counted_by_outcome(harness, metrics_url):
    url = harness.bot.url
    body = json.dumps({"resource": "messages", "event": "created", "data": {"id": "M-metrics"}}).encode()
    assert _post(url, body, sign(body, SECRET)) == 200
    assert _post(url, body, sign(body, SECRET)) == 200  # the same event again
    assert _post(url, body, "0" * 40) == 401
    assert _post(url, b"[not an event]", sign(b"[not an event]", SECRET)) == 400
    seen = _scrape(metrics_url)
    for outcome, count in (("accepted", 1), ("duplicate", 1), ("bad_signature", 1), ("bad_body", 1)):
        assert seen[("servicedesk_webhooks_total", (("outcome", outcome),))] == count
    assert seen[("servicedesk_inbox_events", (("status", "pending"),))] == 1


def test_a_command_shows_in_the_queues_the_counters_and_its_family_latency(harness, metrics_url):
    url = metrics_url
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.clock.advance(timedelta(seconds=3))
    assert _scrape(url)[("servicedesk_inbox_lag_seconds", ())] == 3.0
    harness.inbox.drain()
    seen = _scrape(url)
    assert seen[("servicedesk_inbox_lag_seconds", ())] == 0.0
    assert seen[("servicedesk_inbox_events", (("status", "done"),))] == 1
    assert seen[("servicedesk_outbox_messages", (("status", "pending"),))] == 1
    assert seen[("servicedesk_command_latency_seconds_count", (("family", "help"),))] == 1
    assert seen[("servicedesk_command_latency_seconds_sum", (("family", "help"),))] == 3.0
    assert seen[("servicedesk_handler_seconds_count", (("family", "help"),))] == 1

    harness.sender.metrics = harness.runtime.metrics  # the workers share the runtime's
    harness.state.faults.add("POST", "/v1/messages", 429, headers={"Retry-After": "1"})
    harness.sender.drain()
    harness.clock.advance(timedelta(seconds=1))
    harness.sender.drain()
    seen = _scrape(url)
    assert seen[("servicedesk_outbox_messages", (("status", "sent"),))] == 1
    assert seen[("servicedesk_outbox_sent_total", ())] == 1
    assert seen[("servicedesk_webex_429_total", (("worker", "outbox"),))] == 1
    assert [m["markdown"][:4] for m in harness.bot_messages(ACME_ROOM)] == ["pong"]


def test_timers_due_fired_and_late(db, clock):
    registry = TimerRegistry()
    registry.handler("test.noop")(lambda tctx, timer: None)
    runtime = Runtime(
        settings=Settings(),
        db=db,
        webex=WebexClient(access_token="t", base_url="http://127.0.0.1:9/v1/"),
        clock=clock,
        timers=registry,
    )
    from bot.scheduler import Scheduler

    scheduler = Scheduler(db, clock, worker_id="t", registry=registry, runtime=runtime)
    with db.scope() as session:
        schedule(session, kind="test.noop", ref="on-time", due_at=clock.now(), now=clock.now())
        schedule(session, kind="test.noop", ref="late", due_at=clock.now() + timedelta(seconds=1), now=clock.now())
    client = create_metrics_app(runtime).test_client()
    clock.advance(timedelta(seconds=1))
    text = client.get("/metrics").get_data(as_text=True)
    assert "servicedesk_timers_due 2.0" in text
    scheduler.run_once()  # the first, 1 s after it was due: on time
    clock.advance(timedelta(seconds=9))
    scheduler.run_due()  # the second, 9 s after: late
    assert runtime.metrics.value("servicedesk_timers_fired_total") == 2
    assert runtime.metrics.value("servicedesk_timers_late_total") == 1
    assert "servicedesk_timers_due 0.0" in client.get("/metrics").get_data(as_text=True)


def test_an_unreadable_database_is_reported_not_raised(tmp_path, clock):
    broken = Database(f"sqlite:///{tmp_path}/missing/dir/bot.db")
    metrics = Metrics()
    metrics.registry.register(QueueCollector(broken, clock))
    assert metrics.value("servicedesk_database_up") == 0
    assert b"servicedesk_database_up 0.0" in metrics.exposition()
    broken.dispose()


def test_runtimes_in_one_process_keep_their_own_figures():
    first, second = Metrics(), Metrics()
    first.webhook("accepted")
    assert (
        first.value("servicedesk_webhooks_total", outcome="accepted"),
        second.value("servicedesk_webhooks_total", outcome="accepted"),
    ) == (1, 0)


def test_the_webhook_port_serves_no_metrics(harness):
    assert requests.get(f"{harness.bot.url}/metrics", timeout=10).status_code == 404


@pytest.mark.http
def test_with_a_token_the_webhook_port_serves_metrics_to_its_bearer_only(db, clock):
    webex = WebexClient(access_token="t", base_url="http://127.0.0.1:9/v1/")
    runtime = Runtime(
        settings=Settings(webex_webhook_secret=SECRET, metrics_token=TOKEN), db=db, webex=webex, clock=clock
    )
    server = serve_in_thread(create_app(runtime))
    try:
        refused = [
            requests.get(f"{server.url}/metrics", headers=headers, timeout=10).status_code
            for headers in (
                {},
                {"Authorization": f"Bearer {TOKEN}x"},
                {"Authorization": f"Bearer {TOKEN[:-1]}"},
                {"Authorization": TOKEN},
                {"Authorization": f"Basic {TOKEN}"},
            )
        ]
        assert refused == [404] * 5
        assert _scrape(server.url, Authorization=f"Bearer {TOKEN}")[("servicedesk_database_up", ())] == 1
    finally:
        server.stop()
