"""The bot wired to the sandbox: the local Webex imitation and the bot on one port, with demo people
and spaces (`run_bot.py sandbox`)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import commands
from bot.app import Register, build_app, create_app
from bot.config import Settings
from bot.launch import WEBHOOK_PATH, Stack, register_webhooks, serve
from bot.workers import Workers
from sandbox import assets
from sandbox import keeper as keeping
from sandbox.api import create_sandbox_app
from sandbox.demo import BOT_TOKEN, build_demo_state, open_direct_spaces, seed_directory, seed_subscriptions
from storage.migrate import upgrade

if TYPE_CHECKING:  # the WSGI types exist for type checkers only
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

SANDBOX_DATABASE = "sandbox.db"
SANDBOX_STATE = "sandbox.json"
_BOT_PATHS = ("/webhooks/", "/healthz", "/metrics")


class _Dispatch:
    """One port for the sandbox: the bot's paths go to the bot, everything else to the sandbox API."""

    def __init__(self, sandbox_app: WSGIApplication) -> None:
        self.sandbox_app = sandbox_app
        self.bot_app: WSGIApplication | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if self.bot_app is not None and path.startswith(_BOT_PATHS):
            return self.bot_app(environ, start_response)
        return self.sandbox_app(environ, start_response)


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
    if not assets.present():
        try:
            assets.ensure()
        except assets.AssetError as exc:
            log.warning("sandbox page: cards will not render: %s (run `make run`, which installs it)", exc)


def start_sandbox(
    settings: Settings,
    *,
    register: Register = commands.register,
    with_workers: bool = True,
    state_file: Path | None = None,
) -> Stack:
    """The sandbox Webex API and the bot on one port, webhooks registered, demo data loaded.

    With `state_file`, the sandbox continues from it when it exists and is kept in it.
    """
    _page_assets()
    state = keeping.load(state_file) if state_file is not None else None
    if state is None:
        state = build_demo_state(bot_token=BOT_TOKEN)
        open_direct_spaces(state)
    dispatch = _Dispatch(create_sandbox_app(state))
    server = serve(dispatch, host=settings.bot_host, port=settings.bot_port)
    base = server.url
    secret = settings.webex_webhook_secret or secrets.token_hex(16)
    settings = settings.with_(
        webex_access_token=BOT_TOKEN,
        webex_base_url=f"{base}/v1/",
        webex_webhook_secret=secret,
        public_url=base,
    )
    runtime = build_app(settings, register)
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
