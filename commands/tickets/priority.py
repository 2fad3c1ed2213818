"""A ticket's priority: set by the agents (and the engineer on call for a P1 at night), requested by
the customers; a declined request is kept on the timeline and told to the customer."""

from __future__ import annotations

from bot import i18n
from bot.context import Context
from bot.errors import Refused
from bot.text import escape_markdown
from cards import intake as intake_cards
from cards import tickets as ticket_cards
from commands import events
from commands.common import oncall, timeline
from commands.common.threads import customer_lang, post_in_thread
from commands.tickets.shared import (
    AGENTS,
    notify_staff,
    require_open,
    say_to_customer,
    target_lines_in,
)
from rules import desk
from storage.models.tickets import Ticket


def set_priority(ctx: Context, ticket: Ticket, priority: str, reason: str, *, phone: str | None = None) -> None:
    """Agents set the priority (out of office hours also the engineer who acknowledged the P1 page);
    customers request it (a P1 request needs a phone number to call back, and tells them to phone;
    `phone`: one given with the request). Deadlines restart from opening."""
    if ticket.kind != "incident":
        raise Refused("ticket.priority.not_incident", number=ticket.number)
    require_open(ticket)
    priority = priority.upper()
    if priority not in ("P1", "P2", "P3"):
        raise Refused("ticket.priority.usage")
    if not reason:
        raise Refused("ticket.priority.reason")
    if len(reason) > ticket_cards.TITLE_MAX:
        raise Refused(
            "form.error.too_long", field=ctx.t("form.field.reason"), limit=ticket_cards.TITLE_MAX, length=len(reason)
        )
    now = ctx.now()
    on_call = oncall.decides_on_call(ctx, ticket, now)
    if not on_call and not ctx.actor.has_any(AGENTS):
        if phone is not None and not intake_cards.valid_phone(phone):
            raise Refused("form.error.phone")
        if priority == "P1" and not (phone or (ticket.details or {}).get("phone")):
            raise Refused("ticket.priority.p1_phone", number=ticket.number)
        timeline.change(
            ctx,
            ticket,
            now=now,
            action="priority requested",
            requested_priority=priority,
        )
        timeline.note(ctx, ticket, now=now, action="reason", text=reason)
        if phone:
            ticket.details = {**(ticket.details or {}), "phone": phone}
            timeline.note(
                ctx,
                ticket,
                now=now,
                action="phone",
                text=phone,
            )
        key = {"P1": "ticket.customer.p1_requested", "P2": "ticket.customer.p2_requested"}.get(
            priority, "ticket.customer.priority_requested"
        )
        ctx.reply(ctx.t(key, number=ticket.number, priority=priority, phone=desk.tel_link(ctx.rules.desk.phone)))
        notify_staff(
            ctx,
            ticket,
            "staff.event.p1_requested" if priority == "P1" else "staff.event.priority_requested",
            alert=priority == "P1",
            priority=priority,
        )
        # A P1 request pages; any other request stops a page (the customer withdrew a P1 request).
        events.priority_requested.send(ctx, ticket=ticket, priority=priority, now=now)
        return
    if priority == ticket.priority:
        if ticket.requested_priority in (None, priority):
            raise Refused("ticket.priority.same", number=ticket.number, priority=priority)
        _keep_priority(ctx, ticket, reason, on_call=on_call)
        return
    old = ticket.priority
    timeline.change(
        ctx,
        ticket,
        now=now,
        action="priority set",
        priority=priority,
        requested_priority=None,
    )
    timeline.note(ctx, ticket, now=now, action="reason", text=reason)
    lines = [
        i18n.t(
            "ticket.customer.priority_set",
            customer_lang(ctx.session, ticket),
            number=ticket.number,
            old=old,
            new=priority,
            reason=escape_markdown(reason),
        )
    ]
    lines += target_lines_in(ctx, ticket, customer_lang(ctx.session, ticket))
    if priority == "P1":
        lines.append(
            i18n.t("ticket.next.p1", customer_lang(ctx.session, ticket), phone=desk.tel_link(ctx.rules.desk.phone))
        )
    post_in_thread(ctx, ticket, "\n".join(lines))
    events.priority_changed.send(ctx, ticket=ticket, old=old, new=priority, now=now)
    if on_call:
        notify_staff(
            ctx,
            ticket,
            "staff.event.priority_on_call",
            who=ctx.actor.display_name or ctx.actor.email,
            old=old,
            priority=priority,
            reason=reason,
        )
    events.ticket_changed.send(ctx, ticket=ticket, now=now)
    ctx.reply(ctx.t("ticket.agent.priority_set", number=ticket.number, priority=priority))


def _keep_priority(ctx: Context, ticket: Ticket, reason: str, *, on_call: bool) -> None:
    """The requested priority is not confirmed: the ticket keeps its own, and the request is answered."""
    now, requested = ctx.now(), ticket.requested_priority
    timeline.change(
        ctx,
        ticket,
        now=now,
        action="priority request declined",
        requested_priority=None,
    )
    timeline.note(ctx, ticket, now=now, action="reason", text=reason)
    say_to_customer(
        ctx,
        ticket,
        "ticket.customer.priority_kept",
        priority=ticket.priority,
        requested=requested,
        reason=escape_markdown(reason),
    )
    events.priority_changed.send(ctx, ticket=ticket, old=ticket.priority, new=ticket.priority, now=now)
    if on_call:
        notify_staff(
            ctx,
            ticket,
            "staff.event.priority_kept_on_call",
            who=ctx.actor.display_name or ctx.actor.email,
            priority=ticket.priority,
            requested=requested,
            reason=reason,
        )
    events.ticket_changed.send(ctx, ticket=ticket, now=now)
    ctx.reply(ctx.t("ticket.agent.priority_kept", number=ticket.number, priority=ticket.priority, requested=requested))
