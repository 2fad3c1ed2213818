"""The disruption commands and buttons: parse, call a flow, reply."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from bot import i18n, parse
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.router import Args
from bot.security import AGENT, IN_STAFF, PROBLEM_MANAGER
from bot.text import escape_markdown
from cards import disruptions as dis_cards
from commands.common.audience import inline_fields
from commands.disruptions import flows
from commands.disruptions.detection import proposal_dismissed, proposals_answered
from commands.disruptions.queries import promised_update, session_ticket
from storage import tickets as store
from storage.models.operations import Disruption, DisruptionProposal
from storage.models.runtime import OutboxMessage
from storage.models.tickets import Ticket

AGENTS = frozenset({AGENT})
# Problem managers own root cause analyses (guide); agents may deliver them too, as with a ticket's /rca.
RCA_ROLES = frozenset({AGENT, PROBLEM_MANAGER})
STAFF_ONLY = frozenset({IN_STAFF})
_NUMBER = re.compile(r"^DIS-\d{1,9}$", re.IGNORECASE)


# A proposal is answered once, by one agent: its open form or its dismissal (two forms opened two disruptions).
def proposal_open(ctx: Context, inputs: dict[str, Any]) -> None:
    """ "Open disruption" on a proposal: the form, prefilled with the linked tickets."""
    proposal = _proposal(ctx, inputs)
    linked = (session_ticket(ctx.session, i) for i in proposal.ticket_ids)
    tickets = ",".join(t.number for t in linked if t is not None)
    ctx.reply(
        ctx.t("dis.form.intro"),
        card=dis_cards.open_form(
            services=[(s.name, s.code) for s in ctx.rules.desk.services], lang=ctx.lang, tickets=tickets
        ),
    )


def proposal_dismiss(ctx: Context, inputs: dict[str, Any]) -> None:
    """ "Not related": the proposal is set aside."""
    proposal = _proposal(ctx, inputs)
    proposal_dismissed(proposal)
    ctx.reply(ctx.t("dis.proposal.dismissed"))


def _proposal(ctx: Context, inputs: dict[str, Any]) -> DisruptionProposal:
    proposal_id = parse.row_id(inputs.get("proposal"))
    proposal = ctx.session.get(DisruptionProposal, proposal_id) if proposal_id is not None else None
    if proposal is None or proposal.status != "proposed":
        raise Refused("dis.proposal.gone")
    return proposal


def _find(ctx: Context, number: str) -> Disruption:
    number = number.strip().upper()
    d = ctx.session.scalar(select(Disruption).where(Disruption.number == number)) if _NUMBER.match(number) else None
    if d is None:
        raise Refused("dis.not_found", number=number if _NUMBER.match(number) else escape_markdown(number[:20]))
    return d


def _noticed(ctx: Context, number: str) -> Disruption:
    """The disruption a notice's button names, when this space got a notice of it; for any other space
    it answers as one that does not exist (a forged press learns nothing and links nothing)."""
    d = _find(ctx, number)
    notices = [f"disruption:{d.number}:{kind}" for kind in ("opened", "updated")]
    got = ctx.session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.order_key == ctx.space.room_id, OutboxMessage.purpose.in_(notices))
        .limit(1)
    )
    if got is None:
        raise Refused("dis.not_found", number=d.number)
    return d


def open_command(ctx: Context, args: Args) -> None:
    """The form, or the fields inline."""
    fields = inline_fields(args.text)
    if not fields:
        ctx.reply(
            ctx.t("dis.form.intro"),
            card=dis_cards.open_form(services=[(s.name, s.code) for s in ctx.rules.desk.services], lang=ctx.lang),
        )
        return
    flows.open_disruption(ctx, fields)


def open_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """The open form's submit (possibly from a proposal, with its tickets): one disruption per form."""
    ids = []
    for number in str(inputs.get("tickets", "")).split(","):
        if number.strip():
            ticket = store.find(ctx.session, number=number, org_id=None)
            if ticket is None:
                raise Refused("ticket.not_found", number=escape_markdown(number.strip()[:20]))
            ids.append(ticket.id)
    d = flows.open_disruption(ctx, inputs, ticket_ids=ids)
    proposals_answered(ctx.session, ids)
    return d.number


def update_command(ctx: Context, args: Args) -> None:
    """The update form, or the fields inline (all four required)."""
    number, _, rest = args.text.strip().partition(" ")
    d = _find(ctx, number)
    fields = inline_fields(rest)
    if not fields:
        ctx.reply(ctx.t("dis.form.intro"), card=dis_cards.update_form(number=d.number, lang=ctx.lang))
        return
    flows.update(ctx, d, fields)


def update_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """The update form's submit: one update per form (a second press would notify every space again)."""
    d = _find(ctx, str(inputs.get("disruption", "")))
    flows.update(ctx, d, inputs)
    return d.number


def close_command(ctx: Context, args: Args) -> None:
    """The close form, or the fields inline."""
    number, _, rest = args.text.strip().partition(" ")
    d = _find(ctx, number)
    fields = inline_fields(rest)
    if not fields:
        ctx.reply(
            ctx.t("dis.form.intro"), card=dis_cards.close_form(number=d.number, rca=d.severity == "P1", lang=ctx.lang)
        )
        return
    flows.close(ctx, d, fields)


def close_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """The close form's submit."""
    d = _find(ctx, str(inputs.get("disruption", "")))
    flows.close(ctx, d, inputs)
    return d.number


def rca_command(ctx: Context, args: Args) -> None:
    """Deliver the root cause analysis of a closed P1-level disruption to every space told about it."""
    number, _, text = args.text.strip().partition(" ")
    if not number:
        raise Refused("dis.rca.usage", usage=args.usage)
    flows.deliver_rca(ctx, _find(ctx, number), text.strip(), usage=args.usage)


def link_command(ctx: Context, args: Args) -> None:
    """Link tickets: their spaces join the audience, and they are resolved with the disruption."""
    _link(ctx, args, unlink=False)


def unlink_command(ctx: Context, args: Args) -> None:
    """Unlink tickets."""
    _link(ctx, args, unlink=True)


def _link(ctx: Context, args: Args, *, unlink: bool) -> None:
    words = args.words
    if len(words) < 2:
        raise Refused("dis.link.usage", usage=args.usage)
    d = _find(ctx, words[0])
    if d.status != "open":
        raise Refused("dis.closed", number=d.number)
    tickets = []
    for number in words[1:]:
        ticket = store.find(ctx.session, number=number, org_id=None)
        if ticket is None:
            raise Refused("ticket.not_found", number=escape_markdown(number[:20]))
        tickets.append(ticket)
    flows.link(ctx, d, tickets, unlink=unlink)
    ctx.reply(ctx.t("dis.linked", number=d.number, count=len(d.ticket_ids)))


# One incident per notice: two people of one organisation pressing at once opened two.
def affected(ctx: Context, inputs: dict[str, Any]) -> str:
    """ "We are affected too": an incident of this organisation, linked to the disruption."""
    d = _noticed(ctx, str(inputs.get("disruption", "")))
    return flows.affected(ctx, d).number


def mine(ctx: Context, inputs: dict[str, Any]) -> None:
    """ "Show my linked tickets": this organisation's tickets linked to the disruption."""
    d = _noticed(ctx, str(inputs.get("disruption", "")))
    numbers = [
        t.number
        for t in (ctx.session.get(Ticket, i) for i in d.ticket_ids)
        if t is not None and t.org_id == ctx.space.org_id
    ]
    ctx.reply(
        ctx.t("dis.mine", number=d.number, tickets=", ".join(numbers))
        if numbers
        else ctx.t("dis.mine.none", number=d.number)
    )


def list_command(ctx: Context, args: Args) -> None:
    """Open disruptions; overdue ones first."""
    args.none()
    now = ctx.now()
    found = ctx.session.scalars(
        select(Disruption).where(Disruption.status == "open").order_by(Disruption.next_update_at)
    ).all()
    if not found:
        ctx.reply(ctx.t("dis.none"))
        return
    lines = [ctx.t("dis.list.title")]
    for d in found:
        key = "dis.list.overdue" if d.next_update_at and d.next_update_at <= now else "dis.list.line"
        lines.append(
            ctx.t(
                key,
                number=d.number,
                services=", ".join(d.services),
                severity=d.severity,
                time=i18n.when(promised_update(d), ctx.lang, AMSTERDAM),
                tickets=len(d.ticket_ids),
            )
        )
    ctx.reply("\n".join(lines))


def show_command(ctx: Context, args: Args) -> None:
    """One disruption: its state, linked tickets and how far its notices have been sent."""
    d = _find(ctx, args.text.strip())
    counts = dict(
        ctx.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.purpose.like(f"disruption:{d.number}:%"))
            .group_by(OutboxMessage.status)
        ).all()
    )
    tickets = ", ".join(t.number for t in (ctx.session.get(Ticket, i) for i in d.ticket_ids) if t is not None) or "—"
    ctx.reply(
        ctx.t(
            "dis.view",
            number=d.number,
            status=ctx.t(f"dis.status.{d.status}"),
            services=", ".join(d.services),
            severity=d.severity,
            tickets=tickets,
            sent=counts.get("sent", 0),
            pending=counts.get("pending", 0) + counts.get("sending", 0),
            failed=counts.get("failed", 0),
        )
    )
