"""The webhook application for a WSGI server, without workers: for running at scale.

    run_bot.py db upgrade                                             # once, before the processes start
    gunicorn -w 2 --threads 4 -b 0.0.0.0:8080 'bot.wsgi:make_app()'   # web processes: verify, store, answer
    run_bot.py worker                                                 # as many as needed: inbox, outbox, timers

All on one PostgreSQL (DATABASE_URL). Configuration comes from the environment, as for
run_bot.py; a bad value stops the process with one line naming the variable. Without
WEBEX_WEBHOOK_SECRET it refuses to start, as `run_bot.py serve` does; 'bot.wsgi:make_app(no_webhook_secret=True)'
is the explicit way to accept unsigned deliveries.
"""

from __future__ import annotations

import sys

from bot import launch
from bot.app import build_runtime, create_app
from bot.config import ConfigError, load_settings
from bot.logs import configure


def make_app(no_webhook_secret: bool = False):
    """The Flask app of the webhook endpoint and /healthz (and /metrics with METRICS_TOKEN), built from the environment;
    refused without WEBEX_WEBHOOK_SECRET unless called with `no_webhook_secret=True`."""
    try:
        settings = load_settings().with_(webhook_secret_waived=no_webhook_secret)
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        raise SystemExit(2) from exc
    configure(settings.log_level, settings.log_format)
    launch.tune_interpreter()  # the request threads hand each webhook on, as in run_bot.py serve
    if not settings.webex_access_token:
        sys.stderr.write("configuration error: WEBEX_ACCESS_TOKEN is required for the webhook application\n")
        raise SystemExit(2)
    try:
        launch.check_webhook_secret(settings)
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        raise SystemExit(2) from exc
    return create_app(build_runtime(settings))
