"""The sandbox's Webex, in memory: people, rooms, memberships, messages, files, card actions, webhooks.

Rules follow Webex where the bot depends on them: 7,439-byte messages, one card and one file
per message (a card with a text fallback), threads one level deep, at most 10 edits and none
of messages with a card or a file, bots in group rooms only hear messages that mention them
(and their own), only moderators post in announcement-only spaces, membership ids derived from
person and room, a revoked token answers 401 everywhere.
"""

from __future__ import annotations

import base64
import bisect
import json
import random
import threading
from collections import deque
from datetime import datetime, timezone
from typing import Any, Callable

from sandbox.delivery import Delivery
from sandbox.ids import membership_id, new_id
from sandbox.render import render

MAX_MESSAGE_BYTES = 7439  # Webex's limit on a message's text or markdown (bot/outbox.py splits longer ones)
MAX_EDITS = 10
MAX_FILE_BYTES = 100 * 1024 * 1024  # Webex's limit on one file of a message
NOT_FOUND = "The requested resource could not be found."
# What Webex answers to a token that is unknown, expired or revoked.
INVALID_TOKEN = "The request requires a valid access token set in the Authorization request header."
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
# What Webex answers to toPersonEmail for an address without a Webex account: the body of a
# public capture (jbogarin/go-cisco-webex-teams issue 19, a message to an outside address);
# the capture shows no status, so 404, as for other people and rooms that cannot be found.
NO_ONE_ON_ONE = "Failed to get one on one conversation"


class ApiProblem(Exception):
    """A request Webex would refuse; becomes a Webex-shaped error response."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class RateLimit:
    """Webex-like rate limiting: a token bucket per (token, HTTP method, endpoint collection),
    refilled on the sandbox's clock; beyond it the request answers 429 with Retry-After.

    Webex publishes no figures (it answers 429 with a Retry-After, see NOTES.md); a burst of 50
    and 10 requests a second after it are this sandbox's choice, enough for a person and strict
    enough that a bot sending in bulk meets 429s.
    """

    PER_SECOND = 10.0
    BURST = 50

    def __init__(self, per_second: float | None = PER_SECOND, burst: int = BURST) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], tuple[float, datetime]] = {}  # key → (tokens, at)
        self.per_second: float | None = None
        self.burst = burst
        self.refused = 0
        self.allowed = 0
        self.configure(per_second=per_second, burst=burst)

    def configure(self, *, per_second: float | None, burst: int | None = None) -> None:
        """Refill `per_second` (None or 0: no limit) up to `burst` (default BURST); every bucket starts full."""
        if per_second is not None and per_second < 0 or burst is not None and burst < 1:
            raise ValueError("per_second must be >= 0 and burst >= 1")
        with self._lock:
            self.per_second = per_second or None
            self.burst = burst if burst is not None else self.BURST
            self._buckets.clear()

    def take(self, key: tuple[str, str, str], now: datetime) -> float:
        """0 when the call may go ahead, else the seconds to wait (Retry-After)."""
        per_second = self.per_second
        if not per_second:
            return 0.0
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            # A test's clock may be set back; time never refills a bucket backwards.
            elapsed = max(0.0, (now - at).total_seconds())
            tokens = min(float(self.burst), tokens + elapsed * per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                self.allowed += 1
                return 0.0
            self._buckets[key] = (tokens, now)
            self.refused += 1
            return (1 - tokens) / per_second


class Faults:
    """Canned failures for the next matching API requests (tests of retry logic)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[dict[str, Any]] = []

    def add(self, method: str, path: str, status: int, *, headers: dict | None = None, body: dict | None = None, times: int = 1,
            retry_after: int | None = None, after: bool = False) -> None:
        """The next `times` requests of `method` whose path starts with `path` get `status`.

        `retry_after` sets the Retry-After header (429, and 423 Locked, carry one). With `after`
        the request is carried out first and only its answer is replaced: a 502 or 504 on a POST
        whose message was created all the same.
        """
        headers = dict(headers or {})
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        with self._lock:
            for _ in range(times):
                self._queue.append({"method": method.upper(), "path": path, "status": status, "headers": headers, "body": body,
                                    "after": after})

    def locked(self, method: str, path: str, *, retry_after: int, times: int = 1) -> None:
        """423 Locked with Retry-After for the next `times` matching requests, as Webex answers
        while a resource is briefly unavailable."""
        self.add(method, path, 423, retry_after=retry_after, times=times)

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
        self.files: dict[str, dict] = {}  # content id → name, type, size, roomId, messageId
        self.file_data: dict[str, bytes] = {}  # content id → the file's bytes
        self.revoked: set[str] = set()
        # Where this sandbox is reached, for the content URLs of files (the API sets it per request).
        self.base_url = "http://127.0.0.1"
        self.roles: dict[str, str] = {}  # email → what the person is in the demo, shown on the page
        self.events: list[dict] = []
        self.seq = 0
        self.revision = 0  # counts changes to memberships and rooms, which the message feed does not show
        self.pollers = 0
        self.deliveries: list[dict] = []
        self.requests: deque[dict] = deque(maxlen=10_000)
        # Every /v1 exchange (request and answer in full) while a list is set here: the contract
        # tests validate them against Webex's OpenAPI document.
        self.exchanges: list[dict] | None = None
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

    _KEPT = ("orgs", "people", "tokens", "rooms", "memberships", "messages", "edits", "actions", "webhooks", "roles", "files")

    def snapshot(self) -> dict:
        """Everything a later start needs to continue where this one stopped (JSON-ready; file bytes in base64)."""
        with self.lock:
            data = {name: dict(getattr(self, name)) for name in self._KEPT}
            data["org_id"] = self.org_id
            data["file_data"] = {key: base64.b64encode(value).decode("ascii") for key, value in self.file_data.items()}
            return json.loads(json.dumps(data))

    def fingerprint(self) -> tuple:
        """Changes whenever snapshot() would (cheap; for deciding when to save)."""
        with self.lock:
            return (self.seq, self.revision, len(self.people), len(self.rooms), len(self.actions), len(self.files),
                    tuple((w["id"], w["status"], w["targetUrl"]) for w in self.webhooks.values()))

    @classmethod
    def restore(cls, data: dict, *, now: Callable[[], datetime] | None = None) -> "SandboxState":
        """A state from snapshot(); its change feed replays every kept message as created, in order."""
        state = cls(now=now)
        state.org_id = data["org_id"]
        for name in cls._KEPT:
            getattr(state, name).update(data.get(name, {}))
        # Snapshots kept before membership ids were derived from person and room: key them the new way.
        state.memberships = {membership_id(m["personId"], m["roomId"]): {**m, "id": membership_id(m["personId"], m["roomId"])}
                             for m in state.memberships.values()}
        state.file_data.update({key: base64.b64decode(value) for key, value in data.get("file_data", {}).items()})
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
        """The person a token belongs to (None for an unknown or revoked token)."""
        with self.lock:
            if token in self.revoked:
                return None
            person_id = self.tokens.get(token)
            return self.people.get(person_id) if person_id else None

    def revoke_token(self, token: str) -> None:
        """From now on every call with `token` answers 401, as when Webex revokes a bot's token."""
        with self.lock:
            if token not in self.tokens:
                raise KeyError(token)
            self.revoked.add(token)

    def restore_token(self, token: str) -> None:
        """Let a revoked token work again."""
        with self.lock:
            self.revoked.discard(token)

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

    def add_member(self, room_id: str, email: str, *, actor_email: str | None = None, moderator: bool = False) -> dict:
        """Add a person to a room (idempotent); `actor_email` is who added them. The membership's
        id is derived from person and room, so the same person joining again gets the same id."""
        person = self._person(email)
        actor = self._person(actor_email) if actor_email else person
        with self.lock:
            if room_id not in self.rooms:
                raise ApiProblem(404, NOT_FOUND)
            existing = self.memberships.get(membership_id(person["id"], room_id))
            if existing:
                return existing
            membership = {"id": membership_id(person["id"], room_id), "roomId": room_id, "roomType": self.rooms[room_id]["type"],
                          "personId": person["id"], "personEmail": person["emails"][0], "personDisplayName": person["displayName"],
                          "personOrgId": person["orgId"], "isModerator": moderator, "isMonitor": False, "created": self.stamp()}
            self.memberships[membership["id"]] = membership
            self.revision += 1
            self.delivery.membership_created(membership, actor_id=actor["id"])
            return membership

    def remove_member(self, room_id: str, email: str, *, actor_email: str | None = None) -> dict:
        """Take a person out of a room (they left, or `actor_email` removed them); webhook owners
        in the room and the removed person hear memberships/deleted. Returns the membership that was."""
        person = self._person(email)
        actor = self._person(actor_email) if actor_email else person
        with self.lock:
            membership = self.memberships.get(membership_id(person["id"], room_id))
            if membership is None:
                raise ApiProblem(404, NOT_FOUND)
            audience = set(self.members(room_id))
            del self.memberships[membership["id"]]
            self.revision += 1
            self.delivery.membership_deleted(membership, actor_id=actor["id"], audience=audience)
            return dict(membership)

    def membership_of(self, room_id: str, person_id: str) -> dict | None:
        """A person's membership of a room, if any."""
        with self.lock:
            return self.memberships.get(membership_id(person_id, room_id))

    def set_moderator(self, room_id: str, email: str, moderator: bool = True) -> dict:
        """Make a member a moderator of the room (or not)."""
        person = self._person(email)
        with self.lock:
            membership = self.membership_of(room_id, person["id"])
            if membership is None:
                raise ApiProblem(404, NOT_FOUND)
            membership["isModerator"] = moderator
            self.revision += 1
            return dict(membership)

    def set_announcement_only(self, room_id: str, announcement_only: bool = True) -> dict:
        """Make a group room announcement-only: from then on only its moderators may post."""
        with self.lock:
            room = self.rooms.get(room_id)
            if room is None or room["type"] != "group":
                raise ApiProblem(404, NOT_FOUND)
            if announcement_only:
                room["isAnnouncementOnly"] = True
            else:
                room.pop("isAnnouncementOnly", None)
            self.revision += 1
            return dict(room)

    def visible_membership(self, person_id: str, membership_id_: str) -> dict:
        """A membership of a room the person is in, or 404."""
        with self.lock:
            membership = self.memberships.get(membership_id_)
            if membership is None or not self.is_member(membership["roomId"], person_id):
                raise ApiProblem(404, NOT_FOUND)
            return dict(membership)

    def delete_membership(self, as_email: str, membership_id_: str) -> dict:
        """DELETE /memberships/{id}: a member leaves, or removes someone; in a space with
        moderators only a moderator removes others; nobody leaves a 1:1 space."""
        caller = self._person(as_email)
        with self.lock:
            membership = self.visible_membership(caller["id"], membership_id_)
            if membership["roomType"] == "direct":
                raise ApiProblem(403, "A member cannot be removed from a 1:1 space.")
            if membership["personId"] != caller["id"]:
                moderated = any(m["isModerator"] for m in self.memberships.values() if m["roomId"] == membership["roomId"])
                mine = self.membership_of(membership["roomId"], caller["id"])
                if moderated and not (mine and mine["isModerator"]):
                    raise ApiProblem(403, "Only a moderator can remove members from this space.")
            return self.remove_member(membership["roomId"], membership["personEmail"], actor_email=as_email)

    def members(self, room_id: str) -> list[str]:
        """Person ids of a room's members."""
        with self.lock:
            return [m["personId"] for m in self.memberships.values() if m["roomId"] == room_id]

    def is_member(self, room_id: str, person_id: str) -> bool:
        """Whether a person belongs to a room."""
        with self.lock:
            return membership_id(person_id, room_id) in self.memberships

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
        files: list[dict] | None = None,
    ) -> dict:
        """Create a message as a person, with Webex's checks, and deliver webhooks.

        `files`: at most one {"name", "type", "data"} (bytes), shown in the message's `files` as
        its content URL.
        """
        author = self._person(as_email)
        if to_person_id and not to_person_email:
            target = self.people.get(to_person_id)
            if target is None:
                raise ApiProblem(404, NO_ONE_ON_ONE)
            to_person_email = target["emails"][0]
        recipient: dict | None = None
        with self.lock:
            if room_id is None:
                if not to_person_email:
                    raise ApiProblem(400, "roomId, toPersonId or toPersonEmail is required")
                recipient = self.person_by_email(to_person_email)
                if recipient is None:
                    raise ApiProblem(404, NO_ONE_ON_ONE)
                if recipient["id"] == author["id"]:
                    raise ApiProblem(400, "Cannot send a direct message to yourself")
                room_id = self.direct_room(as_email, to_person_email)["id"]
            room = self.rooms.get(room_id)
            if room is None or not self.is_member(room_id, author["id"]):
                raise ApiProblem(404, NOT_FOUND)
            if room.get("isAnnouncementOnly") and not self.membership_of(room_id, author["id"])["isModerator"]:
                raise ApiProblem(403, "Only moderators can post in an announcement-only space.")
            self._check_body(text, markdown, has_file=bool(files))
            if files:
                self._check_files(files)
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
            if files:
                message["files"] = [self._store_file(files[0], room_id=room_id, message_id=message["id"])]
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
        elif text is not None:  # a file may come without text: then the message has none
            message["text"] = text

    def _check_body(self, text: str | None, markdown: str | None, *, has_file: bool = False) -> None:
        if not (text or markdown or has_file):
            # A file may come alone; a card alone is refused: it needs a text fallback.
            raise ApiProblem(400, "text, markdown or files is required")
        for value in (text, markdown):
            if value is not None and len(value.encode("utf-8")) > MAX_MESSAGE_BYTES:
                raise ApiProblem(400, f"Message exceeds the maximum of {MAX_MESSAGE_BYTES} bytes")

    def _check_files(self, files: list[dict]) -> None:
        if len(files) > 1:
            raise ApiProblem(400, "Only one file may be included with a message")
        if len(files[0]["data"]) > MAX_FILE_BYTES:
            raise ApiProblem(413, f"The file exceeds the maximum of {MAX_FILE_BYTES} bytes")
        if not files[0].get("name"):
            raise ApiProblem(400, "The file has no name")

    def _store_file(self, file: dict, *, room_id: str, message_id: str) -> str:
        content_id = new_id("CONTENT")
        self.files[content_id] = {"id": content_id, "name": file["name"], "type": file.get("type") or "application/octet-stream",
                                  "size": len(file["data"]), "roomId": room_id, "messageId": message_id}
        self.file_data[content_id] = bytes(file["data"])
        return f"{self.base_url.rstrip('/')}/v1/contents/{content_id}"

    def file_of(self, url: str) -> dict | None:
        """The stored file behind a message's content URL."""
        with self.lock:
            return self.files.get(url.rsplit("/", 1)[-1])

    def visible_content(self, person_id: str | None, content_id: str) -> tuple[dict, bytes]:
        """A file and its bytes for a reader who may read its message (person_id None: the page,
        which reads everything); else 404, as for the message."""
        with self.lock:
            meta = self.files.get(content_id)
            message = self.messages.get(meta["messageId"]) if meta else None
            if meta is None or message is None:
                raise ApiProblem(404, NOT_FOUND)
            if person_id is not None:
                self.visible_message(person_id, message["id"])
            return dict(meta), self.file_data[content_id]

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
                raise ApiProblem(404, NOT_FOUND)
            if not self.bot_may_read(person_id, message):
                raise ApiProblem(404, NOT_FOUND)
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
                raise ApiProblem(404, NOT_FOUND)
            if message["personId"] != author["id"]:
                raise ApiProblem(403, "Only the author can edit a message")
            if room_id is None or room_id != message["roomId"]:
                raise ApiProblem(400, "roomId of the message is required")
            if message.get("attachments") or message.get("files"):
                raise ApiProblem(400, "Messages with attachments or files cannot be edited")
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
                raise ApiProblem(404, NOT_FOUND)
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
                raise ApiProblem(404, NOT_FOUND)
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
                raise ApiProblem(404, NOT_FOUND)
            card = self.messages.get(action["messageId"])
            if person_id != action["personId"] and (card is None or card["personId"] != person_id):
                raise ApiProblem(404, NOT_FOUND)
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
