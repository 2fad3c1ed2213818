"""What the ticket flows share: who may do what, the staff card, the customer's thread, the targets."""

from __future__ import annotations

from datetime import datetime

from bot import i18n
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.security import AGENT, CUSTOMER, IN_CUSTOMER, PROBLEM_MANAGER
from bot.text import escape_markdown
from cards import tickets as ticket_cards
from commands.common import deadlines, oncall
from commands.common.threads import customer_lang, post_in_thread
from rules import Rules, clock_state, sla
from storage import directory
from storage.models.tickets import Ticket

CUSTOMERS = frozenset({CUSTOMER})
AGENTS = frozenset({AGENT})
CUSTOMERS_OR_AGENTS = frozenset({CUSTOMER, AGENT})
IN_CUSTOMER_SPACE = frozenset({IN_CUSTOMER})
AFTERCARE_ROLES = frozenset({AGENT, PROBLEM_MANAGER})
KINDS = ("incident", "rfc", "rfi", "complaint")


def defaults(ctx: Context) -> dict[str, str]:
    """The intake fields the actor need not type: their name and address."""
    return {"contact_name": ctx.actor.display_name, "email": ctx.actor.email}


def services(*, rules: Rules) -> list[tuple[str, str]]:
    """(name, code) of each service the desk offers."""
    return [(s.name, s.code) for s in rules.desk.services]


def space_profile(ctx: Context) -> sla.Profile:
    """The SLA profile of the space the command is given in."""
    return ctx.rules.profile(ctx.space.sla_profile)


def rfc_type_title(change: sla.RfcType, lang: str) -> str:
    """A change type's name in `lang`: from the configuration, else from the catalogues."""
    if change.title:
        return change.title.get(lang) or change.title[i18n.DEFAULT_LANGUAGE]
    return i18n.t(f"form.rfc_type.{change.id.replace('-', '_')}", lang)


def rfc_type_choices(profile: sla.Profile, lang: str) -> list[tuple[str, str]]:
    """(title, id) of each change type the profile offers, with its lead time when it has its own."""
    choices = []
    for change in profile.rfc_types:
        title = rfc_type_title(change, lang)
        if change.lead_time is not None:
            days = i18n.count(f"sla.budget.{change.lead_time.unit}", change.lead_time.amount, lang)
            title = i18n.t("form.rfc_type.lead_time", lang, type=title, days=days)
        choices.append((title, change.id))
    return choices


def priority_label(ctx: Context, ticket: Ticket) -> str:
    """The priority, with a requested one not yet confirmed ("P3 (P1 requested)")."""
    if ticket.requested_priority and ticket.requested_priority != ticket.priority:
        return ctx.t("ticket.priority.requested", priority=ticket.priority, requested=ticket.requested_priority)
    return ticket.priority or "—"


def target_lines(ctx: Context, ticket: Ticket, now: datetime) -> list[str]:
    """One line per target of the ticket: due in local time, and its state."""
    lines = []
    for target in clock_state.deadlines(
        deadlines.history(ctx.session, ticket), deadlines.profile_of(ctx.session, ticket, rules=ctx.rules), now
    ):
        name = ctx.t(f"sla.target.{target.target}")
        if target.state == "no_deadline":
            lines.append(ctx.t("sla.line.no_deadline", target=name))
        elif target.due is None:
            continue
        else:
            state = ctx.t(f"ticket.state.{target.state}")
            if target.best_effort:
                state = ctx.t("ticket.state.best_effort")
            if target.extended:
                state += " " + deadlines.extended_note(target, ctx.lang)
            lines.append(
                ctx.t("ticket.line.target", target=name, due=i18n.when(target.due, ctx.lang, AMSTERDAM), state=state)
            )
    return lines


def target_lines_in(ctx: Context, ticket: Ticket, lang: str) -> list[str]:
    """target_lines in `lang` (the customer's, told by an agent who reads another)."""
    saved = ctx.lang
    ctx.lang = lang
    try:
        return target_lines(ctx, ticket, ctx.now())
    finally:
        ctx.lang = saved


def notify_staff(ctx: Context, ticket: Ticket, event_key: str, *, alert: bool = False, **values: object) -> None:
    """A short card for the staff space, with Take, Respond and Set priority (`values` as typed); an
    `alert` mentions who must act."""
    spaces = directory.staff_spaces(ctx.session)
    if not spaces:
        return
    org = directory.org_by_id(ctx.session, org_id=ticket.org_id)
    staff_lang = spaces[0].language or i18n.DEFAULT_LANGUAGE
    # What the customer typed is no link here: nobody opens a customer's web address from an alert by a tap.
    label = i18n.t(
        event_key,
        staff_lang,
        number=ticket.number,
        **{k: escape_markdown(v, links=False) if isinstance(v, str) else v for k, v in values.items()},
    )
    # The card shows the whole title (or points to /ticket); the fallback only needs to say which ticket.
    title = (
        ticket.title
        if len(ticket.title) <= ticket_cards.TITLE_MAX
        else ticket.title[: ticket_cards.TITLE_MAX - 1] + "…"
    )
    markdown = i18n.t("staff.card.fallback", staff_lang, event=label, title=escape_markdown(title, links=False))
    if alert:
        markdown = oncall.calling_on(ctx.session, ticket, ctx.now(), markdown, staff_lang, rules=ctx.rules)
    card = ticket_cards.staff_ticket(
        number=ticket.number,
        org=org.name if org else "?",
        kind_label=i18n.t(f"ticket.kind.{ticket.kind}", staff_lang),
        priority_label=ticket.priority or "—"
        if not ticket.requested_priority
        else f"{ticket.priority} → {ticket.requested_priority}?",
        service=ticket.service,
        title=ticket.title,
        event=event_key,
        event_values=values,
        lang=staff_lang,
    )
    ctx.send(room_id=spaces[0].room_id, markdown=markdown, card=card, purpose=f"ticket:{ticket.number}:staff")


def say_to_customer(ctx: Context, ticket: Ticket, key: str, *, must_reach: bool = False, **values: object) -> None:
    """A catalogue text in the ticket's thread, in the customer space's language."""
    post_in_thread(
        ctx,
        ticket,
        i18n.t(key, customer_lang(ctx.session, ticket), number=ticket.number, **values),
        must_reach=must_reach,
    )


def require_open(ticket: Ticket) -> None:
    """Refuse a step on a closed ticket."""
    if ticket.status == "closed":
        raise Refused("ticket.is_closed", number=ticket.number)
