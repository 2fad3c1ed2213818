"""MessageEvent / CardSubmitEvent / JoinEvent / LeaveEvent: what a stored webhook event means, fetched from Webex."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from bot.webex import BotIdentity, WebexClient, person_uuid

_SPACES = re.compile(r"\s+")
_BLOCK_TAGS = {"p", "br", "div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3"}


@dataclass(frozen=True)
class Sender:
    """The person behind an event."""

    person_id: str
    email: str
    display_name: str = ""


@dataclass(frozen=True)
class MessageEvent:
    """A message that reached the bot, with the bot's own mention removed."""

    message_id: str
    room_id: str
    room_type: str
    sender: Sender
    text: str
    parent_id: str | None
    created: str

    @property
    def thread_root(self) -> str:
        """The message a reply should hang under: the thread's root."""
        return self.parent_id or self.message_id


@dataclass(frozen=True)
class CardSubmitEvent:
    """A button pressed on one of the bot's cards."""

    action_id: str
    message_id: str
    room_id: str
    room_type: str
    sender: Sender
    inputs: dict[str, Any] = field(default_factory=dict)
    parent_id: str | None = None

    @property
    def action(self) -> str:
        """The button's action id (its `data.action`)."""
        return str(self.inputs.get("action", ""))

    @property
    def thread_root(self) -> str:
        """Replies to a button press go to the card's thread."""
        return self.parent_id or self.message_id


@dataclass(frozen=True)
class JoinEvent:
    """The bot was added to a space (a memberships/created event for the bot itself)."""

    membership_id: str
    room_id: str
    room_type: str
    sender: Sender  # the bot: Webex does not say who added it
    parent_id: str | None = None
    # When the membership began (Webex's data.created): tells a late delivery from a newer join.
    created: datetime | None = None

    @property
    def thread_root(self) -> None:
        """Introductions start no thread."""
        return None


@dataclass(frozen=True)
class LeaveEvent:
    """The bot left or was removed from a space (a memberships/deleted event for the bot itself)."""

    membership_id: str
    room_id: str
    room_type: str
    sender: Sender  # the bot, as for a JoinEvent
    parent_id: str | None = None
    created: datetime | None = None  # when the membership that ended began

    @property
    def thread_root(self) -> None:
        """Nothing is said in a space the bot is no longer in."""
        return None


def membership_event(data: dict[str, Any], event: str, bot: BotIdentity) -> JoinEvent | LeaveEvent | None:
    """A JoinEvent (memberships/created) or LeaveEvent (memberships/deleted) when the payload is
    about the bot itself, else None: the bot's webhooks filter on it, but one registered by an
    earlier release hears every member."""
    if data.get("personId") != bot.person_id or not isinstance(data.get("roomId"), str) or not data["roomId"]:
        return None
    kinds: dict[str, type[JoinEvent] | type[LeaveEvent]] = {"created": JoinEvent, "deleted": LeaveEvent}
    kind = kinds.get(event)
    if kind is None:
        return None
    room_type = data.get("roomType")
    return kind(
        membership_id=str(data.get("id", "")),
        room_id=data["roomId"],
        room_type=room_type if room_type in ("direct", "group") else "group",
        sender=Sender(
            person_id=bot.person_id, email=(bot.emails[0] if bot.emails else ""), display_name=bot.display_name
        ),
        created=webex_time(data.get("created")),
    )


def webex_time(value: Any) -> datetime | None:
    """A Webex timestamp ("2026-11-23T09:00:00.000Z") as an aware datetime; None when it is none."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


def is_bot_mention(object_id: str | None, bot: BotIdentity) -> bool:
    """Whether a spark-mention's `data-object-id` names the bot: Webex writes the full base64
    person id (as public captures show) or the bare UUID inside it; both are accepted."""
    if not object_id:
        return False
    value = object_id.strip()
    return value == bot.uuid or value.rstrip("=") == bot.person_id.rstrip("=") or person_uuid(value) == bot.uuid


class _MentionStripper(HTMLParser):
    """Collect the text of Webex message HTML, leaving out the mentions of the bot."""

    def __init__(self, bot: BotIdentity) -> None:
        super().__init__(convert_charrefs=True)
        self.bot = bot
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "spark-mention":
            attributes = dict(attrs)
            if self._skipping or (
                attributes.get("data-object-type") == "person"
                and is_bot_mention(attributes.get("data-object-id"), self.bot)
            ):
                self._skipping += 1
                return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "spark-mention" and self._skipping:
            self._skipping -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _strip_name(text: str, bot: BotIdentity) -> str:
    """`text` without the first place it shows the bot's display name, or else its first word
    (people shorten a mention to a first name): for a message that mentions the bot but came
    without `html`."""
    names = [bot.display_name.strip()]
    first = names[0].split()[0] if names[0].split() else ""
    if first and first != names[0]:
        names.append(first)
    for name in filter(None, names):
        found = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags=re.IGNORECASE)
        if found:
            return text[: found.start()] + " " + text[found.end() :]
    return text


def strip_bot_mention(message: dict[str, Any], bot: BotIdentity) -> str:
    """The message's text without the bot's mention: found by id in `html` (in either id form),
    else, when `mentionedPeople` names the bot, by its display name in `text`."""
    markup = message.get("html")
    if markup:
        parser = _MentionStripper(bot)
        parser.feed(markup)
        parser.close()
        raw = "".join(parser.parts)
    else:
        raw = html.unescape(message.get("text") or "")
        mentioned = message.get("mentionedPeople") or []
        if any(is_bot_mention(person, bot) for person in mentioned if isinstance(person, str)):
            raw = _strip_name(raw, bot)
    lines = [_SPACES.sub(" ", line).strip() for line in raw.strip().splitlines()]
    return "\n".join(line for line in lines if line)


def message_event(message: dict[str, Any], bot: BotIdentity) -> MessageEvent:
    """Build a MessageEvent from a fetched message."""
    return MessageEvent(
        message_id=message["id"],
        room_id=message["roomId"],
        room_type=message.get("roomType", "group"),
        sender=Sender(person_id=message["personId"], email=(message.get("personEmail") or "").lower()),
        text=strip_bot_mention(message, bot),
        parent_id=message.get("parentId"),
        created=message.get("created", ""),
    )


def card_event(action: dict[str, Any], webex: WebexClient, *, room_type: str = "group") -> CardSubmitEvent:
    """Build a CardSubmitEvent from a fetched attachment action (and the card's message)."""
    person = webex.get_person(action["personId"])
    card_message = webex.get_message(action["messageId"])
    emails = person.get("emails") or [""]
    return CardSubmitEvent(
        action_id=action["id"],
        message_id=action["messageId"],
        room_id=action.get("roomId") or card_message["roomId"],
        room_type=card_message.get("roomType", room_type),
        sender=Sender(
            person_id=action["personId"], email=emails[0].lower(), display_name=person.get("displayName", "")
        ),
        inputs=dict(action.get("inputs") or {}),
        parent_id=card_message.get("parentId"),
    )
