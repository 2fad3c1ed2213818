"""The sandbox's data behind one lock, its clock, its change feed, and keeping it between starts."""

from __future__ import annotations

import base64
import bisect
import json
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Self

from sandbox.delivery import Delivery
from sandbox.ids import membership_id, new_id
from sandbox.limits import Faults, RateLimit


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


class StateCore:
    """All sandbox data behind one lock; a Condition wakes long-polls and test waits."""

    delivery: Delivery  # set by SandboxState, whose rooms and people the deliveries read

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._now = now or (lambda: datetime.now(UTC))
        self.org_id = new_id("ORGANIZATION")
        self.orgs: dict[str, str] = {}
        self.people: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, str] = {}
        self.rooms: dict[str, dict[str, Any]] = {}
        self.memberships: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.edits: dict[str, int] = {}
        self.actions: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}  # content id → name, type, size, roomId, messageId
        self.file_data: dict[str, bytes] = {}  # content id → the file's bytes
        self.revoked: set[str] = set()
        # Where this sandbox is reached, for the content URLs of files (the API sets it per request).
        self.base_url = "http://127.0.0.1"
        self.roles: dict[str, str] = {}  # email → what the person is in the demo, shown on the page
        self.events: list[dict[str, Any]] = []
        self.seq = 0
        self.revision = 0  # counts changes to memberships and rooms, which the message feed does not show
        self.pollers = 0
        self.deliveries: list[dict[str, Any]] = []
        self.requests: deque[dict[str, Any]] = deque(maxlen=10_000)
        # Every /v1 exchange (request and answer in full) while a list is set here: the contract
        # tests validate them against Webex's OpenAPI document.
        self.exchanges: list[dict[str, Any]] | None = None
        self.faults = Faults()
        self.rate_limit = RateLimit()
        # How <spark-mention> names people in html: "base64" (the full person id, as public
        # captures show) or "uuid" (the bare UUID inside it, also seen); tests choose.
        self.mention_ids = "base64"
        # Messages from some clients reach the API without `html` (text and mentionedPeople only).
        self.omit_html = False

    def now(self) -> datetime:
        """The sandbox clock (real UTC time unless a `now` callable was given)."""
        return self._now()

    def stamp(self) -> str:
        """Now, as Webex writes timestamps."""
        return _stamp(self._now())

    # Keeping the sandbox between starts

    _KEPT: tuple[str, ...] = (
        "orgs",
        "people",
        "tokens",
        "rooms",
        "memberships",
        "messages",
        "edits",
        "actions",
        "webhooks",
        "roles",
        "files",
    )

    def snapshot(self) -> dict[str, Any]:
        """Everything a later start needs to continue where this one stopped (JSON-ready; file bytes in base64)."""
        with self.lock:
            data: dict[str, Any] = {name: dict(getattr(self, name)) for name in self._KEPT}
            data["org_id"] = self.org_id
            data["file_data"] = {key: base64.b64encode(value).decode("ascii") for key, value in self.file_data.items()}
            kept: dict[str, Any] = json.loads(json.dumps(data))  # a deep copy, and proof it is JSON-ready
            return kept

    def fingerprint(self) -> tuple[object, ...]:
        """Changes whenever snapshot() would (cheap; for deciding when to save)."""
        with self.lock:
            return (
                self.seq,
                self.revision,
                len(self.people),
                len(self.rooms),
                len(self.actions),
                len(self.files),
                tuple((w["id"], w["status"], w["targetUrl"]) for w in self.webhooks.values()),
            )

    @classmethod
    def restore(cls, data: dict[str, Any], *, now: Callable[[], datetime] | None = None) -> Self:
        """A state from snapshot(); its change feed replays every kept message as created, in order."""
        state = cls(now=now)
        state.org_id = data["org_id"]
        for name in cls._KEPT:
            getattr(state, name).update(data.get(name, {}))
        # Snapshots kept before membership ids were derived from person and room: key them the new way.
        state.memberships = {
            membership_id(m["personId"], m["roomId"]): {**m, "id": membership_id(m["personId"], m["roomId"])}
            for m in state.memberships.values()
        }
        state.file_data.update({key: base64.b64decode(value) for key, value in data.get("file_data", {}).items()})
        with state.lock:
            for message in sorted(state.messages.values(), key=lambda m: m["created"]):
                state._event("created", message)
        return state

    # Change feed

    def _event(self, kind: str, message: dict[str, Any]) -> None:
        self.seq += 1
        self.events.append({"seq": self.seq, "kind": kind, "message": dict(message)})
        self.changed.notify_all()

    def events_since(self, seq: int, room_id: str | None = None) -> list[dict[str, Any]]:
        """Message events newer than `seq`, optionally of one room."""
        with self.lock:
            # Events are appended in seq order: start at the first newer one instead of scanning all.
            start = bisect.bisect_right(self.events, seq, key=lambda e: e["seq"])
            return [e for e in self.events[start:] if room_id is None or e["message"]["roomId"] == room_id]

    def wait_events(
        self, since: int, room_id: str | None = None, timeout: float = 25.0
    ) -> tuple[list[dict[str, Any]], int]:
        """Events newer than `since` (waiting up to `timeout` for one) and the cursor to poll from next."""
        with self.changed:
            if timeout > 0 and not self.events_since(since, room_id):
                self.pollers += 1
                self.changed.notify_all()
                try:
                    self.changed.wait_for(lambda: bool(self.events_since(since, room_id)), timeout=timeout)
                finally:
                    self.pollers -= 1
            return self.events_since(since, room_id), self.seq

    def wait_pollers(self, n: int, timeout: float = 10.0) -> bool:
        """Block until at least `n` callers are waiting in wait_events (lets tests post after a poll began)."""
        with self.changed:
            return self.changed.wait_for(lambda: self.pollers >= n, timeout=timeout)

    def wait_delivered(self, data_id: str, timeout: float = 10.0, *, since: int = 0) -> bool:
        """Block until the webhook event about `data_id` (a message, action or membership) was delivered;
        with `since`, one among the deliveries after the first `since` (a membership's id comes back)."""
        with self.changed:
            return self.changed.wait_for(
                lambda: any(d["data_id"] == data_id for d in self.deliveries[since:]), timeout=timeout
            )

    def wait_deliveries(self, n: int, timeout: float = 10.0) -> bool:
        """Block until at least `n` webhook deliveries were attempted."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.deliveries) >= n, timeout=timeout)
