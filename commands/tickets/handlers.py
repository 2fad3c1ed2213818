"""Ticket commands and card buttons: parse, authorise, call a flow, reply. Text commands and card
buttons call the same flow."""

from __future__ import annotations

import re
from typing import Any

from bot import i18n
from bot.context import Context
from bot.errors import Refused
from bot.events import MessageEvent
from bot.router import Args, Handler
from bot.security import CUSTOMER
from cards import intake as intake_cards
from cards import tickets as ticket_cards
from commands.common.threads import any_ticket, customer_lang, find_ticket, number_and_rest
from commands.tickets import customer, intake, lifecycle, priority, views
from commands.tickets.shared import KINDS, defaults, require_open, rfc_type_choices, services, space_profile
from storage import tickets as store
from storage.models.tickets import Ticket

_PHONE_GIVEN = re.compile(r'^phone=(?:"([^"]*)"|(\S+))(.*)$', re.IGNORECASE | re.DOTALL)


def asks_for_p1(text: str) -> bool:
    """Whether inline intake fields request P1: never held back by the rate limit."""
    return str(intake.inline_fields(text)[0].get("priority", "")).strip().upper() == "P1"


def raises_to_p1(text: str) -> bool:
    """Whether `/priority [number] P1 …` asks for P1: never held back by the rate limit."""
    return "P1" in [word.upper() for word in text.split()[:2]]


def intake_command(kind: str) -> Handler:
    """The handler of `/<kind>`: the form card, or a ticket at once from inline fields."""

    def handler(ctx: Context, args: Args) -> None:
        inline, title = intake.inline_fields(args.text)
        if inline:
            # Power users give the fields inline: checked as strictly as the form.
            intake.open_ticket(ctx, kind, {**defaults(ctx), "title": title, **inline})
            return
        prefill = {**defaults(ctx), "title": title}
        ctx.reply(
            ctx.t(f"form.{kind}.intro"),
            card=intake_cards.intake_form(
                kind,
                lang=ctx.lang,
                services=services(rules=ctx.rules),
                prefill=prefill,
                rfc_types=rfc_type_choices(space_profile(ctx), ctx.lang),
            ),
        )

    handler.__name__ = f"{kind}_command"
    handler.__doc__ = f"Open a new {kind}: the form card, or inline fields."
    return handler


def create_from_card(ctx: Context, inputs: dict[str, Any]) -> str | None:
    """The intake form's submit button (the form opens one ticket, however often it is pressed)."""
    kind = str(inputs.get("kind", ""))
    if kind not in KINDS:
        raise Refused("form.error.kind")
    ticket = intake.open_ticket(ctx, kind, inputs)
    return ticket.number if ticket is not None else None


def tickets_command(ctx: Context, args: Args) -> None:
    """This organisation's open tickets, most urgent first."""
    args.none()
    ctx.reply(views.tickets_list(ctx))


def queue_command(ctx: Context, args: Args) -> None:
    """Open tickets of every organisation with the time left on each target, breached first."""
    args.none()
    ctx.reply(views.queue_list(ctx))


def ticket_command(ctx: Context, args: Args) -> None:
    """A ticket's details, its current targets and its timeline."""
    number, _ = number_and_rest(ctx, args)
    ctx.reply(views.ticket_view(ctx, find_ticket(ctx, number, for_update=False)))


def take_command(ctx: Context, args: Args) -> None:
    """Take a ticket."""
    number, _ = number_and_rest(ctx, args)
    lifecycle.take(ctx, find_ticket(ctx, number))


def respond_command(ctx: Context, args: Args) -> None:
    """Answer the customer in the ticket's thread."""
    number, text = number_and_rest(ctx, args, need_rest="text")
    lifecycle.respond(ctx, find_ticket(ctx, number), text)


def wait_command(ctx: Context, args: Args) -> None:
    """Ask the customer a question; the clocks pause until they answer."""
    number, text = number_and_rest(ctx, args, need_rest="question")
    lifecycle.wait_for_customer(ctx, find_ticket(ctx, number), text)


def resolve_command(ctx: Context, args: Args) -> None:
    """The resolve form: cause, resolution and customer domain of an incident; a complaint's proposed outcome."""
    number, _ = number_and_rest(ctx, args)
    ticket = find_ticket(ctx, number, for_update=False)
    require_open(ticket)
    if ticket.kind not in ("incident", "complaint"):
        raise Refused("ticket.resolve.use_close", number=ticket.number)
    ctx.reply(
        ctx.t("ticket.resolve.intro", number=ticket.number),
        card=ticket_cards.resolve_form(number=ticket.number, kind=ticket.kind, lang=ctx.lang),
    )


def close_command(ctx: Context, args: Args) -> None:
    """Close an RFC or RFI with its outcome, or a complaint with how it was agreed with the customer."""
    number, text = number_and_rest(ctx, args)
    ticket = find_ticket(ctx, number)
    if ticket.kind == "incident":
        raise Refused("ticket.close.use_resolve", number=ticket.number)
    complaint = ticket.kind == "complaint"
    if not text:
        raise Refused(
            "ticket.missing",
            what=ctx.t("ticket.what.agreement" if complaint else "ticket.what.outcome"),
            usage="/close <number> <how it was agreed>" if complaint else args.usage,
        )
    if complaint:
        customer.close_by_agreement(ctx, ticket, text)
    else:
        lifecycle.resolve(ctx, ticket, {"outcome": text})


def priority_command(ctx: Context, args: Args) -> None:
    """Agents set the priority (out of office hours also the engineer who acknowledged the P1 page);
    customers request a change (P1: call the desk)."""
    number, rest = number_and_rest(ctx, args)
    level, _, reason = rest.partition(" ")
    if level.upper() not in ("P1", "P2", "P3"):
        raise Refused("ticket.priority.usage")
    phone = _PHONE_GIVEN.match(reason.strip())
    if phone:  # '/priority INC-1001 P1 phone=+31612345678 <reason>': the number to call back
        priority.set_priority(
            ctx, find_ticket(ctx, number), level, phone.group(3).strip(), phone=phone.group(1) or phone.group(2)
        )
        return
    priority.set_priority(ctx, find_ticket(ctx, number), level, reason.strip())


def convert_command(ctx: Context, args: Args) -> None:
    """Turn an RFI that is a live disruption into an incident."""
    number, kind = number_and_rest(ctx, args, need_rest="kind")
    lifecycle.convert(ctx, find_ticket(ctx, number), kind.lower())


def note_command(ctx: Context, args: Args) -> None:
    """Add something to a ticket; it also answers a question of the service desk."""
    number, text = number_and_rest(ctx, args, need_rest="text")
    customer.add_note(ctx, find_ticket(ctx, number), text)


def confirm_command(ctx: Context, args: Args) -> None:
    """Confirm that a ticket is resolved."""
    number, _ = number_and_rest(ctx, args)
    customer.confirm(ctx, find_ticket(ctx, number))


def reopen_command(ctx: Context, args: Args) -> None:
    """Reject a resolution or reopen a recently closed ticket."""
    number, text = number_and_rest(ctx, args, need_rest="reason")
    customer.reopen(ctx, find_ticket(ctx, number), text)


def reply_in_thread(ctx: Context, text: str) -> bool:
    """A customer writing to the bot in a ticket's thread without a command adds a note."""
    if CUSTOMER not in ctx.actor.roles or not isinstance(ctx.event, MessageEvent) or not ctx.event.parent_id:
        return False
    ticket = store.by_thread(ctx.session, root_message_id=ctx.event.parent_id)
    if ticket is None or ticket.org_id != ctx.space.org_id:
        return False
    if len(text) > ticket_cards.TEXT_MAX:
        raise Refused(
            "form.error.too_long", field=ctx.t("form.field.text"), limit=ticket_cards.TEXT_MAX, length=len(text)
        )
    customer.add_note(ctx, ticket, text)
    return True


# -- card buttons ------------------------------------------------------------------------------------


def _card_ticket(ctx: Context, inputs: dict[str, Any]) -> Ticket:
    number = str(inputs.get("ticket", ""))
    return find_ticket(ctx, number if store.normalise_number(number) else "?")


def take_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Take, from the staff card."""
    lifecycle.take(ctx, _card_ticket(ctx, inputs))


def respond_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Respond, from the staff card (its text field)."""
    text = str(inputs.get("text", "")).strip()
    if not text:
        raise Refused("ticket.missing", what=i18n.t("ticket.what.text", ctx.lang), usage="/respond <number> <text>")
    if len(text) > ticket_cards.TEXT_MAX:
        raise Refused(
            "form.error.too_long", field=ctx.t("form.field.text"), limit=ticket_cards.TEXT_MAX, length=len(text)
        )
    lifecycle.respond(ctx, _card_ticket(ctx, inputs), text)


def priority_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Set priority, from the staff card (its choice and reason)."""
    priority.set_priority(
        ctx, _card_ticket(ctx, inputs), str(inputs.get("priority", "")), str(inputs.get("reason", "")).strip()
    )


def resolve_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """The resolve form's submit (one resolution per form: after a reopening `/resolve` gives a new one)."""
    ticket = _card_ticket(ctx, inputs)
    lifecycle.resolve(ctx, ticket, inputs)
    return ticket.number


def _note_text(ctx: Context, inputs: dict[str, Any], field: str, *, what: str) -> str:
    """The text a card adds to a ticket as a note (an answer, a question): given, and within the limit."""
    text = str(inputs.get(field, "")).strip()
    if not text:
        raise Refused("ticket.missing", what=ctx.t(what), usage="/note <number> <text>")
    if len(text) > ticket_cards.TEXT_MAX:
        raise Refused(
            "form.error.too_long", field=ctx.t(f"form.field.{field}"), limit=ticket_cards.TEXT_MAX, length=len(text)
        )
    return text


def answer_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """Send, on an agent's question: the answer is a note, as with /note, and the clock runs again."""
    text = _note_text(ctx, inputs, "answer", what="ticket.what.text")
    ticket = _card_ticket(ctx, inputs)
    customer.add_note(ctx, ticket, text)
    return ticket.number


def solved_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """ "Solved" on the resolution card: the same as /confirm."""
    customer.confirm(ctx, _card_ticket(ctx, inputs))


def not_solved_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """ "Not solved" ("Not agreed" for a complaint) on the resolution card: reopens, the time spent resolved counts."""
    ticket = _card_ticket(ctx, inputs)
    reason = str(inputs.get("reason", "")).strip() or ctx.t(
        "confirm.card.not_agreed" if ticket.kind == "complaint" else "confirm.card.no_reason"
    )
    if len(reason) > ticket_cards.TITLE_MAX:
        raise Refused(
            "form.error.too_long", field=ctx.t("form.field.reason"), limit=ticket_cards.TITLE_MAX, length=len(reason)
        )
    customer.reopen(ctx, ticket, reason)


def ask_in_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """ "Add to INC-…" on the answer to an RFI about an open incident: the question is a note on the incident, as with /note."""
    text = _note_text(ctx, inputs, "question", what="ticket.what.question")
    ticket = _card_ticket(ctx, inputs)
    if ticket.status == "closed":
        raise Refused("ticket.ask_in.closed", number=ticket.number)
    customer.add_note(ctx, ticket, text)
    return ticket.number


# -- P1 aftercare ---------------------------------------------------------------------------------------


def rfo_command(ctx: Context, args: Args) -> None:
    """Deliver the Reason For Outage of a resolved P1."""
    number, text = number_and_rest(ctx, args, need_rest="text")
    lifecycle.deliver_follow_up(ctx, find_ticket(ctx, number), "rfo", text)


def rca_command(ctx: Context, args: Args) -> None:
    """Deliver the Root Cause Analysis of a resolved P1."""
    number, text = number_and_rest(ctx, args, need_rest="text")
    lifecycle.deliver_follow_up(ctx, find_ticket(ctx, number), "rca", text)


# -- the page card (the record is the ticket: its priority, its view) -------------------------------------


def decision_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Confirm P1 / Lower to P2 / Keep P3, on the acknowledgement out of office hours: the same as /priority."""
    ticket = any_ticket(ctx, str(inputs.get("ticket", "")))
    reason = str(inputs.get("reason", "")).strip() or i18n.t(
        "page.decide.default_reason", customer_lang(ctx.session, ticket)
    )
    priority.set_priority(ctx, ticket, str(inputs.get("priority", "")), reason)


def view_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Open ticket, from the page card: its details and targets, here."""
    ctx.reply(views.ticket_view(ctx, any_ticket(ctx, str(inputs.get("ticket", "")))))
