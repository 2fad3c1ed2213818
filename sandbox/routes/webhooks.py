"""/v1/webhooks: the caller's webhooks; list, create, read, update (re-activate) and delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from sandbox.delivery import EVENTS, RESOURCES
from sandbox.ids import new_id
from sandbox.problems import NOT_FOUND, ApiProblem
from sandbox.routes.plumbing import body, me, page, sandbox_state

WEBHOOK_FIELDS = (
    "id",
    "name",
    "targetUrl",
    "resource",
    "event",
    "filter",
    "secret",
    "orgId",
    "createdBy",
    "appId",
    "ownedBy",
    "status",
    "created",
)

webhooks = Blueprint("webhooks", __name__)


def public_hook(hook: dict[str, Any]) -> dict[str, Any]:
    """A webhook as Webex shows it (without the sandbox's own bookkeeping)."""
    return {k: hook[k] for k in WEBHOOK_FIELDS if hook.get(k) is not None}


def own_hook(webhook_id: str) -> dict[str, Any]:
    """One of the caller's webhooks, or 404."""
    hook = sandbox_state().webhooks.get(webhook_id)
    if hook is None or hook["ownerId"] != me()["id"]:
        raise ApiProblem(404, NOT_FOUND)
    return hook


@webhooks.get("/v1/webhooks")
def webhooks_list() -> Response:
    """The caller's webhooks."""
    state = sandbox_state()
    with state.lock:
        hooks = [public_hook(w) for w in state.webhooks.values() if w["ownerId"] == me()["id"]]
    return page(hooks, "webhooks")


@webhooks.post("/v1/webhooks")
def webhooks_create() -> Response:
    """A new webhook owned by the caller."""
    state = sandbox_state()
    data = body()
    missing = [k for k in ("name", "targetUrl", "resource", "event") if not data.get(k)]
    if missing:
        raise ApiProblem(400, f"{', '.join(missing)} required")
    if data["resource"] not in RESOURCES or data["event"] not in EVENTS:
        raise ApiProblem(400, f"resource must be one of {', '.join(RESOURCES)}; event one of {', '.join(EVENTS)}")
    hook = {
        "id": new_id("WEBHOOK"),
        "name": data["name"],
        "targetUrl": data["targetUrl"],
        "resource": data["resource"],
        "event": data["event"],
        "filter": data.get("filter"),
        "secret": data.get("secret"),
        "orgId": state.org_id,
        "createdBy": me()["id"],
        "appId": "SANDBOX",
        "ownedBy": "creator",
        "status": "active",
        "created": state.stamp(),
        "ownerId": me()["id"],
    }
    with state.lock:
        state.webhooks[hook["id"]] = hook
    return jsonify(public_hook(hook))


@webhooks.get("/v1/webhooks/<webhook_id>")
def webhooks_get(webhook_id: str) -> Response:
    """One of the caller's webhooks."""
    return jsonify(public_hook(own_hook(webhook_id)))


@webhooks.put("/v1/webhooks/<webhook_id>")
def webhooks_update(webhook_id: str) -> Response:
    """Rename, re-target, re-key or re-activate one of the caller's webhooks."""
    state = sandbox_state()
    data = body()
    with state.lock:
        hook = own_hook(webhook_id)
        if not data.get("name") or not data.get("targetUrl"):
            raise ApiProblem(400, "name and targetUrl are required")
        # Webex's PUT only re-activates ("active" is the one status it takes): a webhook is
        # disabled by Webex alone, after 100 failed deliveries in 5 minutes.
        if "status" in data and data["status"] != "active":
            raise ApiProblem(400, "status can only be set to active")
        hook.update(name=data["name"], targetUrl=data["targetUrl"])
        if "secret" in data:
            hook["secret"] = data["secret"]
        if data.get("status") == "active" and hook["status"] != "active":
            state.delivery.reactivated(webhook_id)
            hook["status"] = "active"
    return jsonify(public_hook(hook))


@webhooks.delete("/v1/webhooks/<webhook_id>")
def webhooks_delete(webhook_id: str) -> Response:
    """Delete one of the caller's webhooks."""
    state = sandbox_state()
    with state.lock:
        own_hook(webhook_id)
        del state.webhooks[webhook_id]
    return Response(status=204)
