"""Webex-style ids: base64 (no padding) of ciscospark://us/<KIND>/<uuid>."""

from __future__ import annotations

import base64
import uuid


def make_id(kind: str, value: uuid.UUID | str) -> str:
    """The Webex id of a resource of `kind` with the given uuid."""
    raw = f"ciscospark://us/{kind}/{value}".encode()
    return base64.b64encode(raw).decode().rstrip("=")


def new_id(kind: str) -> str:
    """A fresh id of `kind` (PEOPLE, ROOM, MESSAGE, MEMBERSHIP, WEBHOOK, ATTACHMENT_ACTION, ORGANIZATION)."""
    return make_id(kind, uuid.uuid4())


def membership_id(person_id: str, room_id: str) -> str:
    """The id of a person's membership of a room: derived from both, as Webex's are, so the same
    person joining the same room again gets the same id."""
    return make_id("MEMBERSHIP", f"{uuid_of(person_id)}:{uuid_of(room_id)}")


def uuid_of(resource_id: str) -> str:
    """The last path part of a decoded id (what spark-mention elements carry)."""
    decoded = base64.b64decode(resource_id + "=" * (-len(resource_id) % 4)).decode()
    return decoded.rsplit("/", 1)[-1]
