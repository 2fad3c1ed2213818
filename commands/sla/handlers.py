"""The /sla command: parse what was asked, look the ticket up where it is visible, reply."""

from __future__ import annotations

import re
from datetime import datetime

from bot import parse
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Forbidden, Refused
from bot.router import Args
from bot.security import IN_STAFF, STAFF_ROLES
from commands.sla.flows import render_ticket_clocks, render_what_if, what_if
from storage import tickets as store

USAGE = "/sla P2 2026-01-09 17:00 | /sla INC-1001"
TICKET_NUMBER = re.compile(r"^(INC|RFC|RFI|CMP|PRB)-\d+$", re.IGNORECASE)
# What a person may type for the record kind; incidents by their priority.
KIND_WORDS = {
    "p1": ("incident", "P1"),
    "p2": ("incident", "P2"),
    "p3": ("incident", "P3"),
    "rfc": ("rfc", None),
    "rfi": ("rfi", None),
    "complaint": ("complaint", None),
    "klacht": ("complaint", None),
}


def sla_command(ctx: Context, args: Args) -> None:
    """Show the SLA targets: for a record opened at a moment (default now), or for a ticket."""
    words = args.words
    if not words:
        raise Refused("sla.usage", usage=USAGE)
    if TICKET_NUMBER.match(words[0]):
        ctx.reply(_ticket_clocks(ctx, words[0]))
        return
    kind, priority = _kind(words[0])
    opened = _when(ctx, " ".join(words[1:])) if len(words) > 1 else ctx.now()
    ctx.reply(render_what_if(ctx.lang, what_if(kind, priority, opened, rules=ctx.rules)))


def _ticket_clocks(ctx: Context, number: str) -> str:
    # A customer sees only their organisation's tickets (others answer as missing); the staff see all,
    # and a member of the staff space without a staff role none, as with /ticket.
    if ctx.space.kind == IN_STAFF and not ctx.actor.has_any(STAFF_ROLES):
        raise Forbidden(role=" or ".join(sorted(STAFF_ROLES)), command="sla <number>")
    org_id = None if ctx.space.kind == IN_STAFF else ctx.space.org_id
    ticket = (
        store.find(ctx.session, number=number, org_id=org_id)
        if (org_id is not None or ctx.space.kind == IN_STAFF)
        else None
    )
    if ticket is None or (ctx.space.kind != IN_STAFF and ticket.org_id != ctx.space.org_id):
        raise Refused("sla.no_ticket", number=store.normalise_number(number) or parse.shown(number.upper()))
    return render_ticket_clocks(ctx.session, ticket, ctx.now(), ctx.lang, rules=ctx.rules)


def _kind(word: str) -> tuple[str, str | None]:
    found = KIND_WORDS.get(word.lower())
    if found is None:
        raise Refused("sla.unknown_kind", given=parse.shown(word), usage=USAGE)
    return found


def _when(ctx: Context, text: str) -> datetime:
    return parse.local_instant(text, field="input.field.opened", today=ctx.now().astimezone(AMSTERDAM).date())
