"""Command and card-action registry, matching and dispatch.

Text commands match on whole words, longest registered name first, case-insensitive,
with or without a leading slash: "/space bind acme" finds "space bind" before "space".
Card buttons carry an action id in their data; each id has exactly one handler, registered with
the types of the fields its card submits. A press whose declared field holds a value of another
type (a title sent as a list) is refused before the handler runs, and the handler sees only the
declared fields. A one-shot card (a form that makes a record) acts once: its first press claims
the card's message in the handler's transaction, and every later press is told what the first
one made.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot import routes
from bot.context import Context
from bot.errors import EmptyCommand, UnknownAction, UnknownCommand, UsageError
from bot.events import CardSubmitEvent, JoinEvent, MessageEvent
from bot.fields import Field
from bot.security import ANYWHERE
from bot.text import escape_markdown
from storage import forms

log = logging.getLogger(__name__)

EVERYONE: frozenset[str] = frozenset()
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Args:
    """What followed the command name."""

    text: str
    usage: str

    @property
    def words(self) -> list[str]:
        """The arguments split like a shell would (quotes group words)."""
        try:
            return shlex.split(self.text)
        except ValueError:
            return self.text.split()

    def rest_required(self, what: str) -> str:
        """The whole remaining text; refused with the usage line when empty."""
        if not self.text.strip():
            raise UsageError(f"Missing {what}.", usage=self.usage)
        return self.text.strip()

    def none(self) -> None:
        """Refuse any arguments."""
        if self.text.strip():
            raise UsageError("This command takes no arguments.", usage=self.usage)


Handler = Callable[[Context, Args], None]
# A one-shot card's handler returns what the press made ("INC-1001"), for later presses to be told.
CardHandler = Callable[[Context, dict[str, Any]], str | None]
# Whether the per-person rate limit leaves a command (given the text after its name) or a press (given
# its inputs) alone: always, never, or as a test says (a P1 request). The test must not raise.
Unlimited = bool | Callable[[Any], bool]
ALREADY_SUBMITTED = "form.already_submitted"


@dataclass(frozen=True)
class Command:
    """A registered text command."""

    name: str
    handler: Handler
    roles: frozenset[str]
    usage: str
    summary_key: str
    hidden: bool = False
    spaces: frozenset[str] = ANYWHERE
    unlimited: Unlimited = False

    @property
    def words(self) -> tuple[str, ...]:
        """The command name as words."""
        return tuple(self.name.split())


@dataclass(frozen=True)
class CardAction:
    """A registered card button: its handler, who may press it where, and the fields it takes."""

    handler: CardHandler
    roles: frozenset[str]
    spaces: frozenset[str]
    fields: Mapping[str, Field]
    unlimited: Unlimited = False


@dataclass
class Router:
    """The registry of text commands and card actions."""

    commands: dict[tuple[str, ...], Command] = field(default_factory=dict)
    actions: dict[str, CardAction] = field(default_factory=dict)
    # One-shot action ids → the message key that answers a press of a card already used.
    one_shot: dict[str, str] = field(default_factory=dict)
    join_handler: Callable[[Context], None] | None = None
    leave_handler: Callable[[Context], None] | None = None
    # Text that is no command: a handler may take it (a reply in a ticket's thread), returning True.
    thread_handler: Callable[[Context, str], bool] | None = None

    def command(
        self,
        name: str,
        *,
        roles: frozenset[str] = EVERYONE,
        spaces: frozenset[str] = ANYWHERE,
        usage: str | None = None,
        summary: str | None = None,
        hidden: bool = False,
        unlimited: Unlimited = False,
    ) -> Callable[[Handler], Handler]:
        """Decorator registering a text command; a name registered twice fails at import.

        `roles`: who may use it (any of them; empty = everyone). `spaces`: the kinds of space
        it works in (customer, staff, unbound, direct). `unlimited`: never held back by the
        per-person rate limit (an acknowledgement), or a test of the text after the name (a P1 request).
        """
        words = tuple(name.lower().split())
        if not words:
            raise ValueError("empty command name")

        def register(fn: Handler) -> Handler:
            if words in self.commands:
                raise RuntimeError(f"command {name!r} registered twice")
            self.commands[words] = Command(
                name=" ".join(words),
                handler=fn,
                roles=frozenset(roles),
                usage=usage or f"/{' '.join(words)}",
                summary_key=summary or f"cmd.{'.'.join(words)}",
                hidden=hidden,
                spaces=frozenset(spaces),
                unlimited=unlimited,
            )
            return fn

        return register

    def card_action(
        self,
        action: str | StrEnum,
        *,
        fields: Mapping[str, Field],
        roles: frozenset[str] = EVERYONE,
        spaces: frozenset[str] = ANYWHERE,
        once: bool = False,
        already: str = ALREADY_SUBMITTED,
        unlimited: Unlimited | None = None,
    ) -> Callable[[CardHandler], CardHandler]:
        """Decorator registering the handler of a card button's action id.

        `fields`: every input id the card submits (and data key its button carries) that the
        handler reads, with its type; a press with another type there is refused, and the
        handler gets only these. `once`: the card acts once, whichever of its one-shot buttons
        is pressed first; a later press is answered with `already` (given the number the first
        press's handler returned). `unlimited`: never held back by the per-person rate limit (a
        press answering the bot: a page, a question, a form), or a test of the inputs; by default
        a one-shot card's presses are (a form answers the bot's form, and acts once).
        """
        key = str(action)

        def register(fn: CardHandler) -> CardHandler:
            if key in self.actions:
                raise RuntimeError(f"card action {key!r} registered twice")
            self.actions[key] = CardAction(
                fn, frozenset(roles), frozenset(spaces), dict(fields), once if unlimited is None else unlimited
            )
            if once:
                self.one_shot[key] = already
            return fn

        return register

    def on_join(self, fn: Callable[[Context], None]) -> Callable[[Context], None]:
        """Decorator registering what happens when the bot is added to a space (one handler)."""
        if self.join_handler is not None:
            raise RuntimeError("a join handler is registered twice")
        self.join_handler = fn
        return fn

    def on_leave(self, fn: Callable[[Context], None]) -> Callable[[Context], None]:
        """Decorator registering what happens when the bot is removed from a space (one handler; it
        must not reply: the bot can no longer post there)."""
        if self.leave_handler is not None:
            raise RuntimeError("a leave handler is registered twice")
        self.leave_handler = fn
        return fn

    def thread_reply(self, fn: Callable[[Context, str], bool]) -> Callable[[Context, str], bool]:
        """Decorator registering what to do with text that is no command (one handler)."""
        if self.thread_handler is not None:
            raise RuntimeError("a thread-reply handler is registered twice")
        self.thread_handler = fn
        return fn

    def dispatch_join(self, ctx: Context) -> None:
        """Run the join handler, if any."""
        if self.join_handler is not None:
            self.join_handler(ctx)

    def dispatch_leave(self, ctx: Context) -> None:
        """Run the leave handler, if any."""
        if self.leave_handler is not None:
            self.leave_handler(ctx)

    def match(self, text: str) -> tuple[Command, str] | None:
        """The command `text` starts with (longest name wins) and the text after it."""
        body = text.strip()
        if body.startswith("/"):
            body = body[1:]
        spans = list(_WORD.finditer(body))
        lowered = [m.group().lower() for m in spans]
        for length in range(min(len(spans), max((len(k) for k in self.commands), default=0)), 0, -1):
            command = self.commands.get(tuple(lowered[:length]))
            if command is not None:
                return command, body[spans[length - 1].end() :].strip()
        return None

    def unlimited(self, event: object) -> bool:
        """Whether the per-person rate limit leaves this event alone: an acknowledgement, a press
        answering one of the bot's cards, a P1 request (as their registrations say)."""
        rule: Unlimited
        given: object
        if isinstance(event, MessageEvent):
            found = self.match(event.text)
            rule, given = (found[0].unlimited, found[1]) if found else (False, None)
        elif isinstance(event, CardSubmitEvent):
            entry = self.actions.get(event.action)
            rule, given = (entry.unlimited, event.inputs) if entry else (False, None)
        else:
            return False
        return rule(given) if callable(rule) else bool(rule)

    def visible_to(self, roles: frozenset[str], space_kind: str | None = None) -> list[Command]:
        """Commands a person holding `roles` may use (in a space of `space_kind`), in name order."""
        return sorted(
            (
                c
                for c in self.commands.values()
                if not c.hidden and (not c.roles or c.roles & roles) and (space_kind is None or space_kind in c.spaces)
            ),
            key=lambda c: c.name,
        )

    def resolve(self, ctx: Context) -> routes.Route:
        """What the event of `ctx` runs, and who may run it where; a refusal (an empty or unknown
        command, an unknown button) when it runs nothing."""
        event = ctx.event
        if isinstance(event, MessageEvent):
            return self._text_route(event.text)
        if isinstance(event, CardSubmitEvent):
            return self._card_route(event.inputs)
        handler = self.join_handler if isinstance(event, JoinEvent) else self.leave_handler
        return routes.Route(
            name=type(event).__name__,
            roles=EVERYONE,
            spaces=ANYWHERE,
            family=routes.family(handler),
            run=handler or routes.nothing,
        )

    def _text_route(self, text: str) -> routes.Route:
        if not text.strip():
            raise EmptyCommand()
        found = self.match(text)
        if found is None:
            return self._thread_route(text.strip())
        command, rest = found

        def run(ctx: Context) -> None:
            log.info("command %s by %s in %s", command.name, ctx.actor.email, ctx.space.room_id)
            command.handler(ctx, Args(text=rest, usage=command.usage))

        return routes.Route(
            name=command.name,
            roles=command.roles,
            spaces=command.spaces,
            family=routes.family(command.handler),
            run=run,
        )

    def _thread_route(self, text: str) -> routes.Route:
        """Text that is no command: the thread-reply handler may take it, or it is refused as unknown."""
        unknown = UnknownCommand(command=escape_markdown(text.split()[0][:40]))
        thread = self.thread_handler
        if thread is None:
            raise unknown

        def run(ctx: Context) -> None:
            if not thread(ctx, text):
                raise unknown

        return routes.Route(name="thread reply", roles=EVERYONE, spaces=ANYWHERE, family=routes.family(thread), run=run)

    def _card_route(self, inputs: dict[str, Any]) -> routes.Route:
        action = str(inputs.get("action", ""))
        entry = self.actions.get(action)
        if entry is None:
            raise UnknownAction()
        already = self.one_shot.get(action)

        def run(ctx: Context) -> None:
            checked = routes.declared(ctx, entry.fields, inputs)
            log.info("card action %s by %s in %s", action, ctx.actor.email, ctx.space.room_id)
            card = ctx.event.message_id if already is not None and isinstance(ctx.event, CardSubmitEvent) else None
            if card is not None and already is not None:
                routes.claim(ctx, card, action, already)
            made = entry.handler(ctx, checked)
            if card is not None:
                forms.record(ctx.session, message_id=card, number=made)

        return routes.Route(
            name=action, roles=entry.roles, spaces=entry.spaces, family=routes.family(entry.handler), run=run
        )

    def dispatch_text(self, ctx: Context, text: str) -> str:
        """Run the command `text` names, after the role check; returns the command's family (its module)."""
        return routes.run_authorised(ctx, self._text_route(text))

    def dispatch_card(self, ctx: Context, inputs: dict[str, Any]) -> str:
        """Run the handler of the pressed button, after the role check; returns its family."""
        return routes.run_authorised(ctx, self._card_route(inputs))


router = Router()
