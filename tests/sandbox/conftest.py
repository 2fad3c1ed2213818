"""Fixtures: a demo sandbox on the settable clock served over HTTP, SDK clients per person, and a webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask, request
from webexpythonsdk import WebexAPI

from bot.serving import RunningServer, serve_in_thread
from sandbox.api import create_sandbox_app
from sandbox.demo import BOT_TOKEN, build_demo_state, token_for
from sandbox.state import SandboxState
from tests.contract import webex_contract


@dataclass
class Receiver:
    """A tiny webhook target that records raw deliveries and answers `status`."""

    status: int = 200
    received: list[dict] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    server: RunningServer | None = None

    @property
    def url(self) -> str:
        """Where webhooks should point."""
        assert self.server is not None
        return f"{self.server.url}/hook"

    def wait(self, n: int, timeout: float = 10.0) -> list[dict]:
        """Block until `n` deliveries arrived; return them."""
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.received) >= n, timeout=timeout), self.received
            return list(self.received)


def make_receiver(status: int = 200) -> Receiver:
    """Start a receiver on a free port."""
    receiver = Receiver(status=status)
    app = Flask("receiver")

    @app.post("/hook")
    def hook():
        with receiver.changed:
            receiver.received.append({"body": request.get_data(), "headers": dict(request.headers)})
            receiver.changed.notify_all()
        return "", receiver.status

    receiver.server = serve_in_thread(app)
    return receiver


@pytest.fixture
def state(clock) -> Iterator[SandboxState]:
    """The demo sandbox on the test's settable clock (timestamps, rate limit refills)."""
    state = build_demo_state(now=clock.now)
    yield state
    state.close()


@pytest.fixture
def server(state: SandboxState) -> Iterator[RunningServer]:
    # Answers must be as Webex documents them; requests too, unless the sandbox refused them
    # (these tests send bad requests on purpose).
    webex_contract.watch(state, strict_requests=False)
    running = serve_in_thread(create_sandbox_app(state))
    yield running
    running.stop()


@pytest.fixture
def api_for(server: RunningServer):
    """SDK client factory: api_for(email) or api_for(token=...)."""

    def make(email: str | None = None, *, token: str | None = None) -> WebexAPI:
        return WebexAPI(access_token=token or token_for(email), base_url=f"{server.url}/v1/", wait_on_rate_limit=False)

    return make


@pytest.fixture
def bot_api(api_for) -> WebexAPI:
    return api_for(token=BOT_TOKEN)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = make_receiver()
    yield running
    running.server.stop()


@pytest.fixture
def failing_receiver() -> Iterator[Receiver]:
    running = make_receiver(status=500)
    yield running
    running.server.stop()
