"""Wiring: the Runtime (settings, database, clock, Webex, router, wake-ups) and the Flask app."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from flask import Flask

from bot import desk, sla
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.metrics import Metrics
from bot.router import Router, router as default_router
from bot.scheduler import TimerRegistry, timers as default_timers
from bot.webex import WebexClient
from storage.db import Database

log = logging.getLogger(__name__)


def bot_version() -> str:
    """The installed package version."""
    try:
        return version("webex-servicedesk")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class Runtime:
    """Everything a worker, the endpoint and a handler may need; built once per process."""

    settings: Settings
    db: Database
    webex: WebexClient
    clock: Clock = field(default_factory=SystemClock)
    router: Router = field(default_factory=lambda: default_router)
    timers: TimerRegistry = field(default_factory=lambda: default_timers)
    metrics: Metrics = field(default_factory=Metrics)
    version: str = field(default_factory=bot_version)
    inbox_event: threading.Event = field(default_factory=threading.Event)
    outbox_event: threading.Event = field(default_factory=threading.Event)

    def wake_inbox(self) -> None:
        """Tell in-process inbox workers there is work (other processes poll)."""
        self.inbox_event.set()

    def wake_outbox(self) -> None:
        """Tell in-process senders there is work."""
        self.outbox_event.set()


def load_commands() -> None:
    """Import every command family so its handlers register with the router."""
    import commands  # noqa: F401  (registration happens at import)


def build_runtime(settings: Settings, *, clock: Clock | None = None, webex: WebexClient | None = None) -> Runtime:
    """Create the runtime for `settings`; no network I/O happens here."""
    load_commands()
    sla.configure(settings.service_levels_file)
    desk.configure(settings.desk_file)
    token = settings.webex_access_token
    if webex is None:
        if not token:
            raise ValueError("WEBEX_ACCESS_TOKEN is required to talk to Webex")
        webex = WebexClient(access_token=token, base_url=settings.webex_base_url, timeout_s=settings.webex_timeout_seconds)
    return Runtime(settings=settings, db=Database(settings.database_url), webex=webex, clock=clock or SystemClock())


def create_app(runtime: Runtime) -> Flask:
    """The webhook application (no I/O at import or creation)."""
    from bot.webhook import blueprint

    app = Flask("servicedesk")
    app.extensions["servicedesk"] = runtime
    app.register_blueprint(blueprint)
    return app
