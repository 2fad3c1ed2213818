"""Shared pieces of every card: the envelope, text, inputs and submit buttons.

Cards are plain dicts in Adaptive Cards 1.3 (what Webex renders). Every button carries
`{"action": <id>}` in its data; the router finds the handler by that id. Webex allows at
most five actions per card and cannot edit a card once posted.
"""

from __future__ import annotations

import json
from typing import Any

VERSION = "1.3"
MAX_ACTIONS = 5
# Webex takes a card of about 20 KB of JSON; measured as the SDK sends it (card_bytes).
MAX_CARD_BYTES = 20_000


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An AdaptiveCard envelope."""
    actions = actions or []
    if len(actions) > MAX_ACTIONS:
        raise ValueError(f"Webex shows at most {MAX_ACTIONS} actions on a card, got {len(actions)}")
    result: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": VERSION,
        "body": body,
    }
    if actions:
        result["actions"] = actions
    return result


def card_bytes(card: dict[str, Any]) -> int:
    """The card's size as Webex receives it: requests serialises the body with json.dumps' defaults,
    so every non-ASCII character travels as \\uXXXX (six bytes, twelve for an emoji)."""
    return len(json.dumps(card).encode("ascii"))


def text(value: str, *, weight: str | None = None, size: str | None = None, wrap: bool = True,
         is_subtle: bool = False) -> dict[str, Any]:
    """A TextBlock (markdown subset as Adaptive Cards renders it)."""
    block: dict[str, Any] = {"type": "TextBlock", "text": value, "wrap": wrap}
    if weight:
        block["weight"] = weight
    if size:
        block["size"] = size
    if is_subtle:
        block["isSubtle"] = True
    return block


def facts(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A FactSet of (title, value) pairs."""
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in pairs]}


def choice(input_id: str, label: str, options: list[tuple[str, str]], *, value: str | None = None) -> list[dict[str, Any]]:
    """A label and a compact ChoiceSet of (title, value) options."""
    field: dict[str, Any] = {"type": "Input.ChoiceSet", "id": input_id, "style": "compact",
                             "choices": [{"title": t, "value": v} for t, v in options]}
    if value is not None:
        field["value"] = value
    return [text(label, weight="Bolder"), field]


def submit(title: str, action: str, **data: Any) -> dict[str, Any]:
    """A submit button that sends `{"action": action, **data}` with the card's inputs."""
    return {"type": "Action.Submit", "title": title, "data": {"action": action, **data}}
