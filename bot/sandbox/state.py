"""The sandbox's Webex, in memory: people, rooms, memberships, messages, card actions, webhooks.

Rules follow Webex where the bot depends on them: 7,439-byte messages, one card per message
with a text fallback, threads one level deep, at most 10 edits and none of card messages,
bots in group rooms only hear messages that mention them (and their own).
"""

from __future__ import annotations

import bisect
import json
import random
import threading
from collections import deque
from datetime import datetime, timezone
from typing import Any, Callable

from bot.sandbox.delivery import Delivery
from bot.sandbox.ids import membership_id, new_id
from bot.sandbox.render import render

MAX_MESSAGE_BYTES = 7439  # Webex's limit on a message's text or markdown (bot/outbox.py splits longer ones)
MAX_EDITS = 10
CARD_TYPE = "application/vnd.microsoft.card.adaptive"


class ApiProblem(Exception):
    """A request Webex would refuse; becomes a Webex-shaped error response."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class RateLimit:
    """Webex-like rate limiting of message creation: a token bucket per caller, 429 with Retry-After beyond it."""

    def __init__(self, per_second: float | None = None) -> None:
        self.per_second = per_second
        self._buckets: dict[str, tuple[float, float]] = {}  # caller → (tokens, at)
        self._lock = threading.Lock()
        self.refused = 0
        self.allowed = 0

    def take(self, caller: str, now: float) -> float:
        """0 when the call may go ahead, else the seconds to wait (Retry-After)."""
        if not self.per_second:
            return 0.0
        with self._lock:
            tokens, at = self._buckets.get(caller, (self.per_second, now))
            tokens = min(self.per_second, tokens + (now - at) * self.per_second)
            if tokens >= 1:
                self._buckets[caller] = (tokens - 1, now)
                self.allowed += 1
                return 0.0
            self._buckets[caller] = (tokens, now)
            self.refused += 1
            return (1 - tokens) / self.per_second


class Faults:
    """Canned failures for the next matching API requests (tests of retry logic)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[dict[str, Any]] = []

    def add(self, method: str, path: str, status: int, *, headers: dict | None = None, body: dict | None = None, times: int = 1) -> None:
        """The next `times` requests of `method` whose path starts with `path` get `status`."""
        with self._lock:
            for _ in range(times):
                self._queue.append({"method": method.upper(), "path": path, "status": status, "headers": headers or {}, "body": body})

    def take(self, method: str, path: str) -> dict[str, Any] | None:
        """The first queued fault matching this request, removed from the queue."""
        with self._lock:
            for i, fault in enumerate(self._queue):
                if fault["method"] == method.upper() and path.startswith(fault["path"]):
                    return self._queue.pop(i)
        return None

    def chaos(self, rate: float, *, seed: int, timeout_s: float, slow_s: float = 0.3) -> None:
        """From now on, a share `rate` of API requests goes wrong, in equal parts: 429 with
        Retry-After 1, 500, a timeout (answered only after `timeout_s`, so the caller has given up
        though the request takes effect) and a slow answer (`slow_s`). Seeded, so a drill repeats."""
        with self._lock:
            self._chaos = (rate, random.Random(seed), timeout_s, slow_s)

    def roll(self) -> dict[str, Any] | None:
        """What chaos does to this request: None, a fault to answer, or a delay before handling it."""
        with self._lock:
            chaos = getattr(self, "_chaos", None)
            if chaos is None:
                return None
            rate, rng, timeout_s, slow_s = chaos
            if rng.random() >= rate:
                return None
            kind = rng.choice(("429", "500", "timeout", "slow"))
        if kind == "429":
            return {"status": 429, "headers": {"Retry-After": "1"}, "body": None}
        if kind == "500":
            return {"status": 500, "headers": {}, "body": None}
        return {"delay": timeout_s if kind == "timeout" else slow_s}


def _stamp(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


class SandboxState:
    """All sandbox data behind one lock; a Condition wakes long-polls and test waits."""

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._now = now or (lambda: datetime.now(timezone.utc))
        self.org_id = new_id("ORGANIZATION")
        self.orgs: dict[str, str] = {}
        self.people: dict[str, dict] = {}
        self.tokens: dict[str, str] = {}
        self.rooms: dict[str, dict] = {}
        self.memberships: dict[str, dict] = {}
        self.messages: dict[str, dict] = {}
        self.edits: dict[str, int] = {}
        self.actions: dict[str, dict] = {}
        self.webhooks: dict[str, dict] = {}
        self.roles: dict[str, str] = {}  # email → what the person is in the demo, shown on the page
        self.events: list[dict] = []
        self.seq = 0
        self.pollers = 0
        self.deliveries: list[dict] = []
        self.requests: deque[dict] = deque(maxlen=10_000)
        self.faults = Faults()
        self.rate_limit = RateLimit()
        # How <spark-mention> names people in html: "base64" (the full person id, as public
        # captures show) or "uuid" (the bare UUID inside it, also seen); tests choose.
        self.mention_ids = "base64"
        # Messages from some clients reach the API without `html` (text and mentionedPeople only).
        self.omit_html = False
        self.delivery = Delivery(self)

    def now(self) -> datetime:
        """The sandbox clock (real UTC time unless a `now` callable was given)."""
        return self._now()

    def stamp(self) -> str:
        """Now, as Webex writes timestamps."""
        return _stamp(self._now())

    def close(self) -> None:
        """Stop the delivery thread."""
        self.delivery.close()

    # Keeping the sandbox between starts

    _KEPT = ("orgs", "people", "tokens", "rooms", "memberships", "messages", "edits", "actions", "webhooks", "roles")

    def snapshot(self) -> dict:
        """Everything a later start needs to continue where this one stopped (JSON-ready)."""
        with self.lock:
            data = {name: dict(getattr(self, name)) for name in self._KEPT}
            data["org_id"] = self.org_id
            return json.loads(json.dumps(data))

    def fingerprint(self) -> tuple:
        """Changes whenever snapshot() would (cheap; for deciding when to save)."""
        with self.lock:
            return (self.seq, len(self.people), len(self.rooms), len(self.memberships), len(self.actions),
                    tuple((w["id"], w["status"], w["targetUrl"]) for w in self.webhooks.values()))

    @classmethod
    def restore(cls, data: dict, *, now: Callable[[], datetime] | None = None) -> "SandboxState":
        """A state from snapshot(); its change feed replays every kept message as created, in order."""
        state = cls(now=now)
        state.org_id = data["org_id"]
        for name in cls._KEPT:
            getattr(state, name).update(data.get(name, {}))
        with state.lock:
            for message in sorted(state.messages.values(), key=lambda m: m["created"]):
                state._event("created", message)
        return state

    # People and rooms

    def org(self, name: str) -> str:
        """The id of a named organisation, created on first use."""
        with self.lock:
            return self.orgs.setdefault(name, new_id("ORGANIZATION"))

    def add_person(self, email: str, display_name: str, *, bot: bool = False, token: str | None = None,
                   org: str | None = None) -> dict:
        """Create a person (or bot) with an optional API token, in the named org (default: the sandbox's own)."""
        first, _, last = display_name.partition(" ")
        person = {
            "id": new_id("PEOPLE"), "emails": [email.lower()], "displayName": display_name, "nickName": first,
            "firstName": first, "lastName": last, "orgId": self.org(org) if org else self.org_id, "type": "bot" if bot else "person",
            "created": self.stamp(),
        }
        with self.lock:
            if self.person_by_email(email) is not None:
                raise ApiProblem(409, f"A person with email {email} exists already")
            self.people[person["id"]] = person
            if token:
                self.tokens[token] = person["id"]
        return person

    def person_by_email(self, email: str) -> dict | None:
        """A person by email, case-insensitive."""
        email = email.lower()
        with self.lock:
            return next((p for p in self.people.values() if email in p["emails"]), None)

    def person_by_token(self, token: str) -> dict | None:
        """The person a token belongs to."""
        with self.lock:
            person_id = self.tokens.get(token)
            return self.people.get(person_id) if person_id else None

    def _person(self, email: str) -> dict:
        person = self.person_by_email(email)
        if person is None:
            raise ApiProblem(404, f"No person with email {email}")
        return person

    def add_room(self, title: str, members: list[str], *, creator_email: str, room_type: str = "group") -> dict:
        """Create a room with members (by email); each membership is announced to webhooks."""
        creator = self._person(creator_email)
        room = {"id": new_id("ROOM"), "title": title, "type": room_type, "isLocked": False,
                "lastActivity": self.stamp(), "created": self.stamp(), "creatorId": creator["id"]}
        with self.lock:
            self.rooms[room["id"]] = room
            for email in dict.fromkeys([creator_email, *members]):
                self.add_member(room["id"], email, actor_email=creator_email)
        return room

    def add_member(self, room_id: str, email: str, *, actor_email: str | None = None) -> dict:
        """Add a person to a room (idempotent); `actor_email` is who added them."""
        person = self._person(email)
        actor = self._person(actor_email) if actor_email else person
        with self.lock:
            if room_id not in self.rooms:
                raise ApiProblem(404, "The requested resource could not be found.")
            existing = next((m for m in self.memberships.values() if m["roomId"] == room_id and m["personId"] == person["id"]), None)
            if existing:
                return existing
            membership = {"id": membership_id(person["id"], room_id), "roomId": room_id, "roomType": self.rooms[room_id]["type"], "personId": person["id"],
                          "personEmail": person["emails"][0], "personDisplayName": person["displayName"],
                          "personOrgId": person["orgId"], "isModerator": False, "isMonitor": False, "created": self.stamp()}
            self.memberships[membership["id"]] = membership
            self.delivery.membership_created(membership, actor_id=actor["id"])
            return membership

    def remove_member(self, membership_id: str, *, actor_email: str | None = None) -> dict:
        """Take a person out of a room (a person leaving, or removed by `actor_email`); memberships/deleted
        goes to webhook owners still in the room and to the person removed."""
        with self.lock:
            membership = self.memberships.get(membership_id)
            if membership is None:
                raise ApiProblem(404, "The requested resource could not be found.")
            actor = self._person(actor_email) if actor_email else self.people[membership["personId"]]
            del self.memberships[membership_id]
            self.delivery.membership_deleted(membership, actor_id=actor["id"])
            return membership

    def members(self, room_id: str) -> list[str]:
        """Person ids of a room's members."""
        with self.lock:
            return [m["personId"] for m in self.memberships.values() if m["roomId"] == room_id]

    def is_member(self, room_id: str, person_id: str) -> bool:
        """Whether a person belongs to a room."""
        return person_id in self.members(room_id)

    def room_by_title(self, title: str) -> dict:
        """A room by its exact title."""
        with self.lock:
            room = next((r for r in self.rooms.values() if r["title"] == title), None)
        if room is None:
            raise KeyError(title)
        return room

    def direct_room(self, email_a: str, email_b: str) -> dict:
        """The 1:1 room of two people, created when missing."""
        a, b = self._person(email_a), self._person(email_b)
        with self.lock:
            for room in self.rooms.values():
                if room["type"] == "direct" and set(self.members(room["id"])) == {a["id"], b["id"]}:
                    return room
            return self.add_room(b["displayName"], [email_b], creator_email=email_a, room_type="direct")

    def directory(self) -> dict:
        """The bot, the people (with their demo role and organisation) and every room, for the chat page."""
        with self.lock:
            org_names = {org_id: name for name, org_id in self.orgs.items()}
            bots = [p for p in self.people.values() if p["type"] == "bot"]
            humans = [p for p in self.people.values() if p["type"] != "bot"]

            def entry(person: dict) -> dict:
                email = person["emails"][0]
                return {"id": person["id"], "email": email, "displayName": person["displayName"], "type": person["type"],
                        "org": org_names.get(person["orgId"]), "role": self.roles.get(email, "person")}

            rooms = []
            for room in sorted(self.rooms.values(), key=lambda r: r["created"]):
                members = [self.people[m]["emails"][0] for m in self.members(room["id"])]
                if room["type"] == "direct":
                    kind = "direct"
                else:
                    kind = "customer" if any(self.roles.get(e) == "customer" for e in members) else "staff"
                rooms.append({"id": room["id"], "title": room["title"], "type": room["type"], "kind": kind, "members": members})
            return {"bot": entry(bots[0]) if bots else None, "people": [entry(p) for p in humans], "rooms": rooms}

    # Messages

    def post_message(
        self,
        as_email: str,
        *,
        room_id: str | None = None,
        to_person_email: str | None = None,
        to_person_id: str | None = None,
        text: str | None = None,
        markdown: str | None = None,
        parent_id: str | None = None,
        attachments: list[dict] | None = None,
    ) -> dict:
        """Create a message as a person, with Webex's checks, and deliver webhooks."""
        author = self._person(as_email)
        if to_person_id and not to_person_email:
            target = self.people.get(to_person_id)
            if target is None:
                raise ApiProblem(404, "Unknown toPersonId")
            to_person_email = target["emails"][0]
        recipient: dict | None = None
        with self.lock:
            if room_id is None:
                if not to_person_email:
                    raise ApiProblem(400, "roomId, toPersonId or toPersonEmail is required")
                recipient = self._person(to_person_email)
                if recipient["id"] == author["id"]:
                    raise ApiProblem(400, "Cannot send a direct message to yourself")
                room_id = self.direct_room(as_email, to_person_email)["id"]
            room = self.rooms.get(room_id)
            if room is None or not self.is_member(room_id, author["id"]):
                raise ApiProblem(404, "The requested resource could not be found.")
            self._check_body(text, markdown)
            if attachments:
                if len(attachments) > 1:
                    raise ApiProblem(400, "Only one attachment is allowed per message")
                if attachments[0].get("contentType") != CARD_TYPE:
                    raise ApiProblem(400, f"Attachments must have contentType {CARD_TYPE}")
            if parent_id:
                parent = self.messages.get(parent_id)
                if parent is None or parent["roomId"] != room_id:
                    raise ApiProblem(400, "parentId must be a message in the same room")
                if parent.get("parentId"):
                    raise ApiProblem(400, "Threads can only be one level deep: parentId must be a root message")
            message = {"id": new_id("MESSAGE"), "roomId": room_id, "roomType": room["type"],
                       "personId": author["id"], "personEmail": author["emails"][0], "created": self.stamp()}
            if parent_id:
                message["parentId"] = parent_id
            if recipient is not None:
                message.update(toPersonId=recipient["id"], toPersonEmail=recipient["emails"][0])
            self._set_body(message, text, markdown)
            if attachments:
                message["attachments"] = attachments
            self.messages[message["id"]] = message
            room["lastActivity"] = message["created"]
            self._event("created", message)
            self.delivery.message_created(message)
            return dict(message)

    def _set_body(self, message: dict, text: str | None, markdown: str | None) -> None:
        """text, markdown, html and mentionedPeople of a message, as Webex derives them."""
        if markdown is not None:
            plain, markup, mentioned = render(markdown, self._lookup, mention_ids=self.mention_ids)
            message.update(markdown=markdown, text=text if text is not None else plain)
            if not self.omit_html:
                message["html"] = markup
            if mentioned:
                message["mentionedPeople"] = mentioned
        else:
            message["text"] = text

    def _check_body(self, text: str | None, markdown: str | None) -> None:
        if not (text or markdown):
            # Webex accepts file-only messages, but the sandbox has no files and a card needs a fallback.
            raise ApiProblem(400, "text or markdown is required")
        for value in (text, markdown):
            if value is not None and len(value.encode("utf-8")) > MAX_MESSAGE_BYTES:
                raise ApiProblem(400, f"Message exceeds the maximum of {MAX_MESSAGE_BYTES} bytes")

    def _lookup(self, kind: str, value: str) -> dict | None:
        if kind == "personEmail":
            return self.person_by_email(value)
        return self.people.get(value)

    def visible_message(self, person_id: str, message_id: str) -> dict:
        """A message the person may see, or 404. In a group space a bot sees only the messages
        that mention it and its own, as Webex shows a bot nothing else there."""
        with self.lock:
            message = self.messages.get(message_id)
            if message is None or not self.is_member(message["roomId"], person_id):
                raise ApiProblem(404, "The requested resource could not be found.")
            if not self.bot_may_read(person_id, message):
                raise ApiProblem(404, "The requested resource could not be found.")
            return dict(message)

    def bot_may_read(self, person_id: str, message: dict) -> bool:
        """Whether `person_id` may read `message`: people read everything in their spaces; a bot
        in a group space only what mentions it or what it wrote."""
        reader = self.people.get(person_id)
        if reader is None or reader["type"] != "bot" or message.get("roomType") != "group":
            return True
        return message["personId"] == person_id or person_id in message.get("mentionedPeople", [])

    def update_message(self, as_email: str, message_id: str, *, room_id: str | None, text: str | None, markdown: str | None) -> dict:
        """Edit a message: author only, no cards, at most 10 times."""
        author = self._person(as_email)
        with self.lock:
            message = self.messages.get(message_id)
            if message is None or not self.is_member(message["roomId"], author["id"]):
                raise ApiProblem(404, "The requested resource could not be found.")
            if message["personId"] != author["id"]:
                raise ApiProblem(403, "Only the author can edit a message")
            if room_id is None or room_id != message["roomId"]:
                raise ApiProblem(400, "roomId of the message is required")
            if message.get("attachments"):
                raise ApiProblem(400, "Messages with attachments cannot be edited")
            if self.edits.get(message_id, 0) >= MAX_EDITS:
                raise ApiProblem(400, f"A message can be edited at most {MAX_EDITS} times")
            self._check_body(text, markdown)
            self.edits[message_id] = self.edits.get(message_id, 0) + 1
            for key in ("text", "markdown", "html", "mentionedPeople"):
                message.pop(key, None)
            self._set_body(message, text, markdown)
            message["updated"] = self.stamp()
            self._event("updated", message)
            return dict(message)

    def delete_message(self, as_email: str, message_id: str) -> None:
        """Delete a message (its author only)."""
        author = self._person(as_email)
        with self.lock:
            message = self.messages.get(message_id)
            if message is None or not self.is_member(message["roomId"], author["id"]):
                raise ApiProblem(404, "The requested resource could not be found.")
            if message["personId"] != author["id"]:
                raise ApiProblem(403, "Only the author can delete a message")
            del self.messages[message_id]
            self._event("deleted", message)

    def messages_in(self, room_id: str) -> list[dict]:
        """A room's messages, oldest first."""
        with self.lock:
            return [dict(m) for m in self.messages.values() if m["roomId"] == room_id]

    # Card submits

    def submit_card(self, as_email: str, message_id: str, inputs: dict[str, Any]) -> dict:
        """Press a card's button: an attachment action, delivered to the card author's webhooks."""
        person = self._person(as_email)
        with self.lock:
            message = self.messages.get(message_id)
            if message is None or not self.is_member(message["roomId"], person["id"]):
                raise ApiProblem(404, "The requested resource could not be found.")
            if not message.get("attachments"):
                raise ApiProblem(400, "The message has no card")
            action = {"id": new_id("ATTACHMENT_ACTION"), "type": "submit", "messageId": message_id, "inputs": dict(inputs),
                      "personId": person["id"], "roomId": message["roomId"], "created": self.stamp()}
            self.actions[action["id"]] = action
            self.delivery.action_created(action, card_author=message["personId"])
            return dict(action)

    def visible_action(self, person_id: str, action_id: str) -> dict:
        """An attachment action its submitter or the card's author may read."""
        with self.lock:
            action = self.actions.get(action_id)
            if action is None:
                raise ApiProblem(404, "The requested resource could not be found.")
            card = self.messages.get(action["messageId"])
            if person_id != action["personId"] and (card is None or card["personId"] != person_id):
                raise ApiProblem(404, "The requested resource could not be found.")
            return dict(action)

    # Change feed

    def _event(self, kind: str, message: dict) -> None:
        self.seq += 1
        self.events.append({"seq": self.seq, "kind": kind, "message": dict(message)})
        self.changed.notify_all()

    def events_since(self, seq: int, room_id: str | None = None) -> list[dict]:
        """Message events newer than `seq`, optionally of one room."""
        with self.lock:
            # Events are appended in seq order: start at the first newer one instead of scanning all.
            start = bisect.bisect_right(self.events, seq, key=lambda e: e["seq"])
            return [e for e in self.events[start:] if room_id is None or e["message"]["roomId"] == room_id]

    def wait_events(self, since: int, room_id: str | None = None, timeout: float = 25.0) -> tuple[list[dict], int]:
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
            return self.changed.wait_for(lambda: any(d["data_id"] == data_id for d in self.deliveries[since:]), timeout=timeout)

    def wait_deliveries(self, n: int, timeout: float = 10.0) -> bool:
        """Block until at least `n` webhook deliveries were attempted."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.deliveries) >= n, timeout=timeout)
