"""The lifecycle of a ticket: taken, answered, waiting, resolved, converted, and a P1's RFO and RCA.
Every step changes the ticket through storage.tickets (so it is on the timeline), talks to the
customer in the ticket's thread, and tells the other families what happened through commands.events.
Its priority is in priority.py, the customer's own steps (notes, confirming, reopening) in customer.py."""

from __future__ import annotations

from typing import Any

from bot import i18n, outbox
from bot.context import Context
from bot.errors import Refused
from bot.text import escape_markdown, fit_escaped, mention
from cards import tickets as ticket_cards
from cards.common import was_shortened
from commands import events
from commands.common import timeline
from commands.common.threads import customer_lang, post_in_thread
from commands.tickets.shared import (
    require_open,
    say_to_customer,
)
from storage import tickets as store
from storage.models.tickets import Ticket


def take(ctx: Context, ticket: Ticket) -> None:
    """An agent takes the ticket: it is in progress and its first response is met."""
    require_open(ticket)
    now = ctx.now()
    changes: dict[str, Any] = {"assignee": ctx.actor.email}
    if ticket.status == "new":
        changes["status"] = "in_progress"
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    timeline.change(ctx, ticket, now=now, action="taken", **changes)
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
        timeline.change(
            ctx,
            ticket,
            now=now,
            action="responded",
            **changes,
        )
    timeline.note(ctx, ticket, now=now, action="response", text=text)
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
    timeline.change(ctx, ticket, now=now, action="waiting", **changes)
    timeline.note(ctx, ticket, now=now, action="question", text=question)
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
    timeline.change(
        ctx,
        ticket,
        now=now,
        action="closed" if closes_now else "resolved",
        **changes,
    )
    say_to_customer(ctx, ticket, summary_key, must_reach=False, **summary)
    events.ticket_resolved.send(ctx, ticket=ticket, now=now)
    if quiet:
        return
    ctx.reply(ctx.t("ticket.agent.closed" if closes_now else "ticket.agent.resolved", number=ticket.number))


def convert(ctx: Context, ticket: Ticket, kind: str) -> None:
    """An RFI that is a live disruption becomes an incident; its RFI number stays findable."""
    if ticket.kind != "rfi" or kind != "incident":
        raise Refused("ticket.convert.only_rfi")
    require_open(ticket)
    now = ctx.now()
    old_number = ticket.number
    new_number = store.next_number(ctx.session, prefix=store.PREFIXES["incident"])
    store.add_number(ctx.session, ticket, number=new_number)
    timeline.change(
        ctx,
        ticket,
        now=now,
        action="converted",
        kind="incident",
        priority="P3",
    )
    ctx.session.flush()
    ctx.audit(
        subject_type="ticket",
        subject=new_number,
        action="renumbered",
        old={"number": old_number},
        new={"number": new_number},
        at=now,
    )
    say_to_customer(ctx, ticket, "ticket.customer.converted", old=old_number)
    events.ticket_changed.send(ctx, ticket=ticket, now=now)
    ctx.reply(ctx.t("ticket.agent.converted", old=old_number, number=new_number))


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
    timeline.change(
        ctx,
        ticket,
        now=now,
        action=f"{target} delivered",
        resolution=resolution,
    )
    timeline.note(ctx, ticket, now=now, action=target, text=text)
    say_to_customer(ctx, ticket, f"aftercare.customer.{target}", text=escape_markdown(text))
    events.follow_up_delivered.send(ctx, ticket=ticket, now=now)
    ctx.reply(ctx.t("aftercare.delivered", number=ticket.number, what=ctx.t(f"sla.target.{target}")))


def on_disruption_closed(ctx: Context, *, ticket: Ticket, cause: str, summary: str) -> None:
    """A disruption closed with this ticket linked and open: resolved with the disruption's cause and summary."""
    resolve(ctx, ticket, {"cause": cause, "resolution": summary, "outcome": summary}, quiet=True)
