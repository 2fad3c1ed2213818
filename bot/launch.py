"""Starting the bot: against Webex, or as workers only (sandbox/launch.py wires it to the sandbox)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot import hooks
from bot.app import Register, Runtime, build_app, create_app, create_metrics_app
from bot.config import Settings, require_webhook_secret
from bot.serving import RunningServer, bound, make_server
from bot.webex import WebexClient
from bot.webhook import MAX_BODY
from bot.workers import Workers
from storage.migrate import upgrade

if TYPE_CHECKING:  # the WSGI types exist for type checkers only
    from _typeshed.wsgi import WSGIApplication

log = logging.getLogger(__name__)

WEBHOOK_PATH = hooks.PATH
# How long a thread may hold the GIL while another waits for it. The bot's threads hand every
# event on (HTTP thread → inbox worker → outbox sender); at Python's default of 5 ms each
# hand-off can wait that long. Measured with bench/webhook.py at 200 webhooks/s: 1 ms cut the
# acknowledgement p99 from 120 to 43 ms and the queueing behind it by two thirds.
SWITCH_INTERVAL_S = 0.001


def tune_interpreter() -> None:
    """Settings for a long-running bot process (serve, worker, sandbox)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def register_webhooks(webex: WebexClient, *, public_url: str, secret: str, instance: str) -> list[dict[str, Any]]:
    """Make sure exactly this instance's webhooks point at `public_url`, signed with `secret`; idempotent."""
    return hooks.register(webex, public_url=public_url, secret=secret, instance=instance)


def check_webhook_secret(settings: Settings) -> None:
    """Refuse to serve webhooks without WEBEX_WEBHOOK_SECRET unless it was waived; a waived secret is logged as a warning."""
    require_webhook_secret(settings)
    if not settings.webex_webhook_secret:
        log.warning(
            "WEBEX_WEBHOOK_SECRET is not set and --no-webhook-secret was given: webhook deliveries are accepted "
            "without a signature, from anyone who can reach %s",
            WEBHOOK_PATH,
        )


class Stoppable(Protocol):
    def stop(self) -> None: ...


class Closable(Protocol):
    def close(self) -> None: ...


@dataclass
class Stack:
    """A running bot: its runtime, HTTP server and workers (and the sandbox state, if any)."""

    runtime: Runtime
    server: RunningServer | None
    workers: Workers | None
    sandbox_state: Closable | None = None
    keeper: Stoppable | None = None
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
        if self.sandbox_state is not None:
            self.sandbox_state.close()
        self.runtime.db.dispose()


def serve(
    app: WSGIApplication, *, host: str, port: int, name: str = "http", threads: int = 8, max_body: int | None = None
) -> RunningServer:
    server = make_server(app, host=host, port=port, threads=threads, max_body=max_body)
    port = bound(server)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    return RunningServer(server=server, thread=thread, host=host, port=port)


def start_serve(settings: Settings, register: Register, *, with_workers: bool = True) -> Stack:
    """The webhook server (and in-process workers) against real Webex, and GET /metrics on an
    address of its own (METRICS_HOST:METRICS_PORT, loopback unless told)."""
    check_webhook_secret(settings)
    runtime = build_app(settings, register)
    upgrade(runtime.db.engine)
    # Nothing but a webhook is ever posted here: waitress refuses a longer body before reading it.
    server = serve(create_app(runtime), host=settings.bot_host, port=settings.bot_port, max_body=MAX_BODY)
    metrics = serve(
        create_metrics_app(runtime),
        host=settings.metrics_host,
        port=settings.metrics_port,
        name="metrics",
        threads=2,
        max_body=0,
    )
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


def start_worker(settings: Settings, register: Register) -> Stack:
    """Workers only (scale-out); the schema must be current already (`db upgrade`).

    The process runs `worker_nice` below normal priority: on a host shared with web processes a
    burst of webhooks is then acknowledged at once and queued, instead of waiting for the CPU
    behind the work it queues.
    """
    lower_priority(settings.worker_nice)
    runtime = build_app(settings, register)
    workers = Workers(runtime)
    workers.start()
    log.info("workers started: %d inbox, %d outbox, 1 timer", settings.inbox_threads, settings.outbox_threads)
    return Stack(runtime=runtime, server=None, workers=workers)


def run_until_signalled(stack: Stack) -> None:
    """Block until SIGINT/SIGTERM, then stop cleanly."""
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    log.info("stopping")
    stack.stop()
