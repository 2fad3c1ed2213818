"""The webhook endpoint: verify the signature on the raw body, store the event, answer at once."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge

from bot import envelope, inbox, wakeups
from bot.metrics import CONTENT_TYPE
from bot.retention import replay_cutoff
from bot.security import bearer_ok, signature_ok

if TYPE_CHECKING:  # bot/app.py builds the Flask app from these blueprints
    from bot.app import Runtime

log = logging.getLogger(__name__)

blueprint = Blueprint("webhook", __name__)
# GET /metrics: on an address of its own (`serve`'s METRICS_HOST:METRICS_PORT), and on the
# webhook port only to the bearer of METRICS_TOKEN, or in the local sandbox.
metrics_blueprint = Blueprint("metrics", __name__)
MAX_BODY = 64 * 1024


@blueprint.post("/webhooks/webex")
def receive() -> ResponseReturnValue:
    """Accept one Webex delivery: 401 bad signature, 400 not an event, 200 stored, duplicate or the bot's own."""
    runtime: Runtime = current_app.extensions["servicedesk"]
    with runtime.door:  # this process's workers hold back between steps meanwhile
        return _receive(runtime)


def _receive(runtime: Runtime) -> ResponseReturnValue:
    # The size first, before a byte of the body is read: by its Content-Length, or as a chunked
    # body goes past MAX_BODY (Werkzeug stops reading there, app.config["MAX_CONTENT_LENGTH"]).
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _too_large(runtime)
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return _too_large(runtime)
    secret = runtime.settings.webex_webhook_secret
    if secret and not signature_ok(body, request.headers.get("X-Spark-Signature"), secret):
        log.warning(
            "webhook rejected: %s signature from %s",
            "missing" if not request.headers.get("X-Spark-Signature") else "wrong",
            request.remote_addr,
        )
        runtime.metrics.webhook("bad_signature")
        return jsonify(error="invalid signature"), 401
    try:
        payload = envelope.read_envelope(body)
    except envelope.BadEvent as exc:
        log.warning("webhook rejected: not a Webex event (%s)", exc)
        runtime.metrics.webhook("bad_body")
        return jsonify(error="not a webhook event"), 400
    if envelope.own_doing(payload):
        # Webex tells the bot of its own messages too; every answer would cost a stored event.
        runtime.metrics.webhook("own")
        return jsonify(accepted=True, duplicate=False, own=True), 200
    now = runtime.clock.now()
    created = envelope.event_created(payload)
    cutoff = replay_cutoff(now, runtime.settings.retention_days)
    if created is not None and cutoff is not None and created < cutoff:
        # Its inbox row may be gone (BOT_RETENTION_DAYS): taken again, a command would run again.
        log.warning(
            "webhook rejected: %s/%s %s was created %s, before the retention window (%s)",
            payload["resource"],
            payload["event"],
            payload["data"]["id"],
            created.isoformat(),
            cutoff.isoformat(timespec="seconds"),
        )
        runtime.metrics.webhook("stale")
        return jsonify(error="event older than the retention window"), 400
    with runtime.db.scope() as session:
        stored = inbox.accept(session, payload, now=now)
        if stored:
            wakeups.notify_inbox(session)  # worker processes on PostgreSQL take it at once
    runtime.metrics.webhook("accepted" if stored else "duplicate")
    if stored:
        runtime.wake_inbox()
    return jsonify(accepted=True, duplicate=not stored), 200


def _too_large(runtime: Runtime) -> ResponseReturnValue:
    runtime.metrics.webhook("too_large")
    return jsonify(error="body too large"), 413


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness, database reachability and whether Webex accepts the token.

    An outage at Webex's side (token refused) is named in the body but answered 200: the
    endpoint must go on accepting webhooks, or Webex disables them.
    """
    runtime = current_app.extensions["servicedesk"]
    try:
        with runtime.db.scope() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # report, don't crash the probe
        log.warning("health check: database unreachable: %s", exc)
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", version=runtime.version, webex=runtime.access.state), 200


@metrics_blueprint.get("/metrics")
def metrics() -> ResponseReturnValue:
    """Prometheus text: this process's counters and the shared queues' gauges (see bot/metrics.py)."""
    runtime = current_app.extensions["servicedesk"]
    required = current_app.config.get("METRICS_TOKEN")
    if required and not bearer_ok(request.headers.get("Authorization"), required):
        return jsonify(error="not found"), 404  # as if there were nothing here
    runtime.metrics.watch_queues(runtime.db, runtime.clock)
    return Response(runtime.metrics.exposition(), mimetype=CONTENT_TYPE)
