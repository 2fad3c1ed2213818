"""Starting the bot: against Webex, as workers only, or wired to the local sandbox."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from bot import hooks
from bot.app import Runtime, build_runtime, create_app, create_metrics_app
from bot.config import Settings, require_webhook_secret
from bot.serving import RunningServer, make_server
from bot.webex import WebexClient
from bot.webhook import MAX_BODY
from bot.workers import Workers
from storage.migrate import upgrade

log = logging.getLogger(__name__)

WEBHOOK_PATH = hooks.PATH
SANDBOX_DATABASE = "sandbox.db"
SANDBOX_STATE = "sandbox.json"
_BOT_PATHS = ("/webhooks/", "/healthz", "/metrics")
# How long a thread may hold the GIL while another waits for it. The bot's threads hand every
# event on (HTTP thread → inbox worker → outbox sender); at Python's default of 5 ms each
# hand-off can wait that long. Measured with bench/webhook.py at 200 webhooks/s: 1 ms cut the
# acknowledgement p99 from 120 to 43 ms and the queueing behind it by two thirds.
SWITCH_INTERVAL_S = 0.001


def tune_interpreter() -> None:
    """Settings for a long-running bot process (serve, worker, sandbox)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def register_webhooks(webex: WebexClient, *, public_url: str, secret: str, instance: str) -> list[dict]:
    """Make sure exactly this instance's webhooks point at `public_url`, signed with `secret`; idempotent."""
    return hooks.register(webex, public_url=public_url, secret=secret, instance=instance)


def check_webhook_secret(settings: Settings) -> None:
    """Refuse to serve webhooks without WEBEX_WEBHOOK_SECRET unless it was waived; a waived secret is logged as a warning."""
    require_webhook_secret(settings)
    if not settings.webex_webhook_secret:
        log.warning("WEBEX_WEBHOOK_SECRET is not set and --no-webhook-secret was given: webhook deliveries are accepted "
                    "without a signature, from anyone who can reach %s", WEBHOOK_PATH)


class _Dispatch:
    """One port for the sandbox: the bot's paths go to the bot, everything else to the sandbox API."""

    def __init__(self, sandbox_app) -> None:
        self.sandbox_app = sandbox_app
        self.bot_app = None

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if self.bot_app is not None and path.startswith(_BOT_PATHS):
            return self.bot_app(environ, start_response)
        return self.sandbox_app(environ, start_response)


@dataclass
class Stack:
    """A running bot: its runtime, HTTP server and workers (and the sandbox state, if any)."""

    runtime: Runtime
    server: RunningServer | None
    workers: Workers | None
    sandbox_state: object | None = None
    keeper: object | None = None
    metrics_server: RunningServer | None = None

    def stop(self) -> None:
        """Stop workers and the servers (and keep the sandbox for the next start)."""
        if self.workers is not None:
            self.workers.stop()
        if self.server is not None:
            self.server.stop()
        if self.metrics_server is not None:
            self.metrics_server.stop()
        if self.keeper is not None:
            self.keeper.stop()
        close = getattr(self.sandbox_state, "close", None)
        if close is not None:
            close()
        self.runtime.db.dispose()


def _serve(app, *, host: str, port: int, name: str = "http", threads: int = 8, max_body: int | None = None) -> RunningServer:
    server = make_server(app, host=host, port=port, threads=threads, max_body=max_body)
    port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    return RunningServer(server=server, thread=thread, host=host, port=port)


def start_serve(settings: Settings, *, with_workers: bool = True) -> Stack:
    """The webhook server (and in-process workers) against real Webex, and GET /metrics on an
    address of its own (METRICS_HOST:METRICS_PORT, loopback unless told)."""
    check_webhook_secret(settings)
    runtime = build_runtime(settings)
    upgrade(runtime.db.engine)
    # Nothing but a webhook is ever posted here: waitress refuses a longer body before reading it.
    server = _serve(create_app(runtime), host=settings.bot_host, port=settings.bot_port, max_body=MAX_BODY)
    metrics = _serve(create_metrics_app(runtime), host=settings.metrics_host, port=settings.metrics_port, name="metrics",
                     threads=2, max_body=0)
    server.thread.start()
    metrics.thread.start()
    workers = Workers(runtime) if with_workers else None
    if workers:
        workers.start()
    log.info("webhook endpoint listening on %s%s, metrics on %s/metrics", server.url, WEBHOOK_PATH, metrics.url)
    return Stack(runtime=runtime, server=server, workers=workers, metrics_server=metrics)


def lower_priority(nice: int) -> int:
    """Run this process at least `nice` below normal CPU priority (never raises it); the nice value now."""
    if not hasattr(os, "getpriority"):
        return 0
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if nice > current:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    return os.getpriority(os.PRIO_PROCESS, 0)


def start_worker(settings: Settings) -> Stack:
    """Workers only (scale-out); the schema must be current already (`db upgrade`).

    The process runs `worker_nice` below normal priority: on a host shared with web processes a
    burst of webhooks is then acknowledged at once and queued, instead of waiting for the CPU
    behind the work it queues.
    """
    lower_priority(settings.worker_nice)
    runtime = build_runtime(settings)
    workers = Workers(runtime)
    workers.start()
    log.info("workers started: %d inbox, %d outbox, 1 timer", settings.inbox_threads, settings.outbox_threads)
    return Stack(runtime=runtime, server=None, workers=workers)


def sandbox_settings(settings: Settings, *, explicit_database: bool, cwd: Path, reset: bool = False) -> Settings:
    """Settings for sandbox mode: its own database file unless DATABASE_URL was given.

    The sandbox's Webex is kept in sandbox.json beside the database; the two belong together,
    so when either is missing, or on `reset`, both start afresh.
    """
    state_file = cwd / SANDBOX_STATE
    path = cwd / SANDBOX_DATABASE
    fresh = reset or not state_file.exists() or (not explicit_database and not path.exists())
    if fresh:
        state_file.unlink(missing_ok=True)
    if explicit_database:
        return settings
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return settings.with_(database_url=f"sqlite:///{path}")


def _page_assets() -> None:
    """Fetch the chat page's card renderer if the install step has not (the page works without it, minus cards)."""
    from sandbox import assets

    if not assets.present():
        try:
            assets.ensure()
        except assets.AssetError as exc:
            log.warning("sandbox page: cards will not render: %s (run `make run`, which installs it)", exc)


def start_sandbox(settings: Settings, *, with_workers: bool = True, state_file: Path | None = None) -> Stack:
    """The sandbox Webex API and the bot on one port, webhooks registered, demo data loaded.

    With `state_file`, the sandbox continues from it when it exists and is kept in it.
    """
    from sandbox import keeper as keeping
    from sandbox.api import create_sandbox_app
    from sandbox.demo import BOT_TOKEN, build_demo_state, open_direct_spaces, seed_directory, seed_subscriptions

    _page_assets()
    state = keeping.load(state_file) if state_file is not None else None
    if state is None:
        state = build_demo_state(bot_token=BOT_TOKEN)
        open_direct_spaces(state)
    dispatch = _Dispatch(create_sandbox_app(state))
    server = _serve(dispatch, host=settings.bot_host, port=settings.bot_port)
    base = server.url
    secret = settings.webex_webhook_secret or secrets.token_hex(16)
    settings = settings.with_(
        webex_access_token=BOT_TOKEN,
        webex_base_url=f"{base}/v1/",
        webex_webhook_secret=secret,
        public_url=base,
    )
    runtime = build_runtime(settings)
    upgrade(runtime.db.engine)
    with runtime.db.scope() as session:
        seed_directory(session, state, now=runtime.clock.now(), desk=runtime.rules.desk)
        seed_subscriptions(session, state)
    # The sandbox is a local imitation (its demo tokens are public): /metrics stays on its one port.
    dispatch.bot_app = create_app(runtime, open_metrics=True)
    server.thread.start()
    register_webhooks(runtime.webex, public_url=base, secret=secret, instance=settings.bot_instance)
    workers = Workers(runtime) if with_workers else None
    if workers:
        workers.start()
    keeper = keeping.Keeper(state, state_file).start() if state_file is not None else None
    log.info("sandbox Webex API on %s/v1/, bot webhook on %s%s", base, base, WEBHOOK_PATH)
    return Stack(runtime=runtime, server=server, workers=workers, sandbox_state=state, keeper=keeper)


def run_until_signalled(stack: Stack) -> None:
    """Block until SIGINT/SIGTERM, then stop cleanly."""
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    log.info("stopping")
    stack.stop()
