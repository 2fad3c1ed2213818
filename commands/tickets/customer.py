"""The customer's steps on a ticket: notes, confirming a resolution, agreeing to a complaint's
outcome, reopening within its window, and the follow-up ticket offered when that has passed."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.errors import Refused
from bot.text import escape_markdown
from cards import intake as intake_cards
from cards import tickets as ticket_cards
from commands import events
from commands.common import timeline
from commands.common.threads import post_in_thread
from commands.tickets.shared import (
    defaults,
    notify_staff,
    require_open,
    rfc_type_choices,
    say_to_customer,
    services,
    space_profile,
)
from storage import tickets as store
from storage.models.tickets import Ticket

REOPEN_DAYS = 5


def add_note(ctx: Context, ticket: Ticket, text: str) -> None:
    """A customer's note: on the timeline, to the staff; it ends a wait for the customer."""
    if ticket.status == "closed":
        raise Refused("ticket.is_closed", number=ticket.number)
    now = ctx.now()
    if ticket.status == "awaiting_customer":
        store.end_pause(ctx.session, ticket, now=now)
        timeline.change(
            ctx,
            ticket,
            now=now,
            action="customer answered",
            status="in_progress",
        )
    timeline.note(ctx, ticket, now=now, action="note", text=text)
    notify_staff(ctx, ticket, "staff.event.note", who=ctx.actor.display_name or ctx.actor.email, text=text[:300])
    post_in_thread(ctx, ticket, ctx.t("ticket.customer.noted", number=ticket.number))
    events.ticket_changed.send(ctx, ticket=ticket, now=now)


def confirm(ctx: Context, ticket: Ticket) -> None:
    """The customer confirms the resolution (agrees with a complaint's outcome): closed; the
    Incident End Time is the resolution time."""
    if ticket.status != "resolved":
        raise Refused("ticket.confirm.not_resolved", number=ticket.number)
    now = ctx.now()
    agreed = ticket.kind == "complaint"
    timeline.change(
        ctx,
        ticket,
        now=now,
        action="agreed" if agreed else "confirmed",
        status="closed",
        closed_at=now,
    )
    post_in_thread(
        ctx, ticket, ctx.t("ticket.customer.agreed" if agreed else "ticket.customer.closed", number=ticket.number)
    )
    notify_staff(ctx, ticket, "staff.event.agreed" if agreed else "staff.event.confirmed")
    events.ticket_closed.send(ctx, ticket=ticket, now=now, how="confirmed")


def close_by_agreement(ctx: Context, ticket: Ticket, agreement: str) -> None:
    """A complaint is closed in joint consultation: the agent records how it was agreed (by phone, in
    a meeting), at any step; the customer is told in the thread."""
    require_open(ticket)
    now = ctx.now()
    store.end_pause(ctx.session, ticket, now=now)
    changes: dict[str, Any] = {
        "status": "closed",
        "closed_at": now,
        "resolution": {**(ticket.resolution or {}), "agreement": agreement},
    }
    if ticket.resolved_at is None:
        changes["resolved_at"] = now
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    timeline.change(
        ctx,
        ticket,
        now=now,
        action="closed by agreement",
        **changes,
    )
    say_to_customer(ctx, ticket, "ticket.customer.closed_by_agreement", agreement=escape_markdown(agreement))
    events.ticket_closed.send(ctx, ticket=ticket, now=now, how="agreed")
    ctx.reply(ctx.t("ticket.agent.closed_by_agreement", number=ticket.number))


def reopen(ctx: Context, ticket: Ticket, reason: str) -> None:
    """Reject a resolution, or reopen a closed ticket within 5 business days of closing."""
    now = ctx.now()
    if ticket.status == "resolved":
        action = "resolution rejected"
    elif ticket.status == "closed":
        office = ctx.rules.office_calendar()
        if ticket.closed_at is None or now >= office.add_business_days(ticket.closed_at, REOPEN_DAYS):
            offer_follow_up(ctx, ticket, reason)
            return
        action = "reopened"
    else:
        raise Refused("ticket.reopen.open", number=ticket.number)
    # The time spent "resolved" counts as unresolved: the resolution instant is dropped.
    timeline.change(
        ctx,
        ticket,
        now=now,
        action=action,
        status="in_progress",
        resolved_at=None,
        closed_at=None,
    )
    timeline.note(ctx, ticket, now=now, action="reason", text=reason)
    post_in_thread(ctx, ticket, ctx.t("ticket.customer.reopened", number=ticket.number))
    not_agreed = ticket.kind == "complaint" and action == "resolution rejected"
    notify_staff(ctx, ticket, "staff.event.not_agreed" if not_agreed else "staff.event.reopened", reason=reason[:300])
    events.ticket_reopened.send(ctx, ticket=ticket, now=now)


def offer_follow_up(ctx: Context, ticket: Ticket, reason: str) -> None:
    """Too late to reopen: offer a new ticket of the same kind that refers to the old one."""
    prefill = {
        **defaults(ctx),
        "title": ctx.t("ticket.follow_up.title", number=ticket.number)[: ticket_cards.TITLE_MAX],
        "description": reason,
        "reference": ticket.number,
        "service": ticket.service or "",
    }
    ctx.reply(
        ctx.t("ticket.reopen.too_late", number=ticket.number, days=REOPEN_DAYS),
        card=intake_cards.intake_form(
            ticket.kind,
            lang=ctx.lang,
            services=services(rules=ctx.rules),
            prefill=prefill,
            rfc_types=rfc_type_choices(space_profile(ctx), ctx.lang),
        ),
    )
