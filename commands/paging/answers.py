"""P1 paging: an engineer's answer to a page, Acknowledge or Decline.

Acknowledge stops every page of the ticket, once: the ticket row is the lock, so of two engineers
pressing at the same moment one wins and the other is told. Decline pages the next engineer at once.
A page answered after the ticket stopped needing it is told the ticket's state.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot import i18n, outbox
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.scheduler import cancel
from bot.text import escape_markdown
from cards import paging as page_cards
from commands import events
from commands.common import timeline
from commands.common.threads import any_ticket, customer_lang, staff_lang
from commands.paging import flows
from storage import directory
from storage.models.operations import Page
from storage.models.tickets import Ticket


def acknowledge(ctx: Context, ticket_number: str, page_id: int | None) -> None:
    """Acknowledge: stop every page of the ticket, record the first response, tell customer and staff."""
    ticket = any_ticket(ctx, ticket_number)
    now = ctx.now()
    _refuse_when_not_needed(ctx, ticket)
    if ticket.paging == "acknowledged":
        at = ticket.acknowledged_at
        ctx.reply(
            ctx.t(
                "page.already",
                number=ticket.number,
                who=escape_markdown(ticket.acknowledged_by or "?"),
                time=at.astimezone(AMSTERDAM).strftime("%H:%M") if at is not None else "?",
            )
        )
        return
    if ticket.paging not in ("active", "exhausted"):
        raise Refused("page.not_paging", number=ticket.number)
    for page in ctx.session.scalars(select(Page).where(Page.ticket_id == ticket.id, Page.status == "pending")):
        page.status = "acknowledged" if page.id == page_id and page.email == ctx.actor.email else "stopped"
        page.answered_at = now
    cancel(ctx.session, kind=flows.PAGE_TIMEOUT, ref=flows.timer_ref(ticket), skip_running=True)
    who = ctx.actor.display_name or ctx.actor.email
    changes: dict[str, Any] = {"paging": "acknowledged", "acknowledged_by": who, "acknowledged_at": now}
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    if ticket.status == "new":
        changes["status"] = "in_progress"
    timeline.change(
        ctx,
        ticket,
        now=now,
        action="page acknowledged",
        **changes,
    )
    # Who acknowledged, by address: out of office hours they may decide the requested priority.
    ticket.clock = {**(ticket.clock or {}), "acknowledged_email": ctx.actor.email}
    time = now.astimezone(AMSTERDAM).strftime("%H:%M")
    lang = customer_lang(ctx.session, ticket)
    # The customer and the staff hear at once that someone is on it: before any bulk sending.
    if directory.reachable(ctx.session, room_id=ticket.room_id):
        outbox.enqueue(
            ctx.session,
            now=now,
            room_id=ticket.room_id,
            parent_outbox_id=ticket.root_outbox_id,
            purpose=f"ticket:{ticket.number}",
            urgent=True,
            markdown=i18n.t("page.customer.working", lang, number=ticket.number, who=escape_markdown(who), time=time),
        )
    room_id, staff_language = staff_lang(ctx.session)
    if room_id is not None:
        outbox.enqueue(
            ctx.session,
            now=now,
            room_id=room_id,
            purpose=f"ticket:{ticket.number}",
            urgent=True,
            markdown=i18n.t(
                "page.staff.working", staff_language, number=ticket.number, who=escape_markdown(who), time=time
            ),
        )
    events.ticket_changed.send(ctx, ticket=ticket, now=now)
    thanks = ctx.t("page.acknowledged", number=ticket.number)
    requested = ticket.requested_priority
    if requested and requested != ticket.priority and not ctx.rules.office_calendar().is_business_time(now):
        # No agent is there to confirm the request: the engineer on it decides, from this answer.
        ctx.reply(
            "\n".join([thanks, ctx.t("page.decide.fallback", number=ticket.number, requested=requested)]),
            card=page_cards.decision_card(
                number=ticket.number, priority=ticket.priority or "P3", requested=requested, lang=ctx.lang
            ),
        )
    else:
        ctx.reply(thanks)


def decline(ctx: Context, ticket_number: str, page_id: int | None) -> None:
    """Decline: the next engineer is paged at once."""
    ticket = any_ticket(ctx, ticket_number)
    _refuse_when_not_needed(ctx, ticket)
    page = ctx.session.get(Page, page_id) if page_id else None
    if (
        ticket.paging != "active"
        or page is None
        or page.ticket_id != ticket.id
        or page.status != "pending"
        or page.email != ctx.actor.email
    ):
        raise Refused("page.not_yours", number=ticket.number)
    now = ctx.now()
    page.status, page.answered_at = "declined", now
    cancel(ctx.session, kind=flows.PAGE_TIMEOUT, ref=flows.timer_ref(ticket), skip_running=True)
    timeline.note(ctx, ticket, now=now, action="page declined", text="")
    flows.next_page(ctx.session, ticket, page, now, rules=ctx.rules)
    ctx.reply(ctx.t("page.declined", number=ticket.number))


def _refuse_when_not_needed(ctx: Context, ticket: Ticket) -> None:
    """A page answered after the ticket stopped needing it: say the ticket's state, change nothing."""
    if ticket.paging is not None and not flows.needs_paging(ticket):
        raise Refused("page.not_needed", number=ticket.number, why=flows.why_not_paged(ticket, ctx.lang))
