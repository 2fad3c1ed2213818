"""Shared pieces of every card: the envelope, text, inputs and submit buttons.

Cards are plain dicts in Adaptive Cards 1.3 (what Webex renders). Every button carries
`{"action": <id>}` in its data; the router finds the handler by that id. Webex allows at
most five actions per card and cannot edit a card once posted.

Builders take what users typed as it was typed and escape it themselves, for the card's own
markdown (`typed`, `says`: see bot/text.py), never with the backslashes of a Webex message;
input values, placeholders and button data are plain text and stay as typed. A builder whose
free text could outgrow a card wraps itself in `fit`, so a card never outgrows what Webex takes.
"""

from __future__ import annotations

from collections.abc import Callable
from string import Formatter
from typing import Any

from bot import i18n
from bot.outbox import MAX_CARD_BYTES, card_bytes
from bot.text import card_markdown, escape_card_text, visible

VERSION = "1.3"
MAX_ACTIONS = 5
ELLIPSIS = "…"
# The id of the TextBlock a shortened card carries: senders look for it (was_shortened).
SHORTENED = "shortened"
# The longest a one-line text input takes unless told otherwise.
INPUT_MAX = 200


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


def says(key: str, lang: str, *, links: bool = True, **values: object) -> str:
    """A catalogue text for a card's TextBlock or Fact, its values (names, numbers, what users typed)
    shown as typed; `links=False` where the staff read what customers typed: no web address in the
    values is a link."""
    template = i18n.template(key, lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE)
    parts: list[tuple[str, bool]] = []
    for literal, field, spec, _ in Formatter().parse(template):
        parts.append((literal, False))
        if field is not None:
            parts.append((format(values[field], spec or ""), True))
    return card_markdown(parts, links=links)


def typed(value: str, *, links: bool = True) -> str:
    """What a user typed, for a card's TextBlock or Fact: shown as typed (`links=False`: with its web
    addresses no links, where the staff read what customers typed)."""
    return escape_card_text(value, links=links)


class Cut:
    """Shortens what users typed to at most `limit` characters, ending in an ellipsis; notes whether it did."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.shortened = False
        self.longest = 0

    def __call__(self, value: str) -> str:
        self.longest = max(self.longest, len(value))
        if self.limit is None or len(value) <= self.limit:
            return value
        self.shortened = True
        return value[: max(self.limit - 1, 0)].rstrip() + ELLIPSIS


def fit(build: Callable[[Cut], dict[str, Any]]) -> dict[str, Any]:
    """The card `build(cut)` makes, with what users typed (passed through `cut`) shortened as little as
    keeps it within MAX_CARD_BYTES; a shortened card says so and where the whole text is (`shortened`)."""
    probe = Cut()
    whole = build(probe)
    if card_bytes(whole) <= MAX_CARD_BYTES:
        return whole
    low, high, best = 0, probe.longest - 1, None
    while low <= high:
        limit = (low + high) // 2
        candidate = build(Cut(limit))
        if card_bytes(candidate) <= MAX_CARD_BYTES:
            best, low = candidate, limit + 1
        else:
            high = limit - 1
    if best is None:
        raise ValueError(f"the card is larger than {MAX_CARD_BYTES} bytes without anything users typed")
    return best


def shortened(lang: str, key: str = "card.shortened", **values: object) -> dict[str, Any]:
    """The line a shortened card ends with: that it was shortened, and where the whole text is."""
    block = text(says(key, lang, links=True, **values), is_subtle=True)
    block["id"] = SHORTENED
    return block


def was_shortened(card: dict[str, Any]) -> bool:
    """Whether `fit` had to shorten what users typed in `card`."""
    return any(element.get("id") == SHORTENED for element in card.get("body", []))


def text(
    value: str, *, weight: str | None = None, size: str | None = None, wrap: bool = True, is_subtle: bool = False
) -> dict[str, Any]:
    """A TextBlock of card markdown (what users typed goes in through `typed` or `says`)."""
    block: dict[str, Any] = {"type": "TextBlock", "text": value, "wrap": wrap}
    if weight:
        block["weight"] = weight
    if size:
        block["size"] = size
    if is_subtle:
        block["isSubtle"] = True
    return block


def facts(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A FactSet of (title, value) pairs, card markdown like a TextBlock's."""
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in pairs]}


def choice(
    input_id: str, label: str, options: list[tuple[str, str]], *, value: str | None = None
) -> list[dict[str, Any]]:
    """A label and a compact ChoiceSet of (title, value) options."""
    field: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "style": "compact",
        "choices": [{"title": t, "value": v} for t, v in options],
    }
    if value is not None:
        field["value"] = value
    return [text(label, weight="Bolder"), field]


def text_input(
    input_id: str,
    label: str,
    *,
    lang: str,
    required: bool = False,
    max_length: int = INPUT_MAX,
    multiline: bool = False,
    value: str | None = None,
    placeholder: str | None = None,
) -> dict[str, Any]:
    """A text input, prefilled as typed; a required one carries the form's error text for its id."""
    field: dict[str, Any] = {"type": "Input.Text", "id": input_id, "label": label, "maxLength": max_length}
    if multiline:
        field["isMultiline"] = True
    if required:
        field["isRequired"] = True
        field["errorMessage"] = i18n.t(f"form.error.{input_id}", lang)
    if value:
        field["value"] = visible(value)[:max_length]  # as typed, without what only hides or turns text
    if placeholder:
        field["placeholder"] = placeholder
    return field


def choice_input(
    input_id: str,
    label: str,
    options: list[tuple[str, str]],
    *,
    lang: str,
    value: str | None = None,
    required: bool = False,
) -> dict[str, Any]:
    """A compact choice of (title, value) options; a required one carries the form's error text for its id."""
    field: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "style": "compact",
        "choices": [{"title": t, "value": v} for t, v in options],
    }
    if value is not None:
        field["value"] = value
    if required:
        field["isRequired"] = True
        field["errorMessage"] = i18n.t(f"form.error.{input_id}", lang)
    return field


def submit(title: str, action: str, **data: Any) -> dict[str, Any]:
    """A submit button that sends `{"action": action, **data}` with the card's inputs."""
    return {"type": "Action.Submit", "title": title, "data": {"action": action, **data}}
