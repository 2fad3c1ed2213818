"""The lifecycle of a ticket: taken, answered, waiting, resolved, its priority, converted, noted,
confirmed, closed, reopened, and a P1's RFO and RCA. Every step changes the ticket through
storage.tickets (so it is on the timeline), talks to the customer in the ticket's thread, and tells
the other families what happened through commands.events."""

from __future__ import annotations

from typing import Any

from bot import i18n, outbox
from bot.context import Context
from bot.errors import Refused
from bot.text import escape_markdown, fit_escaped, mention
from cards import intake as intake_cards
from cards import tickets as ticket_cards
from cards.common import was_shortened
from commands import events
from commands.common import oncall
from commands.common.threads import customer_lang, post_in_thread
from commands.tickets.shared import (
    AGENTS,
    defaults,
    notify_staff,
    require_open,
    rfc_type_choices,
    say_to_customer,
    services,
    space_profile,
    target_lines_in,
)
from rules import desk
from storage import directory
from storage import tickets as store
from storage.models import Ticket

REOPEN_DAYS = 5


def take(ctx: Context, ticket: Ticket) -> None:
    """An agent takes the ticket: it is in progress and its first response is met."""
    require_open(ticket)
    now = ctx.now()
    changes: dict[str, Any] = {"assignee": ctx.actor.email}
    if ticket.status == "new":
        changes["status"] = "in_progress"
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    store.change(
        ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="taken", **changes
    )
    say_to_customer(
        ctx, ticket, "ticket.customer.taken", agent=escape_markdown(ctx.actor.display_name or ctx.actor.email)
    )
    events.ticket_changed.send(ctx, ticket=ticket, now=now)
    ctx.reply(ctx.t("ticket.agent.taken", number=ticket.number))


def respond(ctx: Context, ticket: Ticket, text: str) -> None:
    """An agent's answer, posted in the customer's thread (a first response when it is the first)."""
    require_open(ticket)
    now = ctx.now()
    changes: dict[str, Any] = {}
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    if ticket.status == "new":
        changes["status"] = "in_progress"
    if changes:
        store.change(
            ctx.session,
            ticket,
            actor=ctx.actor.email,
            room_id=ctx.space.room_id,
            now=now,
            action="responded",
            **changes,
        )
    store.note(
        ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="response", text=text
    )
    say_to_customer(
        ctx,
        ticket,
        "ticket.customer.response",
        agent=escape_markdown(ctx.actor.display_name or ctx.actor.email),
        text=escape_markdown(text),
        must_reach=True,
    )
    events.ticket_changed.send(ctx, ticket=ticket, now=now)
    ctx.reply(ctx.t("ticket.agent.sent", number=ticket.number))


def contact_of(ticket: Ticket) -> str:
    """The email of the ticket's contact: given at intake, else whoever opened it."""
    return str((ticket.details or {}).get("email") or ticket.opened_by)


def wait_for_customer(ctx: Context, ticket: Ticket, question: str) -> None:
    """Ask the customer something; the office-hour clocks pause until they answer.

    A reply in a group space's thread that does not mention the bot never reaches it, so the
    question mentions the ticket's contact (Webex notifies them) and carries a card to answer on.
    """
    require_open(ticket)
    if ticket.status == "resolved":
        raise Refused("ticket.is_resolved", number=ticket.number)
    now = ctx.now()
    changes: dict[str, Any] = {"status": "awaiting_customer"}
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    store.change(
        ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="waiting", **changes
    )
    store.note(
        ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="question", text=question
    )
    store.start_pause(ctx.session, ticket, now=now)
    lang = customer_lang(ctx.session, ticket)
    agent, bot = (
        escape_markdown(ctx.actor.display_name or ctx.actor.email),
        ctx.runtime.webex.identity().display_name or "Bot",
    )
    markdown = i18n.t(
        "ticket.customer.question",
        lang,
        contact=mention(contact_of(ticket)),
        agent=agent,
        number=ticket.number,
        text=escape_markdown(question),
        bot=bot,
    )
    card = ticket_cards.question_card(
        number=ticket.number, agent=ctx.actor.display_name or ctx.actor.email, question=question, lang=lang
    )
    if len(markdown.encode("utf-8")) > outbox.MAX_MESSAGE_BYTES or was_shortened(card):
        # Too long for a card or its fallback: the whole question goes first as a message (split as
        # long messages are), and the card under it carries the question cut to what fits.
        post_in_thread(ctx, ticket, markdown, must_reach=True)
        markdown = fit_escaped(
            lambda text: i18n.t(
                "ticket.customer.question",
                lang,
                contact=mention(contact_of(ticket)),
                agent=agent,
                number=ticket.number,
                text=text,
                bot=bot,
            ),
            question,
            outbox.MAX_MESSAGE_BYTES,
        )
    post_in_thread(ctx, ticket, markdown, card=card, must_reach=True)
    events.ticket_awaiting.send(ctx, ticket=ticket, now=now, asked_by=ctx.actor.email)
    ctx.reply(ctx.t("ticket.agent.waiting", number=ticket.number))


def resolve(ctx: Context, ticket: Ticket, inputs: dict[str, Any], *, quiet: bool = False) -> None:
    """Resolve with cause and resolution (incidents) or record the outcome (others), then ask the customer."""
    require_open(ticket)
    if ticket.status == "resolved":
        raise Refused("ticket.is_resolved", number=ticket.number)
    lang = ctx.lang
    if ticket.kind == "incident":
        cause, resolution = str(inputs.get("cause", "")).strip(), str(inputs.get("resolution", "")).strip()
        domain = str(inputs.get("customer_domain", "false")).lower()
        errors = [i18n.t(f"form.error.{k}", lang) for k, v in (("cause", cause), ("resolution", resolution)) if not v]
        errors += [
            i18n.t(
                "form.error.too_long",
                lang,
                field=i18n.t(f"form.field.{k}", lang),
                limit=ticket_cards.TEXT_MAX,
                length=len(v),
            )
            for k, v in (("cause", cause), ("resolution", resolution))
            if len(v) > ticket_cards.TEXT_MAX
        ]
        if domain not in ("true", "false"):
            errors.append(i18n.t("form.error.customer_domain", lang))
        if errors:
            raise Refused("form.refused", errors="\n".join(f"- {e}" for e in errors))
        record = {"cause": cause, "resolution": resolution, "customer_domain": domain == "true"}
        summary_key = "ticket.customer.resolved_incident"
        summary = {"cause": escape_markdown(cause), "resolution": escape_markdown(resolution)}
    else:
        outcome = str(inputs.get("outcome", "")).strip()
        if not outcome:
            raise Refused("form.refused", errors=f"- {i18n.t('form.error.outcome', lang)}")
        if len(outcome) > ticket_cards.TEXT_MAX:
            raise Refused(
                "form.refused",
                errors="- "
                + i18n.t(
                    "form.error.too_long",
                    lang,
                    field=i18n.t("form.field.outcome", lang),
                    limit=ticket_cards.TEXT_MAX,
                    length=len(outcome),
                ),
            )
        record = {"outcome": outcome}
        summary_key = "ticket.customer.resolved_outcome"
        summary = {"outcome": escape_markdown(outcome)}
    now = ctx.now()
    store.end_pause(ctx.session, ticket, now=now)
    closes_now = ticket.kind in ("rfc", "rfi")
    changes: dict[str, Any] = {
        "status": "closed" if closes_now else "resolved",
        "resolved_at": now,
        "resolution": {**(ticket.resolution or {}), **record},
    }
    if closes_now:
        changes["closed_at"] = now
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    store.change(
        ctx.session,
        ticket,
        actor=ctx.actor.email,
        room_id=ctx.space.room_id,
        now=now,
        action="closed" if closes_now else "resolved",
        **changes,
    )
    say_to_customer(ctx, ticket, summary_key, must_reach=False, **summary)
    events.ticket_resolved.send(ctx, ticket=ticket, now=now)
    if quiet:
        return
    ctx.reply(ctx.t("ticket.agent.closed" if closes_now else "ticket.agent.resolved", number=ticket.number))


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
        store.change(
            ctx.session,
            ticket,
            actor=ctx.actor.email,
            room_id=ctx.space.room_id,
            now=now,
            action="priority requested",
            requested_priority=priority,
        )
        store.note(
            ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="reason", text=reason
        )
        if phone:
            ticket.details = {**(ticket.details or {}), "phone": phone}
            store.note(
                ctx.session,
                ticket,
                actor=ctx.actor.email,
                room_id=ctx.space.room_id,
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
    store.change(
        ctx.session,
        ticket,
        actor=ctx.actor.email,
        room_id=ctx.space.room_id,
        now=now,
        action="priority set",
        priority=priority,
        requested_priority=None,
    )
    store.note(
        ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="reason", text=reason
    )
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
    store.change(
        ctx.session,
        ticket,
        actor=ctx.actor.email,
        room_id=ctx.space.room_id,
        now=now,
        action="priority request declined",
        requested_priority=None,
    )
    store.note(
        ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="reason", text=reason
    )
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


def convert(ctx: Context, ticket: Ticket, kind: str) -> None:
    """An RFI that is a live disruption becomes an incident; its RFI number stays findable."""
    if ticket.kind != "rfi" or kind != "incident":
        raise Refused("ticket.convert.only_rfi")
    require_open(ticket)
    now = ctx.now()
    old_number = ticket.number
    new_number = store.next_number(ctx.session, prefix=store.PREFIXES["incident"])
    store.add_number(ctx.session, ticket, number=new_number)
    store.change(
        ctx.session,
        ticket,
        actor=ctx.actor.email,
        room_id=ctx.space.room_id,
        now=now,
        action="converted",
        kind="incident",
        priority="P3",
    )
    ctx.session.flush()
    directory.audit(
        ctx.session,
        at=now,
        actor=ctx.actor.email,
        room_id=ctx.space.room_id,
        subject_type="ticket",
        subject=new_number,
        action="renumbered",
        old={"number": old_number},
        new={"number": new_number},
    )
    say_to_customer(ctx, ticket, "ticket.customer.converted", old=old_number)
    events.ticket_changed.send(ctx, ticket=ticket, now=now)
    ctx.reply(ctx.t("ticket.agent.converted", old=old_number, number=new_number))


# -- customer flows -------------------------------------------------------------------------------------


def add_note(ctx: Context, ticket: Ticket, text: str) -> None:
    """A customer's note: on the timeline, to the staff; it ends a wait for the customer."""
    if ticket.status == "closed":
        raise Refused("ticket.is_closed", number=ticket.number)
    now = ctx.now()
    if ticket.status == "awaiting_customer":
        store.end_pause(ctx.session, ticket, now=now)
        store.change(
            ctx.session,
            ticket,
            actor=ctx.actor.email,
            room_id=ctx.space.room_id,
            now=now,
            action="customer answered",
            status="in_progress",
        )
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="note", text=text)
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
    store.change(
        ctx.session,
        ticket,
        actor=ctx.actor.email,
        room_id=ctx.space.room_id,
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
    store.change(
        ctx.session,
        ticket,
        actor=ctx.actor.email,
        room_id=ctx.space.room_id,
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
    store.change(
        ctx.session,
        ticket,
        actor=ctx.actor.email,
        room_id=ctx.space.room_id,
        now=now,
        action=action,
        status="in_progress",
        resolved_at=None,
        closed_at=None,
    )
    store.note(
        ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="reason", text=reason
    )
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


def deliver_follow_up(ctx: Context, ticket: Ticket, target: str, text: str) -> None:
    """Deliver the RFO or the RCA of a resolved P1 to the customer's thread; its clock is met.

    From the first resolution on, as its clock: also while the customer has not confirmed
    yet, and after a rejected resolution.
    """
    if ticket.kind != "incident" or ticket.priority != "P1":
        raise Refused("aftercare.not_p1", number=ticket.number)
    if ticket.restored_at is None:
        raise Refused("aftercare.not_resolved", number=ticket.number)
    now = ctx.now()
    resolution = dict(ticket.resolution or {})
    delivered = dict(resolution.get("delivered", {}))
    if target in delivered:
        raise Refused("aftercare.already", number=ticket.number, what=ctx.t(f"sla.target.{target}"))
    delivered[target] = now.isoformat()
    if target == "rca":
        delivered.setdefault("rca_target", now.isoformat())
    resolution["delivered"] = delivered
    store.change(
        ctx.session,
        ticket,
        actor=ctx.actor.email,
        room_id=ctx.space.room_id,
        now=now,
        action=f"{target} delivered",
        resolution=resolution,
    )
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action=target, text=text)
    say_to_customer(ctx, ticket, f"aftercare.customer.{target}", text=escape_markdown(text))
    events.follow_up_delivered.send(ctx, ticket=ticket, now=now)
    ctx.reply(ctx.t("aftercare.delivered", number=ticket.number, what=ctx.t(f"sla.target.{target}")))


def on_disruption_closed(ctx: Context, *, ticket: Ticket, cause: str, summary: str) -> None:
    """A disruption closed with this ticket linked and open: resolved with the disruption's cause and summary."""
    resolve(ctx, ticket, {"cause": cause, "resolution": summary, "outcome": summary}, quiet=True)
