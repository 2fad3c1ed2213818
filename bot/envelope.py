"""A webhook body, read and checked before the inbox stores it: strict JSON, storable text, ids that
look like Webex's, and the key that makes a repeated delivery a duplicate."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

from bot.events import webex_time

# What the columns hold (storage/models/runtime.py InboxEvent); a longer value is no Webex event.
KEY_MAX, NAME_MAX = 300, 40


class BadEvent(ValueError):
    """A webhook body that is not a Webex event."""


# Webex's ids are base64 text of some 70 to 110 characters. An id of anything but printable
# ASCII, or longer than ID_MAX, is no Webex id: it would not fit the columns, and a line break
# in one would write lines of its own into the logs.
ID_MAX = 200
ENVELOPE_IDS = ("id", "actorId", "createdBy", "orgId", "ownedBy", "appId")
DATA_IDS = ("id", "roomId", "personId", "messageId", "parentId", "personOrgId")
# Webex's envelope is three levels deep; a body of 64 KB could otherwise nest 30,000 deep.
MAX_DEPTH = 16
_PRINTABLE_ASCII = re.compile(r"[!-~]*")
# No database stores these in text: PostgreSQL refuses NUL and half a surrogate pair in jsonb,
# and no UTF-8 encoder takes the latter for a column.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _no_constant(name: str) -> float:
    raise BadEvent(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise BadEvent(f"{text[:20]} is beyond any JSON number a database stores")
    return number


def read_envelope(body: bytes) -> dict[str, Any]:
    """The webhook body as a payload the inbox can store, or BadEvent saying what is wrong with it.

    Strict JSON (no NaN or Infinity, which Python reads and PostgreSQL refuses), nested at most
    MAX_DEPTH, every text storable, the ids printable ASCII of at most ID_MAX characters, and
    `data.created`, when given, a time with its offset.
    """
    try:
        payload = json.loads(body, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise BadEvent(f"nested deeper than {MAX_DEPTH}") from None
    except BadEvent:
        raise
    except ValueError as exc:  # not JSON, not UTF-8, an integer of thousands of digits
        raise BadEvent(f"not JSON: {exc}") from None
    _check_values(payload)
    event_key(payload)
    assert isinstance(payload, dict)  # event_key refuses anything else
    for name in ENVELOPE_IDS:
        _check_id(name, payload.get(name))
    for name in DATA_IDS:
        _check_id(f"data.{name}", payload["data"].get(name))
    created = payload["data"].get("created")
    if created is not None and webex_time(created) is None:
        raise BadEvent("data.created is not a time")
    return payload


def _check_values(value: Any) -> None:
    """Every text in `value` (keys too) storable, at most MAX_DEPTH levels deep."""
    level = [value]
    for _ in range(MAX_DEPTH + 1):
        inner: list[Any] = []
        for item in level:
            if isinstance(item, str):
                if _UNSTORABLE.search(item):
                    raise BadEvent("a text holds NUL or half a surrogate pair")
            elif isinstance(item, dict):
                inner.extend(item.keys())
                inner.extend(item.values())
            elif isinstance(item, list):
                inner.extend(item)
        if not inner:
            return
        level = inner
    raise BadEvent(f"nested deeper than {MAX_DEPTH}")


def _check_id(name: str, value: Any) -> None:
    """A string id, when one is given, is printable ASCII of at most ID_MAX characters."""
    if isinstance(value, str) and (len(value) > ID_MAX or not _PRINTABLE_ASCII.fullmatch(value)):
        raise BadEvent(f"{name} is not a Webex id (printable ASCII, at most {ID_MAX} characters)")


# The events whose data.created is when they happened. A removal's is when the membership that
# ended began, however long ago that was.
_CREATED_IS_THE_EVENT = {("messages", "created"), ("attachmentActions", "created"), ("memberships", "created")}


def event_created(payload: dict[str, Any]) -> datetime | None:
    """When the message was posted, the card pressed or the bot added, by Webex's `data.created`;
    None when the payload does not say (or the event is a removal)."""
    if (payload.get("resource"), payload.get("event")) not in _CREATED_IS_THE_EVENT:
        return None
    data = payload.get("data")
    return webex_time(data.get("created")) if isinstance(data, dict) else None


def event_key(payload: dict[str, Any]) -> tuple[str, str, str]:
    """(resource, event, unique key) of a webhook payload; BadEvent if it lacks them.

    The key is resource, event and data.id, and for a membership also its data.created: Webex
    gives a membership the same id each time the same person joins the same space, so a bot
    removed and added again is told with the same id, and only the time tells the two apart.
    """
    if not isinstance(payload, dict):
        raise BadEvent("body is not a JSON object")
    resource, event, data = payload.get("resource"), payload.get("event"), payload.get("data")
    if not isinstance(resource, str) or not isinstance(event, str) or not isinstance(data, dict):
        raise BadEvent("resource, event and data are required")
    data_id = data.get("id")
    if not isinstance(data_id, str) or not data_id:
        raise BadEvent("data.id is required")
    key = f"{resource}:{event}:{data_id}"
    created = data.get("created")
    if resource == "memberships" and isinstance(created, str) and created:
        key = f"{key}:{created}"
    if len(resource) > NAME_MAX or len(event) > NAME_MAX or len(key) > KEY_MAX:
        raise BadEvent("resource, event or data.id is longer than any of Webex's")
    if not all(_PRINTABLE_ASCII.fullmatch(part) for part in (resource, event, data_id)):
        raise BadEvent("resource, event or data.id is not printable ASCII")
    return resource, event, key


def own_doing(payload: dict[str, Any]) -> bool:
    """Whether the event was caused by the webhook's creator: the bot's own message, or a space
    it opened. The bot registers its webhooks with its own token, so `createdBy` is the bot and
    such events need no work: the endpoint drops them unstored (a worker would drop them too)."""
    created_by = payload.get("createdBy")
    return isinstance(created_by, str) and bool(created_by) and payload.get("actorId") == created_by
