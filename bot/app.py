"""Wiring: the Runtime (settings, database, clock, Webex, router, wake-ups) and the Flask app."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from flask import Flask

from bot import i18n, spaces, undeliverable
from bot.access import WebexAccess
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.metrics import Metrics
from bot.router import Router
from bot.scheduler import TimerRegistry
from bot.webex import WebexClient
from bot.webhook import MAX_BODY, blueprint, metrics_blueprint
from rules import Rules
from rules import load as load_rules
from storage.db import Database

log = logging.getLogger(__name__)


def bot_version() -> str:
    """The installed package version."""
    try:
        return version("webex-servicedesk")
    except PackageNotFoundError:
        return "0+unknown"


class Door:
    """Webhook requests in flight in this process. Workers wait at the door between steps while
    any is in flight (up to a bound), so under a backlog the acknowledgement, which Webex times,
    does not queue for the interpreter behind handlers whose answers are late anyway."""

    MAX_WAIT_S = 0.05

    def __init__(self) -> None:
        self._inside = 0
        self._clear = threading.Condition()

    def __enter__(self) -> Door:
        with self._clear:
            self._inside += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._clear:
            self._inside -= 1
            if not self._inside:
                self._clear.notify_all()

    def wait_clear(self, timeout: float = MAX_WAIT_S) -> None:
        """Return when no request is in flight, or after `timeout`."""
        with self._clear:
            if self._inside:
                self._clear.wait_for(lambda: not self._inside, timeout=timeout)


class Bell:
    """Wakes idle worker threads, one per ring: a stored event or queued message wakes one
    thread to claim it instead of every thread of the process, of which all but one would find
    nothing. A ring while every thread is busy is kept (up to `cap`), so none is lost."""

    def __init__(self, cap: int = 64) -> None:
        self.cap = cap  # more rings than threads to wake would only wake them to find nothing
        self._rings = 0
        self._cond = threading.Condition()

    def ring(self, times: int = 1) -> None:
        with self._cond:
            self._rings = min(self._rings + times, self.cap)
            self._cond.notify(times)

    def ring_all(self) -> None:
        """Wake every waiting thread (to stop)."""
        with self._cond:
            self._rings = self.cap
            self._cond.notify_all()

    def is_set(self) -> bool:
        """Whether a ring is waiting for a thread."""
        with self._cond:
            return self._rings > 0

    def wait(self, timeout: float) -> bool:
        """Take a ring, waiting up to `timeout` for one; False when none came."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._rings > 0, timeout=timeout):
                return False
            self._rings -= 1
            return True


@dataclass
class Runtime:
    """Everything a worker, the endpoint and a handler may need; built once per process."""

    settings: Settings
    db: Database
    webex: WebexClient
    clock: Clock = field(default_factory=SystemClock)
    router: Router = field(default_factory=Router)
    timers: TimerRegistry = field(default_factory=TimerRegistry)
    metrics: Metrics = field(default_factory=Metrics)
    version: str = field(default_factory=bot_version)
    inbox_bell: Bell = field(default_factory=Bell)
    outbox_bell: Bell = field(default_factory=Bell)
    door: Door = field(default_factory=Door)
    # The calendars, SLA profiles and desk (the shipped ones unless the settings name files).
    rules: Rules = field(default_factory=lambda: rules_for(None))
    # Whether Webex accepts the token (shared by this process's workers).
    access: WebexAccess = field(init=False)

    def __post_init__(self) -> None:
        self.access = WebexAccess(self.metrics)

    def wake_inbox(self) -> None:
        """Tell in-process inbox workers there is work (other processes poll)."""
        self.inbox_bell.ring()

    def wake_outbox(self) -> None:
        """Tell in-process senders there is work."""
        self.outbox_bell.ring()


def rules_for(settings: Settings | None) -> Rules:
    """The rules the settings name (SERVICE_LEVELS_FILE, DESK_FILE), checked against the catalogues."""
    if settings is None:
        return load_rules(naming=i18n.naming())
    return load_rules(settings.service_levels_file, settings.desk_file, naming=i18n.naming())


# What the composition root (run_bot.py) passes in: it registers every command family
# (commands.register), so the runtime never imports the families.
Register = Callable[[Router, TimerRegistry], None]


def registries(register: Register) -> tuple[Router, TimerRegistry]:
    """A router and a timer registry holding the runtime's own handlers and all that `register` adds."""
    router, timers = Router(), TimerRegistry()
    undeliverable.register(timers)
    # The runtime's own listener first: a space Webex refuses posts to is marked unreachable.
    timers.on_undeliverable(spaces.on_undeliverable)
    register(router, timers)
    return router, timers


def build_app(
    settings: Settings,
    register: Register,
    *,
    clock: Clock | None = None,
    webex: WebexClient | None = None,
    db: Database | None = None,
    rules: Rules | None = None,
) -> Runtime:
    """The runtime for `settings`, with the router and timers `register` fills and the rules the
    settings name; no network I/O happens here. `clock`, `webex`, `db` and `rules` replace the real
    ones (tests, the sandbox)."""
    router, timers = registries(register)
    if webex is None:
        token = settings.webex_access_token
        if not token:
            raise ValueError("WEBEX_ACCESS_TOKEN is required to talk to Webex")
        webex = WebexClient(
            access_token=token, base_url=settings.webex_base_url, timeout_s=settings.webex_timeout_seconds
        )
    return Runtime(
        settings=settings,
        db=db or Database(settings.database_url),
        webex=webex,
        clock=clock or SystemClock(),
        router=router,
        timers=timers,
        rules=rules or rules_for(settings),
    )


def create_app(runtime: Runtime, *, open_metrics: bool = False) -> Flask:
    """The webhook application and /healthz (no I/O at import or creation).

    GET /metrics is served here only to the bearer of METRICS_TOKEN, or to anyone with
    `open_metrics` (the local sandbox); `serve` answers it on an address of its own
    (`create_metrics_app`).
    """
    app = Flask("servicedesk")
    app.extensions["servicedesk"] = runtime
    # Werkzeug refuses a longer body with 413 before reading it: by Content-Length, or as a
    # chunked body goes past it.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.register_blueprint(blueprint)
    if open_metrics or runtime.settings.metrics_token:
        app.config["METRICS_TOKEN"] = None if open_metrics else runtime.settings.metrics_token
        app.register_blueprint(metrics_blueprint)
    return app


def create_metrics_app(runtime: Runtime) -> Flask:
    """GET /metrics alone, for an address of its own (METRICS_HOST:METRICS_PORT)."""
    app = Flask("servicedesk-metrics")
    app.extensions["servicedesk"] = runtime
    app.config["MAX_CONTENT_LENGTH"] = 0
    app.register_blueprint(metrics_blueprint)
    return app
