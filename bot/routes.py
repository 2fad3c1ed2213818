"""What an event resolved to, and the checks before its handler runs.

A route names who may run it where; `authorise` is the one place that decides. A card press
is checked against the types its action declares, and a one-shot card is claimed by its first
press before the handler runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.context import Context
from bot.errors import Forbidden, NotBound, Refused, WrongSpace
from bot.fields import Field
from bot.security import CUSTOMER, IN_CUSTOMER, IN_UNBOUND
from bot.text import escape_markdown
from storage import forms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """What an event resolved to: its name (for refusals), who may run it where, its family and the
    call of its handler with the event's arguments."""

    name: str
    roles: frozenset[str]
    spaces: frozenset[str]
    family: str
    run: Callable[[Context], object]


def authorise(ctx: Context, route: Route) -> None:
    """Refuse `route` to the actor of `ctx` unless they hold one of its roles in a space of its kinds."""
    _authorise(ctx, route.roles, route.spaces, route.name)


def run_authorised(ctx: Context, route: Route) -> str:
    authorise(ctx, route)
    route.run(ctx)
    return route.family


def nothing(ctx: Context) -> None:
    """No handler is registered for this event."""


def declared(ctx: Context, fields: Mapping[str, Field], inputs: dict[str, Any]) -> dict[str, Any]:
    """The press's declared fields (and its action id), each checked against its type; a value of
    another type is refused, naming the field. Undeclared values are left out: no handler reads them."""
    checked: dict[str, Any] = {"action": inputs.get("action")}
    for name, kind in fields.items():
        if name not in inputs:
            continue
        value = inputs[name]
        if not kind.accepts(value):
            raise Refused("form.error.type", field=escape_markdown(name), expected=ctx.t(f"form.type.{kind.value}"))
        checked[name] = value
    return checked


def claim(ctx: Context, card: str, action: str, already: str) -> None:
    """Claim a one-shot card for this press, or refuse the press naming what the first one made."""
    earlier = forms.claim(ctx.session, message_id=card, action=action, actor=ctx.actor.email, now=ctx.now())
    if earlier is None:
        return
    log.info("card %s already used (%s by %s)", card, earlier.action, earlier.submitted_by)
    if earlier.number:
        raise Refused(already, number=earlier.number)
    raise Refused("form.already_used", who=escape_markdown(earlier.submitted_by))


def family(handler: Callable[..., object] | None) -> str:
    """A handler's command family: the package under `commands` it lives in (commands.tickets.intake
    → tickets), else the last part of its module's name."""
    parts = str(getattr(handler, "__module__", "?")).split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "commands" else parts[-1]


def _authorise(ctx: Context, roles: frozenset[str], spaces: frozenset[str], name: str) -> None:
    """The one place that decides who may do what where; refusals name what is missing."""
    kind = ctx.space.kind
    if kind not in spaces:
        if kind == IN_UNBOUND:
            raise NotBound()
        raise WrongSpace(command=name, where=sorted(spaces))
    if roles and not ctx.actor.has_any(roles):
        if roles == {CUSTOMER}:
            raise WrongSpace(command=name, where=[IN_CUSTOMER])
        raise Forbidden(role=" or ".join(sorted(roles - {CUSTOMER}) or roles), command=name)
