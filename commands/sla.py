"""/sla: what the SLA clocks say — for a ticket, or for a record opened at a given moment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot import i18n, parse
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Forbidden, Refused
from bot.router import Args, Router
from bot.scheduler import TimerRegistry
from bot.security import IN_STAFF, STAFF_ROLES
from rules.sla import STARTS_AT_RESOLUTION, TargetStatus, TicketHistory, deadlines
from rules import Rules

USAGE = "/sla P2 2026-01-09 17:00 | /sla INC-1001"
TICKET_NUMBER = re.compile(r"^(INC|RFC|RFI|CMP|PRB)-\d+$", re.IGNORECASE)
# What a person may type for the record kind; incidents by their priority.
KIND_WORDS = {
    "p1": ("incident", "P1"), "p2": ("incident", "P2"), "p3": ("incident", "P3"),
    "rfc": ("rfc", None), "rfi": ("rfi", None), "complaint": ("complaint", None), "klacht": ("complaint", None),
}


def sla_command(ctx: Context, args: Args) -> None:
    """Show the SLA targets: for a record opened at a moment (default now), or for a ticket."""
    words = args.words
    if not words:
        raise Refused("sla.usage", usage=USAGE)
    if TICKET_NUMBER.match(words[0]):
        ctx.reply(render_ticket_clocks(ctx, words[0]))
        return
    kind, priority = _kind(words[0])
    opened = _when(ctx, " ".join(words[1:])) if len(words) > 1 else ctx.now()
    ctx.reply(render_what_if(ctx.lang, what_if(kind, priority, opened, rules=ctx.rules)))


@dataclass(frozen=True)
class WhatIf:
    """The targets a record of this kind would have if it were opened at `opened`."""

    kind: str
    priority: str | None
    opened: datetime
    targets: list[TargetStatus]


def what_if(kind: str, priority: str | None, opened: datetime, *, profile: str | None = None, rules: Rules) -> WhatIf:
    """Deadlines of a record opened at `opened` (targets counted from a later event stay open)."""
    history = TicketHistory(kind=kind, priority=priority, opened_at=opened)
    return WhatIf(kind, priority, opened, deadlines(history, rules.profile(profile), now=opened))


def render_what_if(lang: str, result: WhatIf) -> str:
    """The reply: one line per target with its local due time and budget."""
    record = result.priority if result.kind == "incident" else i18n.t(f"sla.kind.{result.kind}", lang)
    lines = [i18n.t("sla.what_if.title", lang, record=record, opened=i18n.when(result.opened, lang, AMSTERDAM))]
    for target in result.targets:
        name = i18n.t(f"sla.target.{target.target}", lang)
        if target.state == "no_deadline":
            lines.append(i18n.t("sla.line.no_deadline", lang, target=name))
        elif target.due is None:
            key = "sla.line.after_resolution" if target.starts == STARTS_AT_RESOLUTION else "sla.line.after_closure"
            lines.append(i18n.t(key, lang, target=name, budget=_budget(lang, target)))
        else:
            lines.append(i18n.t("sla.line.due", lang, target=name, due=i18n.when(target.due, lang, AMSTERDAM),
                                budget=_budget(lang, target)))
    return "\n".join(lines)


def _budget(lang: str, target: TargetStatus) -> str:
    budget = target.budget
    if budget is None:
        return ""
    return i18n.count(f"sla.budget.{budget.unit}", budget.amount, lang)


def render_ticket_clocks(ctx: Context, number: str) -> str:
    """A ticket's targets: due, budget used and left, paused or not, met or breached."""
    from commands.common import deadlines as ticket_deadlines
    from storage import tickets as store

    # A customer sees only their organisation's tickets (others answer as missing); the staff see all,
    # and a member of the staff space without a staff role none, as with /ticket.
    if ctx.space.kind == IN_STAFF and not ctx.actor.has_any(STAFF_ROLES):
        raise Forbidden(role=" or ".join(sorted(STAFF_ROLES)), command="sla <number>")
    org_id = None if ctx.space.kind == IN_STAFF else ctx.space.org_id
    ticket = store.find(ctx.session, number=number, org_id=org_id) if (org_id is not None or ctx.space.kind == IN_STAFF) else None
    if ticket is None or (ctx.space.kind != IN_STAFF and ticket.org_id != ctx.space.org_id):
        raise Refused("sla.no_ticket", number=store.normalise_number(number) or parse.shown(number.upper()))
    lines = [ctx.t("sla.ticket.title", number=ticket.number, status=ctx.t(f"ticket.status.{ticket.status}"))]
    for target in deadlines(ticket_deadlines.history(ctx.session, ticket), ticket_deadlines.profile_of(ctx.session, ticket, rules=ctx.rules), ctx.now()):
        name = ctx.t(f"sla.target.{target.target}")
        if target.due is None:
            if target.state == "no_deadline":
                key = "sla.line.no_deadline"
            else:
                key = "sla.ticket.starts_at_resolution" if target.starts == STARTS_AT_RESOLUTION else "sla.ticket.not_started"
            lines.append(ctx.t(key, target=name))
            continue
        state = ctx.t("ticket.state.best_effort") if target.best_effort else ctx.t(f"ticket.state.{target.state}")
        if target.extended:
            state += " " + ticket_deadlines.extended_note(target, ctx.lang)
        lines.append(ctx.t("sla.ticket.line", target=name, due=i18n.when(target.due, ctx.lang, AMSTERDAM), used=_hm(target.used),
                           total=_hm(target.total), left=_hm(target.left), state=state))
    return "\n".join(lines)


def _hm(value) -> str:
    minutes = int(value.total_seconds() // 60) if value is not None else 0
    return f"{minutes // 60}:{minutes % 60:02d}"


def _kind(word: str) -> tuple[str, str | None]:
    found = KIND_WORDS.get(word.lower())
    if found is None:
        raise Refused("sla.unknown_kind", given=parse.shown(word), usage=USAGE)
    return found


def _when(ctx: Context, text: str) -> datetime:
    return parse.local_instant(text, field="input.field.opened", today=ctx.now().astimezone(AMSTERDAM).date())


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions and timers."""
    router.command("sla", usage=USAGE, summary="cmd.sla")(sla_command)
