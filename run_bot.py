"""Command line of the service desk bot: serve | worker | sandbox | webhooks | sla | report | db.

With no subcommand: `serve` when WEBEX_ACCESS_TOKEN is set, `sandbox` otherwise. This is where
the runtime (bot/) meets the command families (commands/) and the sandbox: it passes
`commands.register` to the runtime it starts, so bot/ imports neither.

For running at scale, `wsgi_app()` is the webhook application for a WSGI server, without workers:

    run_bot.py db upgrade                                             # once, before the processes start
    gunicorn -w 2 --threads 4 -b 0.0.0.0:8080 'run_bot:wsgi_app()'   # web processes: verify, store, answer
    run_bot.py worker                                                 # as many as needed: inbox, outbox, timers

All on one PostgreSQL (DATABASE_URL). Without WEBEX_WEBHOOK_SECRET it refuses to start, as
`run_bot.py serve` does; 'run_bot:wsgi_app(no_webhook_secret=True)' is the explicit way to accept
unsigned deliveries.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import logs
from bot.config import ConfigError, Settings, load_settings, require_webhook_secret
from rules.cli import CliInputError, join_dashed_values, parse_instant
from rules.cli import add_parser as add_sla_parser
from rules.cli import run as run_sla

if (
    TYPE_CHECKING
):  # the server side is imported only by the commands that run it: `sla` and `report` do not wait for Flask
    from flask import Flask


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run_bot.py", description="Service desk bot for Webex.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="webhook server plus in-process workers (needs WEBEX_ACCESS_TOKEN and WEBEX_WEBHOOK_SECRET)",
        description="Run the webhook endpoint and workers against Webex.",
    )
    serve.add_argument(
        "--no-webhook-secret",
        action="store_true",
        help="serve without WEBEX_WEBHOOK_SECRET, accepting unsigned deliveries (refused otherwise)",
    )
    sub.add_parser(
        "worker",
        help="workers only, for scale-out next to `serve`",
        description="Process inbox, outbox and timers without an HTTP server. It receives no webhooks, so it "
        "needs no WEBEX_WEBHOOK_SECRET; without one its webhook watchdog stays off (it could not set "
        "the secret again).",
    )
    sandbox = sub.add_parser(
        "sandbox",
        help="the bot wired to a local Webex imitation (no account needed)",
        description="Start the local sandbox Webex API, its chat page and the bot on one port, with demo "
        "people and spaces. It continues where the last start stopped (sandbox.json and "
        "sandbox.db in the current directory).",
    )
    sandbox.add_argument("--reset", action="store_true", help="start clean: new demo spaces, empty database")
    hooks = sub.add_parser(
        "webhooks",
        help="register, list or delete this instance's Webex webhooks",
        description="Manage the webhooks that deliver messages, card submits and the bot's own "
        "memberships to PUBLIC_URL. Each is named for BOT_INSTANCE; other instances' "
        "webhooks on the same bot token are left alone.",
    )
    hooks_sub = hooks.add_subparsers(dest="action", metavar="ACTION", required=True)
    hooks_sub.add_parser(
        "register",
        help="messages/created, attachmentActions/created, memberships/created and memberships/deleted "
        "at PUBLIC_URL, signed with WEBEX_WEBHOOK_SECRET",
        description="Create (or update) this instance's webhooks pointing at PUBLIC_URL/webhooks/webex, "
        "signed with WEBEX_WEBHOOK_SECRET (required).",
    )
    hooks_sub.add_parser("list", help="list this instance's webhooks", description="List this instance's webhooks.")
    delete = hooks_sub.add_parser(
        "delete",
        help="delete one of this instance's webhooks by id, or all with --all",
        description="Delete this instance's webhooks.",
    )
    delete.add_argument("webhook_id", nargs="?", help="id of the webhook to delete")
    delete.add_argument("--all", action="store_true", help="delete every webhook of this instance")
    add_sla_parser(sub)
    report = sub.add_parser(
        "report",
        help="per organisation: a month's tickets and SLA results",
        description="Print the monthly report (tickets opened in the month, Amsterdam time).",
    )
    report.add_argument("--month", required=True, help="the month, YYYY-MM")
    report.add_argument("--csv", action="store_true", help="CSV instead of the text report")
    report.add_argument(
        "--at", help="read the clocks at this instant (ISO 8601, Amsterdam time unless it has an offset); default now"
    )
    db = sub.add_parser("db", help="database schema", description="Database schema management.")
    db_sub = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply migrations up to the latest", description="Apply Alembic migrations.")
    return parser


def _require_token(settings: Settings) -> str:
    if not settings.webex_access_token:
        raise ConfigError("WEBEX_ACCESS_TOKEN is required for this command")
    return settings.webex_access_token


def _webex(settings: Settings):
    # The Webex SDK is loaded by the commands that call Webex only: `sla` and `report` do not wait for it.
    from bot.webex import WebexClient

    return WebexClient(access_token=_require_token(settings), base_url=settings.webex_base_url)


def _webhooks(settings: Settings, args) -> int:
    # Here, as in _webex: bot/hooks.py loads the Webex SDK.
    from bot import hooks

    instance = settings.bot_instance
    target = hooks.target(settings.public_url) if settings.public_url else None
    _require_token(settings)
    if args.action == "register":
        public_url, secret = settings.public_url, settings.webex_webhook_secret
        if not public_url:
            raise ConfigError("PUBLIC_URL is required to register webhooks (the address Webex can reach)")
        if not secret:
            raise ConfigError(
                "WEBEX_WEBHOOK_SECRET is required to register webhooks (Webex signs every delivery with it)"
            )
        for hook in hooks.register(_webex(settings), public_url=public_url, secret=secret, instance=instance):
            _out(
                f"{hook['id']}  {hook['name']}  {hook['resource']}/{hook['event']}  {hook['targetUrl']}  {hook.get('status', '')}"
            )
        return 0
    webex = _webex(settings)
    mine = hooks.own(webex.list_webhooks(), instance=instance, target_url=target)
    if args.action == "list":
        for hook in mine:
            _out(
                f"{hook['id']}  {hook.get('name', '')}  {hook['resource']}/{hook['event']}  {hook['targetUrl']}  {hook.get('status', '')}"
            )
        return 0
    if bool(args.webhook_id) == bool(args.all):
        _out("webhooks delete: give a webhook id or --all")
        return 2
    if args.webhook_id and args.webhook_id not in {h["id"] for h in mine}:
        _out(
            f"webhooks delete: {args.webhook_id} is not a webhook of instance {instance} (BOT_INSTANCE); nothing deleted"
        )
        return 2
    for webhook_id in [h["id"] for h in mine] if args.all else [args.webhook_id]:
        webex.delete_webhook(webhook_id)
        _out(f"deleted {webhook_id}")
    return 0


def _report(settings: Settings, args) -> int:
    # The runtime, the report and the database, loaded when a report is asked for (see _run).
    from bot.app import rules_for
    from bot.clock import SystemClock
    from commands.report.queries import build, month_bounds
    from commands.report.render import to_csv, to_markdown
    from storage.db import Database

    try:
        month_bounds(args.month)
        at = parse_instant(args.at) if args.at else SystemClock().now()
    except (ValueError, CliInputError) as exc:
        sys.stderr.write(f"run_bot.py report: {exc}\n")
        return 2
    rules = rules_for(settings)
    database = Database(settings.database_url)
    with database.scope() as session:
        reports = build(session, month=args.month, now=at, rules=rules)
        _out(to_csv(reports).rstrip("\n") if args.csv else to_markdown(reports, month=args.month, lang="en"))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, validate configuration, run the chosen command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sla"]:
        argv = join_dashed_values(argv)
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    command = args.command or ("serve" if settings.webex_access_token else "sandbox")
    # Script-facing commands log only problems, so their output is what they print.
    level = (
        "WARNING" if command in ("sla", "report") and settings.log_level in ("DEBUG", "INFO") else settings.log_level
    )
    logs.configure(level, settings.log_format)
    try:
        return _run(command, settings, args)
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2


def _run(command: str, settings: Settings, args) -> int:
    if command == "sla":
        # Before importing the server side: a script calling this should not wait for Flask.
        return run_sla(args, settings)
    if command == "webhooks":
        return _webhooks(settings, args)
    if command in ("serve", "worker"):
        # Refused before the server side is imported, so the refusal is the only line printed.
        _require_token(settings)
        if command == "serve":
            settings = settings.with_(webhook_secret_waived=getattr(args, "no_webhook_secret", False))
            require_webhook_secret(settings)
    # The server side and the families, imported only by the commands that run them.
    import commands
    from bot import launch

    if command == "report":
        return _report(settings, args)
    if command == "db":
        # The database and its migrations, for this command only (as the server side above).
        from storage.db import Database
        from storage.migrate import upgrade

        database = Database(settings.database_url)
        upgrade(database.engine)
        _out(f"database at the latest schema: {database.engine.url.render_as_string(hide_password=True)}")
        return 0
    launch.tune_interpreter()
    if command == "serve":
        stack = launch.start_serve(settings, commands.register)
    elif command == "worker":
        stack = launch.start_worker(settings, commands.register)
    else:
        # The sandbox (its Webex imitation and page) is loaded only when it is started.
        from sandbox import launch as sandbox

        cwd = Path.cwd()
        stack = sandbox.start_sandbox(
            sandbox.sandbox_settings(
                settings,
                explicit_database=bool(os.environ.get("DATABASE_URL")),
                cwd=cwd,
                reset=getattr(args, "reset", False),
            ),
            register=commands.register,
            state_file=cwd / sandbox.SANDBOX_STATE,
        )
        url = stack.server.url if stack.server is not None else ""
        _out(f"sandbox ready: Webex API {url}/v1/  bot webhook {url}/webhooks/webex  health {url}/healthz")
        _out(f"open {url}/ in a browser to chat as the demo customers and staff")
    if stack.server is not None and command == "serve":
        _out(f"listening on {stack.server.url}/webhooks/webex")
        if stack.metrics_server is not None:
            _out(f"metrics on {stack.metrics_server.url}/metrics")
    launch.run_until_signalled(stack)
    return 0


def wsgi_app(no_webhook_secret: bool = False) -> Flask:
    """The Flask app of the webhook endpoint and /healthz (and /metrics with METRICS_TOKEN), built from the environment;
    refused without WEBEX_WEBHOOK_SECRET unless called with `no_webhook_secret=True`."""
    # Imported when a WSGI server calls this, not when the command line starts.
    import commands
    from bot import launch
    from bot.app import build_app, create_app

    try:
        settings = load_settings().with_(webhook_secret_waived=no_webhook_secret)
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        raise SystemExit(2) from exc
    logs.configure(settings.log_level, settings.log_format)
    launch.tune_interpreter()  # the request threads hand each webhook on, as in run_bot.py serve
    if not settings.webex_access_token:
        sys.stderr.write("configuration error: WEBEX_ACCESS_TOKEN is required for the webhook application\n")
        raise SystemExit(2)
    try:
        launch.check_webhook_secret(settings)
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        raise SystemExit(2) from exc
    return create_app(build_app(settings, commands.register))


if __name__ == "__main__":
    sys.exit(main())
