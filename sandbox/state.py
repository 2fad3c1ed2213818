"""The sandbox's Webex, in memory: people, rooms, memberships, messages, files, card actions, webhooks.

Rules follow Webex where the bot depends on them: 7,439-byte messages, one card and one file
per message (a card with a text fallback), threads one level deep, at most 10 edits and none
of messages with a card or a file, bots in group rooms only hear messages that mention them
(and their own), only moderators post in announcement-only spaces, membership ids derived from
person and room, a revoked token answers 401 everywhere.

SandboxState is built in layers: the data, clock, change feed and snapshots (sandbox/core.py),
people, rooms and memberships (sandbox/spaces.py), and here messages, files and card submits.
Rate limits and injected faults are in sandbox/limits.py, Webex's refusals in sandbox/problems.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sandbox.delivery import Delivery
from sandbox.ids import new_id
from sandbox.limits import Faults, RateLimit
from sandbox.problems import INVALID_TOKEN, NO_ONE_ON_ONE, NOT_FOUND, ApiProblem
from sandbox.render import render
from sandbox.spaces import Spaces

__all__ = [
    "CARD_TYPE",
    "INVALID_TOKEN",
    "MAX_EDITS",
    "MAX_FILE_BYTES",
    "MAX_MESSAGE_BYTES",
    "NO_ONE_ON_ONE",
    "NOT_FOUND",
    "ApiProblem",
    "Faults",
    "RateLimit",
    "SandboxState",
]

MAX_MESSAGE_BYTES = 7439  # Webex's limit on a message's text or markdown (bot/outbox.py splits longer ones)
MAX_EDITS = 10
MAX_FILE_BYTES = 100 * 1024 * 1024  # Webex's limit on one file of a message
CARD_TYPE = "application/vnd.microsoft.card.adaptive"


class SandboxState(Spaces):
    """The sandbox's Webex: people, rooms and memberships (Spaces), and here messages, files and card submits."""

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        super().__init__(now=now)
        self.delivery = Delivery(self)

    def close(self) -> None:
        """Stop the delivery thread."""
        self.delivery.close()

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
        attachments: list[dict[str, Any]] | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
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
        recipient: dict[str, Any] | None = None
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
            mine = self.membership_of(room_id, author["id"])
            if room.get("isAnnouncementOnly") and not (mine and mine["isModerator"]):
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
            message = {
                "id": new_id("MESSAGE"),
                "roomId": room_id,
                "roomType": room["type"],
                "personId": author["id"],
                "personEmail": author["emails"][0],
                "created": self.stamp(),
            }
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

    def _set_body(self, message: dict[str, Any], text: str | None, markdown: str | None) -> None:
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

    def _check_files(self, files: list[dict[str, Any]]) -> None:
        if len(files) > 1:
            raise ApiProblem(400, "Only one file may be included with a message")
        if len(files[0]["data"]) > MAX_FILE_BYTES:
            raise ApiProblem(413, f"The file exceeds the maximum of {MAX_FILE_BYTES} bytes")
        if not files[0].get("name"):
            raise ApiProblem(400, "The file has no name")

    def _store_file(self, file: dict[str, Any], *, room_id: str, message_id: str) -> str:
        content_id = new_id("CONTENT")
        self.files[content_id] = {
            "id": content_id,
            "name": file["name"],
            "type": file.get("type") or "application/octet-stream",
            "size": len(file["data"]),
            "roomId": room_id,
            "messageId": message_id,
        }
        self.file_data[content_id] = bytes(file["data"])
        return f"{self.base_url.rstrip('/')}/v1/contents/{content_id}"

    def file_of(self, url: str) -> dict[str, Any] | None:
        """The stored file behind a message's content URL."""
        with self.lock:
            return self.files.get(url.rsplit("/", 1)[-1])

    def visible_content(self, person_id: str | None, content_id: str) -> tuple[dict[str, Any], bytes]:
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

    def _lookup(self, kind: str, value: str) -> dict[str, Any] | None:
        if kind == "personEmail":
            return self.person_by_email(value)
        return self.people.get(value)

    def visible_message(self, person_id: str, message_id: str) -> dict[str, Any]:
        """A message the person may see, or 404. In a group space a bot sees only the messages
        that mention it and its own, as Webex shows a bot nothing else there."""
        with self.lock:
            message = self.messages.get(message_id)
            if message is None or not self.is_member(message["roomId"], person_id):
                raise ApiProblem(404, NOT_FOUND)
            if not self.bot_may_read(person_id, message):
                raise ApiProblem(404, NOT_FOUND)
            return dict(message)

    def bot_may_read(self, person_id: str, message: dict[str, Any]) -> bool:
        """Whether `person_id` may read `message`: people read everything in their spaces; a bot
        in a group space only what mentions it or what it wrote."""
        reader = self.people.get(person_id)
        if reader is None or reader["type"] != "bot" or message.get("roomType") != "group":
            return True
        return message["personId"] == person_id or person_id in message.get("mentionedPeople", [])

    def update_message(
        self, as_email: str, message_id: str, *, room_id: str | None, text: str | None, markdown: str | None
    ) -> dict[str, Any]:
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

    def messages_in(self, room_id: str) -> list[dict[str, Any]]:
        """A room's messages, oldest first."""
        with self.lock:
            return [dict(m) for m in self.messages.values() if m["roomId"] == room_id]

    # Card submits

    def submit_card(self, as_email: str, message_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Press a card's button: an attachment action, delivered to the card author's webhooks."""
        person = self._person(as_email)
        with self.lock:
            message = self.messages.get(message_id)
            if message is None or not self.is_member(message["roomId"], person["id"]):
                raise ApiProblem(404, NOT_FOUND)
            if not message.get("attachments"):
                raise ApiProblem(400, "The message has no card")
            action = {
                "id": new_id("ATTACHMENT_ACTION"),
                "type": "submit",
                "messageId": message_id,
                "inputs": dict(inputs),
                "personId": person["id"],
                "roomId": message["roomId"],
                "created": self.stamp(),
            }
            self.actions[action["id"]] = action
            self.delivery.action_created(action, card_author=message["personId"])
            return dict(action)

    def visible_action(self, person_id: str, action_id: str) -> dict[str, Any]:
        """An attachment action its submitter or the card's author may read."""
        with self.lock:
            action = self.actions.get(action_id)
            if action is None:
                raise ApiProblem(404, NOT_FOUND)
            card = self.messages.get(action["messageId"])
            if person_id != action["personId"] and (card is None or card["personId"] != person_id):
                raise ApiProblem(404, NOT_FOUND)
            return dict(action)
