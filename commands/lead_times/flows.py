"""Longer lead times: an RFC that became a project, or an exceptional RFI (SPEC §5).

An agent gives the new lead time in business days, with a reason (`/extend RFC-1001 10bd
<reason>`). It replaces the profile's lead time in the SLA engine, so the deadline is counted
from the opening on the target's calendar like the standard one, pauses included. The change
and its reason go on the timeline, the customer reads it in the thread, `/ticket`, `/sla` and
the countdown show the target as extended, the staff's warnings follow the new budget, and
`/report` counts the target as extended instead of breached.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot import i18n
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.text import escape_markdown
from cards import tickets as ticket_cards
from commands import events
from commands.common import deadlines, timeline
from commands.common.threads import customer_lang, post_in_thread
from rules import clock_state, sla
from storage.models.tickets import Ticket

# About a year of business days: a lead time beyond that is a typing error, not a project.
MAX_DAYS = 250
_LEAD_TIME = re.compile(r"^(\d{1,6})bd$", re.IGNORECASE)


def extend(ctx: Context, ticket: Ticket, lead_time: str, reason: str) -> None:
    """The ticket's lead time becomes `lead_time` business days from its opening (longer than it is)."""
    if ticket.kind not in sla.EXTENDABLE:
        raise Refused("extend.kind", number=ticket.number)
    if ticket.status == "closed":
        raise Refused("ticket.is_closed", number=ticket.number)
    match = _LEAD_TIME.match(lead_time)
    if match is None or not 1 <= int(match.group(1)) <= MAX_DAYS:
        raise Refused("extend.lead_time", given=escape_markdown(lead_time[:20]), number=ticket.number, most=MAX_DAYS)
    if not reason:
        raise Refused("extend.reason", number=ticket.number)
    if len(reason) > ticket_cards.TITLE_MAX:
        raise Refused(
            "form.error.too_long", field=ctx.t("form.field.reason"), limit=ticket_cards.TITLE_MAX, length=len(reason)
        )
    now = ctx.now()
    history, profile = (
        deadlines.history(ctx.session, ticket),
        deadlines.profile_of(ctx.session, ticket, rules=ctx.rules),
    )
    current = _lead_time_target(history, profile, now)
    if current is None or current.due is None:  # _lead_time_target gives only a target with a due instant
        raise Refused("extend.no_lead_time", number=ticket.number)
    if current.state in ("breached", "late"):
        raise Refused("extend.breached", number=ticket.number, due=i18n.when(current.due, ctx.lang, AMSTERDAM))
    history.lead_time = sla.Budget(int(match.group(1)), "bd")
    longer = _lead_time_target(history, profile, now)
    assert longer is not None and longer.due is not None
    if longer.due <= current.due:
        raise Refused(
            "extend.not_longer",
            number=ticket.number,
            budget=_budget(current, ctx.lang),
            due=i18n.when(current.due, ctx.lang, AMSTERDAM),
        )
    ctx.audit(
        subject_type="ticket",
        subject=ticket.number,
        action="lead time extended",
        old={"lead_time": str(current.budget)},
        new={"lead_time": str(history.lead_time)},
        at=now,
    )
    ticket.lead_time = str(history.lead_time)
    timeline.note(ctx, ticket, now=now, action="reason", text=reason)
    lang = customer_lang(ctx.session, ticket)
    post_in_thread(
        ctx,
        ticket,
        i18n.t(
            "extend.customer",
            lang,
            number=ticket.number,
            budget=_budget(longer, lang),
            due=i18n.when(longer.due, lang, AMSTERDAM),
            reason=escape_markdown(reason),
        ),
    )
    events.ticket_changed.send(ctx, ticket=ticket, now=now)
    if ctx.space.room_id != ticket.room_id:
        ctx.reply(
            ctx.t(
                "extend.done",
                number=ticket.number,
                budget=_budget(longer, ctx.lang),
                due=i18n.when(longer.due, ctx.lang, AMSTERDAM),
            )
        )


def _lead_time_target(
    history: clock_state.TicketHistory, profile: sla.Profile, now: datetime
) -> clock_state.TargetStatus | None:
    """The ticket's lead time (its recovery target) as the engine sees it, if it has a deadline."""
    return next(
        (t for t in clock_state.deadlines(history, profile, now) if t.target == sla.RECOVERY and t.due is not None),
        None,
    )


def _budget(target: clock_state.TargetStatus, lang: str) -> str:
    assert target.budget is not None
    return i18n.count(f"sla.budget.{target.budget.unit}", target.budget.amount, lang)
