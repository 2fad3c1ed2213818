"""Webhook delivery like Webex: signed JSON POSTs, in order, from one background thread.

Who hears what: in group rooms a bot's webhook only gets messages that mention the bot and
the bot's own messages; in 1:1 rooms it gets everything. Card submits go to the webhooks of
the card's author. Memberships created and deleted go to the room's members, the person
added or removed included (a bot hears its own removal). A webhook that fails 100 times
within 5 minutes is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests

log = logging.getLogger(__name__)

DISABLE_AFTER = 100
DISABLE_WINDOW = timedelta(minutes=5)
TIMEOUT_S = 10
RESOURCES = ("messages", "attachmentActions", "memberships", "rooms")
EVENTS = ("created", "updated", "deleted", "all")
HOOK_PAYLOAD_FIELDS = (
    "id",
    "name",
    "targetUrl",
    "resource",
    "event",
    "orgId",
    "createdBy",
    "appId",
    "ownedBy",
    "status",
    "created",
)
# What Webex puts in a messages/created delivery: ids only (the bot GETs the message for its
# text and mentionedPeople), and parentId for a reply in a thread.
MESSAGE_DATA_FIELDS = ("id", "roomId", "roomType", "personId", "personEmail", "parentId", "created")
ACTION_DATA_FIELDS = ("id", "type", "messageId", "personId", "roomId", "created")
MEMBERSHIP_DATA_FIELDS = (
    "id",
    "roomId",
    "roomType",
    "personId",
    "personEmail",
    "personDisplayName",
    "isModerator",
    "isMonitor",
    "created",
)


def signature(secret: str, body: bytes) -> str:
    """X-Spark-Signature of a delivery body: hex HMAC-SHA1 keyed with the webhook secret."""
    # Computed here rather than borrowed from the bot, so the bot's own check is really tested.
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def filter_matches(filter_text: str | None, data: dict[str, Any], owner_id: str) -> bool:
    """Whether a resource passes a webhook filter such as "roomId=X&roomType=group" (for a
    message, the whole message: "mentionedPeople=me" filters on what the payload leaves out)."""
    if not filter_text:
        return True
    for part in filter_text.split("&"):
        key, _, value = part.partition("=")
        if key == "mentionedPeople":
            wanted = owner_id if value == "me" else value
            if wanted not in data.get("mentionedPeople", []):
                return False
        elif str(data.get(key, "")) != value:
            return False
    return True


class DeliveryHost(Protocol):
    """What delivery reads and writes of the sandbox's state (SandboxState is one)."""

    @property
    def lock(self) -> threading.RLock: ...

    @property
    def changed(self) -> threading.Condition: ...

    @property
    def webhooks(self) -> dict[str, dict[str, Any]]: ...

    @property
    def people(self) -> dict[str, dict[str, Any]]: ...

    @property
    def deliveries(self) -> list[dict[str, Any]]: ...

    def members(self, room_id: str) -> list[str]:
        """Person ids of a room's members."""
        ...

    def now(self) -> datetime:
        """The sandbox clock."""
        ...


class Delivery:
    """Queues deliveries (under the state lock, so in creation order) and sends them from a daemon thread."""

    def __init__(self, state: DeliveryHost) -> None:
        self.state = state
        # (webhook id, secret, target URL, payload) per delivery; None stops the thread.
        self.queue: queue.Queue[tuple[str, str | None, str, dict[str, Any]] | None] = queue.Queue()
        # Lowering this is allowed for tests only; Webex's rule is 100.
        self.disable_after = DISABLE_AFTER
        self._failures: dict[str, list[datetime]] = {}
        self._thread: threading.Thread | None = None
        self._session = requests.Session()
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop the sending thread after what is already queued."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self.queue.put(None)
            thread.join(timeout=TIMEOUT_S + 5)

    def _hooks(self, resource: str, event: str) -> list[dict[str, Any]]:
        return [
            w
            for w in self.state.webhooks.values()
            if w["resource"] == resource and w["event"] in (event, "all") and w["status"] == "active"
        ]

    def message_created(self, message: dict[str, Any]) -> None:
        """Queue messages/created for every webhook owner who hears this message."""
        data = {k: message[k] for k in MESSAGE_DATA_FIELDS if k in message}
        members = set(self.state.members(message["roomId"]))
        for hook in self._hooks("messages", "created"):
            owner = self.state.people.get(hook["ownerId"])
            if owner is None or owner["id"] not in members:
                continue
            if message["roomType"] == "group" and owner["type"] == "bot":
                if owner["id"] != message["personId"] and owner["id"] not in message.get("mentionedPeople", []):
                    continue
            self._enqueue(hook, "created", data, actor_id=message["personId"], resource=message)

    def action_created(self, action: dict[str, Any], *, card_author: str) -> None:
        """Queue attachmentActions/created for the card author's webhooks."""
        data = {k: action[k] for k in ACTION_DATA_FIELDS}
        for hook in self._hooks("attachmentActions", "created"):
            if hook["ownerId"] == card_author:
                self._enqueue(hook, "created", data, actor_id=action["personId"])

    def membership_created(self, membership: dict[str, Any], *, actor_id: str) -> None:
        """Queue memberships/created for webhook owners in the room (the added person included)."""
        self._membership(
            "created", membership, actor_id=actor_id, audience=set(self.state.members(membership["roomId"]))
        )

    def membership_deleted(self, membership: dict[str, Any], *, actor_id: str, audience: set[str]) -> None:
        """Queue memberships/deleted for webhook owners who were in the room (the removed person included)."""
        self._membership("deleted", membership, actor_id=actor_id, audience=audience)

    def _membership(self, event: str, membership: dict[str, Any], *, actor_id: str, audience: set[str]) -> None:
        data = {k: membership[k] for k in MEMBERSHIP_DATA_FIELDS}
        for hook in self._hooks("memberships", event):
            if hook["ownerId"] in audience or hook["ownerId"] == membership["personId"]:
                self._enqueue(hook, event, data, actor_id=actor_id)

    def _enqueue(
        self,
        hook: dict[str, Any],
        event: str,
        data: dict[str, Any],
        *,
        actor_id: str,
        resource: dict[str, Any] | None = None,
    ) -> None:
        if not filter_matches(hook.get("filter"), resource if resource is not None else data, hook["ownerId"]):
            return
        payload = {k: hook[k] for k in HOOK_PAYLOAD_FIELDS if k in hook}
        payload["event"] = event  # a webhook on "all" still names the event that happened
        if hook.get("filter"):
            payload["filter"] = hook["filter"]
        payload["actorId"] = actor_id
        payload["data"] = dict(data)
        self.queue.put((hook["id"], hook.get("secret"), hook["targetUrl"], payload))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sandbox-delivery", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            hook_id, secret, target, payload = item
            with self.state.lock:
                hook = self.state.webhooks.get(hook_id)
                # Disabled or deleted after the event was queued: Webex would not send it either.
                if hook is None or hook["status"] != "active":
                    continue
            body = json.dumps(payload).encode("utf-8")
            headers = {"Content-Type": "application/json"}
            if secret:
                headers["X-Spark-Signature"] = signature(secret, body)
            status: int | None = None
            error: str | None = None
            try:
                status = self._session.post(target, data=body, headers=headers, timeout=TIMEOUT_S).status_code
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"
            self.record(hook_id, payload, status, error)

    def record(self, hook_id: str, payload: dict[str, Any], status: int | None, error: str | None) -> None:
        """Note one delivery attempt; disable the webhook on too many recent failures."""
        with self.state.changed:
            now = self.state.now()
            self.state.deliveries.append(
                {
                    "webhook_id": hook_id,
                    "resource": payload["resource"],
                    "event": payload["event"],
                    "data_id": payload["data"]["id"],
                    "status_code": status,
                    "error": error,
                    "at": now,
                }
            )
            if status is None or not 200 <= status < 300:
                self._failed(hook_id, now)
            self.state.changed.notify_all()

    def _failed(self, hook_id: str, now: datetime) -> None:
        failures = [t for t in self._failures.get(hook_id, []) if now - t < DISABLE_WINDOW] + [now]
        self._failures[hook_id] = failures
        hook = self.state.webhooks.get(hook_id)
        if hook is not None and len(failures) >= self.disable_after and hook["status"] == "active":
            hook["status"] = "inactive"
            log.warning("sandbox: webhook %s disabled after %d failed deliveries", hook_id, len(failures))

    def reactivated(self, hook_id: str) -> None:
        """Forget past failures of a webhook that was set active again."""
        with self.state.lock:
            self._failures.pop(hook_id, None)
