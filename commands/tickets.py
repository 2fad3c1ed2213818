"""Tickets from chat: intake, the lifecycle, the customer's and the staff's views.

Handlers parse and authorise; the flows below (one per step of the lifecycle) are shared by
text commands and card buttons. Every flow changes the ticket through storage.tickets, so each
step is on the timeline, and talks to the customer in the ticket's thread.
"""

from __future__ import annotations

import logging
import re
import shlex
from datetime import datetime
from typing import Any

from bot import i18n, logs, outbox
from rules import desk
from rules import sla
from rules import Rules
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.events import MessageEvent
from bot.router import Args, Handler, Router
from bot.scheduler import TimerRegistry
from bot.security import AGENT, CUSTOMER, ENGINEER, IN_CUSTOMER, IN_DIRECT, IN_STAFF, PROBLEM_MANAGER
from bot.text import escape_markdown, fit_escaped, mention
from cards import tickets as ticket_cards
from cards.common import was_shortened
from cards.tickets import Action, validate_intake
from commands import clocks, disruptions, maintenance, paging, watchers
from storage import directory
from storage import tickets as store
from storage.models import Ticket

log = logging.getLogger(__name__)

CUSTOMERS = frozenset({CUSTOMER})
AGENTS = frozenset({AGENT})
CUSTOMERS_OR_AGENTS = frozenset({CUSTOMER, AGENT})
IN_CUSTOMER_SPACE = frozenset({IN_CUSTOMER})
WHERE_TICKETS_ARE = frozenset({IN_CUSTOMER, IN_STAFF})
KINDS = ("incident", "rfc", "rfi", "complaint")
REOPEN_DAYS = 5
_INLINE = re.compile(r"^(\w+)=(.*)$")
# A ticket number anywhere in a text (an RFI's question naming the incident it is about).
_NAMED = re.compile(r"\b(?:INC|RFC|RFI|CMP)-\d{1,9}\b", re.IGNORECASE)
_PHONE_GIVEN = re.compile(r'^phone=(?:"([^"]*)"|(\S+))(.*)$', re.IGNORECASE | re.DOTALL)


# -- intake -------------------------------------------------------------------------------------------


def _asks_for_p1(text: str) -> bool:
    """Whether inline intake fields request P1: never held back by the rate limit."""
    return str(_inline_fields(text)[0].get("priority", "")).strip().upper() == "P1"


def _raises_to_p1(text: str) -> bool:
    """Whether `/priority [number] P1 …` asks for P1: never held back by the rate limit."""
    return "P1" in [word.upper() for word in text.split()[:2]]


def _intake(kind: str) -> Handler:
    def handler(ctx: Context, args: Args) -> None:
        inline, title = _inline_fields(args.text)
        if inline:
            # Power users give the fields inline: checked as strictly as the form.
            open_ticket(ctx, kind, {**_defaults(ctx), "title": title, **inline})
            return
        prefill = {**_defaults(ctx), "title": title}
        ctx.reply(ctx.t(f"form.{kind}.intro"), card=ticket_cards.intake_form(kind, lang=ctx.lang, services=_services(rules=ctx.rules), prefill=prefill,
                                                                           rfc_types=rfc_type_choices(_space_profile(ctx), ctx.lang)))

    handler.__name__ = f"{kind}_command"
    handler.__doc__ = f"Open a new {kind}: the form card, or inline fields."
    return handler




def create_from_card(ctx: Context, inputs: dict[str, Any]) -> str | None:
    """The intake form's submit button (the form opens one ticket, however often it is pressed)."""
    kind = str(inputs.get("kind", ""))
    if kind not in KINDS:
        raise Refused("form.error.kind")
    ticket = open_ticket(ctx, kind, inputs)
    return ticket.number if ticket is not None else None


def _defaults(ctx: Context) -> dict[str, str]:
    return {"contact_name": ctx.actor.display_name, "email": ctx.actor.email}


def _services(*, rules: Rules) -> list[tuple[str, str]]:
    return [(s.name, s.code) for s in rules.desk.services]


def _space_profile(ctx: Context) -> sla.Profile:
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


def _inline_fields(text: str) -> tuple[dict[str, str], str]:
    """'service=M2M devices=120 Modems offline' → ({'service': 'M2M', 'impact': '120'}, 'Modems offline')."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    fields: dict[str, str] = {}
    rest: list[str] = []
    for word in words:
        match = _INLINE.match(word)
        if match and not rest:
            key = {"devices": "impact", "connections": "impact", "type": "rfc_type", "ref": "reference"}.get(match.group(1).lower(),
                                                                                                             match.group(1).lower())
            fields[key] = match.group(2)
        else:
            rest.append(word)
    return fields, " ".join(rest)


def open_ticket(ctx: Context, kind: str, inputs: dict[str, Any], *, disruption: str | None = None) -> Ticket | None:
    """Check the intake, register the ticket, answer in the space (the thread root) and tell the staff.

    An incident about a service under maintenance is answered with the notice instead (None),
    unless the customer reports it anyway. `disruption`: opened from a disruption notice
    ("We are affected too"), linked to it from the start.
    """
    checked = validate_intake(kind, inputs, lang=ctx.lang, services=[s.code for s in ctx.rules.desk.services],
                              rfc_types=[t.id for t in _space_profile(ctx).rfc_types])
    if checked.errors:
        raise Refused("form.refused", errors="\n".join(f"- {e}" for e in checked.errors))
    fields = checked.fields
    now = ctx.now()
    if fields.get("reference"):
        referenced = store.find(ctx.session, number=fields["reference"], org_id=ctx.space.org_id)
        if referenced is None:
            raise Refused("ticket.not_found", number=store.normalise_number(fields["reference"]) or escape_markdown(fields["reference"]))
    if fields.get("reference"):
        fields["reference"] = referenced.number
    if kind == "rfi" and redirect_rfi(ctx, fields):
        return None
    requested = fields.pop("requested_priority", None)
    details = {k: v for k, v in fields.items() if k not in ("title", "description", "service") and v not in (None, [], "")}
    if disruption:
        details["disruption"] = disruption
    if kind == "incident" and not disruption:
        active = maintenance.active_for(ctx.session, fields.get("service"), now)
        despite = str(inputs.get("despite_maintenance") or "")
        if active is not None and despite.upper() != active.number:
            # Explainable downtime is not an incident (guide); the customer may still report it.
            notice, card = maintenance.during_maintenance_card(ctx, active, inputs)
            ctx.reply(notice, card=card)
            return None
        if active is not None:
            details["maintenance"] = active.number
    ticket = store.create(
        ctx.session, kind=kind, org_id=ctx.space.org_id, room_id=ctx.space.room_id, title=fields["title"], now=now,
        actor=ctx.actor.email, service=fields.get("service"), description=fields.get("description"), details=details,
        # Every incident starts at P3 (guide); a higher one is a request an agent confirms.
        priority="P3" if kind == "incident" else None,
        requested_priority=requested if requested in ("P1", "P2") else None,
    )
    logs.note(ticket=ticket.number)
    log.info("ticket %s opened (%s) by %s", ticket.number, kind, ctx.actor.email)
    root = ctx.send(room_id=ctx.space.room_id, markdown=confirmation(ctx, ticket), purpose=f"ticket:{ticket.number}:root")
    ticket.root_outbox_id = root.id
    p1 = ticket.requested_priority == "P1"
    notify_staff(ctx, ticket, "staff.event.p1_requested" if p1 else "staff.event.new", alert=p1)
    watchers.registered(ctx.session, ticket, now, by=ctx.actor.display_name or ctx.actor.email)
    if ticket.requested_priority == "P1":
        paging.start_paging(ctx.session, ticket, now, rules=ctx.rules)
    clocks.refresh(ctx.session, ticket, now, rules=ctx.rules)
    disruptions.detect(ctx.session, ticket, now)
    return ticket


def redirect_rfi(ctx: Context, fields: dict[str, Any]) -> bool:
    """An RFI about an open incident of the organisation is not registered: the customer is asked to
    ask it in the incident, with a button that adds the question to it as a note (True). The guide:
    an ongoing incident is asked about in its own ticket. An RFI about a closed incident refers to
    it: when the question names one and gives no reference, that incident becomes the reference."""
    if fields.get("reference"):
        about = store.find(ctx.session, number=fields["reference"], org_id=ctx.space.org_id)
    else:
        named = (store.find(ctx.session, number=m.group(), org_id=ctx.space.org_id) for m in _NAMED.finditer(fields["title"]))
        about = next((t for t in named if t is not None and t.kind == "incident"), None)
    if about is None or about.kind != "incident":
        return False
    if about.status == "closed":
        fields["reference"] = about.number
        return False
    ctx.reply(ctx.t("rfi.ask_in", number=about.number),
              card=ticket_cards.ask_in_incident(number=about.number, question=fields["title"], lang=ctx.lang))
    return True


def confirmation(ctx: Context, ticket: Ticket) -> str:
    """The thread root: number, kind, service, priority, SLA targets in local time, what happens next."""
    lang = ctx.lang
    lines = [ctx.t("ticket.registered", number=ticket.number, kind=ctx.t(f"ticket.kind.{ticket.kind}"),
                   title=escape_markdown(ticket.title))]
    if ticket.service:
        lines.append(ctx.t("ticket.line.service", service=ticket.service))
    if (ticket.details or {}).get("reference"):
        lines.append(ctx.t("ticket.line.reference", reference=ticket.details["reference"]))
    if ticket.kind == "incident":
        lines.append(ctx.t("ticket.line.priority", priority=_priority_label(ctx, ticket)))
    lines.append(ctx.t("ticket.line.targets"))
    lines.extend(_target_lines(ctx, ticket, ctx.now()))
    lines.append("")
    lines.append(_next_steps(ctx, ticket, lang))
    return "\n".join(lines)


def _priority_label(ctx: Context, ticket: Ticket) -> str:
    if ticket.requested_priority and ticket.requested_priority != ticket.priority:
        return ctx.t("ticket.priority.requested", priority=ticket.priority, requested=ticket.requested_priority)
    return ticket.priority or "—"


def _next_steps(ctx: Context, ticket: Ticket, lang: str) -> str:
    phone = desk.tel_link(ctx.rules.desk.phone)
    if ticket.requested_priority == "P1":
        return ctx.t("ticket.next.p1", phone=phone)
    # The organisation's own office hours: a partner customer at 08:30 waits for 09:00, an een one never waits.
    office = ctx.rules.office_calendar(_profile(ctx, ticket).office_hours)
    now = ctx.now()
    if office.is_business_time(now):
        steps = [ctx.t("ticket.next.office_hours")]
        if ticket.requested_priority == "P2":
            steps.append(ctx.t("ticket.next.p2", phone=phone))
        return "\n".join(steps)
    when = i18n.when(office.next_business_instant(now), lang, AMSTERDAM)
    steps = [ctx.t("ticket.next.out_of_hours", when=when, phone=phone)]
    if ticket.requested_priority == "P2":  # the stand-by takes only P1 calls: the desk from when it opens
        steps.append(ctx.t("ticket.next.p2_later", phone=phone, when=when))
    return "\n".join(steps)


def history(ctx: Context, ticket: Ticket) -> sla.TicketHistory:
    """What the SLA engine needs of a ticket."""
    return clocks.history(ctx.session, ticket)


def _profile(ctx: Context, ticket: Ticket) -> sla.Profile:
    return clocks.profile_of(ctx.session, ticket, rules=ctx.rules)


def _target_lines(ctx: Context, ticket: Ticket, now: datetime) -> list[str]:
    lines = []
    for target in sla.deadlines(history(ctx, ticket), _profile(ctx, ticket), now):
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
                state += " " + clocks.extended_note(target, ctx.lang)
            lines.append(ctx.t("ticket.line.target", target=name, due=i18n.when(target.due, ctx.lang, AMSTERDAM), state=state))
    return lines


# -- staff space -------------------------------------------------------------------------------------


def notify_staff(ctx: Context, ticket: Ticket, event_key: str, *, alert: bool = False, **values: object) -> None:
    """A short card for the staff space, with Take, Respond and Set priority (`values` as typed); an
    `alert` mentions who must act."""
    spaces = directory.staff_spaces(ctx.session)
    if not spaces:
        return
    org = directory.org_by_id(ctx.session, org_id=ticket.org_id)
    staff_lang = spaces[0].language or i18n.DEFAULT_LANGUAGE
    # What the customer typed is no link here: nobody opens a customer's web address from an alert by a tap.
    label = i18n.t(event_key, staff_lang, number=ticket.number,
                   **{k: escape_markdown(v, links=False) if isinstance(v, str) else v for k, v in values.items()})
    # The card shows the whole title (or points to /ticket); the fallback only needs to say which ticket.
    title = ticket.title if len(ticket.title) <= ticket_cards.TITLE_MAX else ticket.title[:ticket_cards.TITLE_MAX - 1] + "…"
    markdown = i18n.t("staff.card.fallback", staff_lang, event=label, title=escape_markdown(title, links=False))
    if alert:
        markdown = paging.calling_on(ctx.session, ticket, ctx.now(), markdown, staff_lang, rules=ctx.rules)
    card = ticket_cards.staff_ticket(
        number=ticket.number, org=org.name if org else "?", kind_label=i18n.t(f"ticket.kind.{ticket.kind}", staff_lang),
        priority_label=ticket.priority or "—" if not ticket.requested_priority else f"{ticket.priority} → {ticket.requested_priority}?",
        service=ticket.service, title=ticket.title, event=event_key, event_values=values, lang=staff_lang)
    ctx.send(room_id=spaces[0].room_id, markdown=markdown, card=card, purpose=f"ticket:{ticket.number}:staff")


# -- finding tickets ---------------------------------------------------------------------------------


def find_ticket(ctx: Context, number: str | None, *, for_update: bool = True) -> Ticket:
    """The ticket named, or the one whose thread this is; other organisations' tickets look missing."""
    # In a customer space only that organisation's tickets exist; the staff space sees all.
    org_id = None if ctx.space.kind == IN_STAFF else ctx.space.org_id
    if number:
        ticket = store.find(ctx.session, number=number, org_id=org_id, for_update=for_update)
        if ticket is None:
            raise Refused("ticket.not_found", number=store.normalise_number(number) or escape_markdown(number[:20]))
        logs.note(ticket=ticket.number)
        return ticket
    event = ctx.event
    root = event.parent_id if isinstance(event, MessageEvent) else None
    ticket = store.by_thread(ctx.session, root_message_id=root) if root else None
    if ticket is None or (org_id is not None and ticket.org_id != org_id):
        raise Refused("ticket.which")
    return ticket


def number_and_rest(ctx: Context, args: Args, *, need_rest: str | None = None) -> tuple[str | None, str]:
    """'INC-1001 some text' → ('INC-1001', 'some text'); the number may be left out in a ticket's thread."""
    text = args.text.strip()
    first, _, rest = text.partition(" ")
    if store.normalise_number(first):
        number, rest = first, rest.strip()
    else:
        number, rest = None, text
    if need_rest and not rest:
        raise Refused("ticket.missing", what=ctx.t(f"ticket.what.{need_rest}"), usage=args.usage)
    if len(rest) > ticket_cards.TEXT_MAX:
        raise Refused("form.error.too_long", field=ctx.t(f"form.field.{need_rest or 'text'}"), limit=ticket_cards.TEXT_MAX,
                      length=len(rest))
    return number, rest


def post_in_thread(ctx: Context, ticket: Ticket, markdown: str, *, card: dict[str, Any] | None = None,
                   must_reach: bool = False) -> None:
    """A message (with a card, if given) in the ticket's thread in the customer space. While the bot
    cannot post there it is left out; when the message is what the command is for (`must_reach`),
    the command is refused."""
    if not directory.reachable(ctx.session, room_id=ticket.room_id):
        if must_reach:
            raise Refused("space.cannot_reach", number=ticket.number)
        return
    ctx.send(room_id=ticket.room_id, markdown=markdown, card=card, parent_outbox_id=ticket.root_outbox_id,
             purpose=f"ticket:{ticket.number}")


def _customer_lang(ctx: Context, ticket: Ticket) -> str:
    return clocks.customer_lang(ctx.session, ticket)


def _say_to_customer(ctx: Context, ticket: Ticket, key: str, *, must_reach: bool = False, **values: object) -> None:
    post_in_thread(ctx, ticket, i18n.t(key, _customer_lang(ctx, ticket), number=ticket.number, **values), must_reach=must_reach)


# -- agent flows ---------------------------------------------------------------------------------------


def take(ctx: Context, ticket: Ticket) -> None:
    """An agent takes the ticket: it is in progress and its first response is met."""
    _require_open(ticket)
    now = ctx.now()
    changes: dict[str, Any] = {"assignee": ctx.actor.email}
    if ticket.status == "new":
        changes["status"] = "in_progress"
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="taken", **changes)
    _say_to_customer(ctx, ticket, "ticket.customer.taken", agent=escape_markdown(ctx.actor.display_name or ctx.actor.email))
    clocks.refresh(ctx.session, ticket, now, rules=ctx.rules)
    ctx.reply(ctx.t("ticket.agent.taken", number=ticket.number))


def respond(ctx: Context, ticket: Ticket, text: str) -> None:
    """An agent's answer, posted in the customer's thread (a first response when it is the first)."""
    _require_open(ticket)
    now = ctx.now()
    changes: dict[str, Any] = {}
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    if ticket.status == "new":
        changes["status"] = "in_progress"
    if changes:
        store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="responded", **changes)
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="response", text=text)
    _say_to_customer(ctx, ticket, "ticket.customer.response", agent=escape_markdown(ctx.actor.display_name or ctx.actor.email),
                     text=escape_markdown(text), must_reach=True)
    clocks.refresh(ctx.session, ticket, now, rules=ctx.rules)
    ctx.reply(ctx.t("ticket.agent.sent", number=ticket.number))


def contact_of(ticket: Ticket) -> str:
    """The email of the ticket's contact: given at intake, else whoever opened it."""
    return str((ticket.details or {}).get("email") or ticket.opened_by)


def wait_for_customer(ctx: Context, ticket: Ticket, question: str) -> None:
    """Ask the customer something; the office-hour clocks pause until they answer.

    A reply in a group space's thread that does not mention the bot never reaches it, so the
    question mentions the ticket's contact (Webex notifies them) and carries a card to answer on.
    """
    _require_open(ticket)
    if ticket.status == "resolved":
        raise Refused("ticket.is_resolved", number=ticket.number)
    now = ctx.now()
    changes: dict[str, Any] = {"status": "awaiting_customer"}
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="waiting", **changes)
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="question", text=question)
    store.start_pause(ctx.session, ticket, now=now)
    lang = _customer_lang(ctx, ticket)
    agent, bot = escape_markdown(ctx.actor.display_name or ctx.actor.email), ctx.runtime.webex.identity().display_name or "Bot"
    markdown = i18n.t("ticket.customer.question", lang, contact=mention(contact_of(ticket)), agent=agent, number=ticket.number,
                      text=escape_markdown(question), bot=bot)
    card = ticket_cards.question_card(number=ticket.number, agent=ctx.actor.display_name or ctx.actor.email, question=question,
                                      lang=lang)
    if len(markdown.encode("utf-8")) > outbox.MAX_MESSAGE_BYTES or was_shortened(card):
        # Too long for a card or its fallback: the whole question goes first as a message (split as
        # long messages are), and the card under it carries the question cut to what fits.
        post_in_thread(ctx, ticket, markdown, must_reach=True)
        markdown = fit_escaped(lambda text: i18n.t("ticket.customer.question", lang, contact=mention(contact_of(ticket)), agent=agent,
                                                   number=ticket.number, text=text, bot=bot), question, outbox.MAX_MESSAGE_BYTES)
    post_in_thread(ctx, ticket, markdown, card=card, must_reach=True)
    clocks.plan_waiting(ctx.session, ticket, now, asked_by=ctx.actor.email, rules=ctx.rules)
    clocks.refresh(ctx.session, ticket, now, rules=ctx.rules)
    ctx.reply(ctx.t("ticket.agent.waiting", number=ticket.number))


def resolve(ctx: Context, ticket: Ticket, inputs: dict[str, Any], *, quiet: bool = False) -> None:
    """Resolve with cause and resolution (incidents) or record the outcome (others), then ask the customer."""
    _require_open(ticket)
    if ticket.status == "resolved":
        raise Refused("ticket.is_resolved", number=ticket.number)
    lang = ctx.lang
    if ticket.kind == "incident":
        cause, resolution = str(inputs.get("cause", "")).strip(), str(inputs.get("resolution", "")).strip()
        domain = str(inputs.get("customer_domain", "false")).lower()
        errors = [i18n.t(f"form.error.{k}", lang) for k, v in (("cause", cause), ("resolution", resolution)) if not v]
        errors += [i18n.t("form.error.too_long", lang, field=i18n.t(f"form.field.{k}", lang), limit=ticket_cards.TEXT_MAX, length=len(v))
                   for k, v in (("cause", cause), ("resolution", resolution)) if len(v) > ticket_cards.TEXT_MAX]
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
            raise Refused("form.refused", errors="- " + i18n.t("form.error.too_long", lang, field=i18n.t("form.field.outcome", lang),
                                                                limit=ticket_cards.TEXT_MAX, length=len(outcome)))
        record = {"outcome": outcome}
        summary_key = "ticket.customer.resolved_outcome"
        summary = {"outcome": escape_markdown(outcome)}
    now = ctx.now()
    store.end_pause(ctx.session, ticket, now=now)
    closes_now = ticket.kind in ("rfc", "rfi")
    changes: dict[str, Any] = {"status": "closed" if closes_now else "resolved", "resolved_at": now,
                               "resolution": {**(ticket.resolution or {}), **record}}
    if closes_now:
        changes["closed_at"] = now
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now,
                 action="closed" if closes_now else "resolved", **changes)
    clocks.resolved(ctx.session, ticket, now, rules=ctx.rules)
    paging.stop_paging(ctx.session, ticket, now)
    _say_to_customer(ctx, ticket, summary_key, **summary)
    watchers.resolved(ctx.session, ticket, now)
    if closes_now:
        clocks.after_close(ctx.session, ticket, now, rules=ctx.rules)
    else:
        clocks.refresh(ctx.session, ticket, now, rules=ctx.rules)
        clocks.start_222(ctx.session, ticket, now, rules=ctx.rules)
    if quiet:
        return
    ctx.reply(ctx.t("ticket.agent.closed" if closes_now else "ticket.agent.resolved", number=ticket.number))


def set_priority(ctx: Context, ticket: Ticket, priority: str, reason: str, *, phone: str | None = None) -> None:
    """Agents set the priority (out of office hours also the engineer who acknowledged the P1 page);
    customers request it (a P1 request needs a phone number to call back, and tells them to phone;
    `phone`: one given with the request). Deadlines restart from opening."""
    if ticket.kind != "incident":
        raise Refused("ticket.priority.not_incident", number=ticket.number)
    _require_open(ticket)
    priority = priority.upper()
    if priority not in ("P1", "P2", "P3"):
        raise Refused("ticket.priority.usage")
    if not reason:
        raise Refused("ticket.priority.reason")
    if len(reason) > ticket_cards.TITLE_MAX:
        raise Refused("form.error.too_long", field=ctx.t("form.field.reason"), limit=ticket_cards.TITLE_MAX, length=len(reason))
    now = ctx.now()
    on_call = paging.decides_on_call(ctx, ticket, now)
    if not on_call and not ctx.actor.has_any(AGENTS):
        if phone is not None and not ticket_cards.valid_phone(phone):
            raise Refused("form.error.phone")
        if priority == "P1" and not (phone or (ticket.details or {}).get("phone")):
            raise Refused("ticket.priority.p1_phone", number=ticket.number)
        store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="priority requested",
                     requested_priority=priority)
        store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="reason", text=reason)
        if phone:
            ticket.details = {**(ticket.details or {}), "phone": phone}
            store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="phone", text=phone)
        key = {"P1": "ticket.customer.p1_requested", "P2": "ticket.customer.p2_requested"}.get(priority, "ticket.customer.priority_requested")
        ctx.reply(ctx.t(key, number=ticket.number, priority=priority, phone=desk.tel_link(ctx.rules.desk.phone)))
        notify_staff(ctx, ticket, "staff.event.p1_requested" if priority == "P1" else "staff.event.priority_requested",
                     alert=priority == "P1", priority=priority)
        if priority == "P1":
            paging.start_paging(ctx.session, ticket, now, rules=ctx.rules)
        else:
            paging.stop_paging(ctx.session, ticket, now)  # the customer withdrew a P1 request
        return
    if priority == ticket.priority:
        if ticket.requested_priority in (None, priority):
            raise Refused("ticket.priority.same", number=ticket.number, priority=priority)
        _keep_priority(ctx, ticket, reason, on_call=on_call)
        return
    old = ticket.priority
    store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="priority set",
                 priority=priority, requested_priority=None)
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="reason", text=reason)
    lines = [i18n.t("ticket.customer.priority_set", _customer_lang(ctx, ticket), number=ticket.number, old=old, new=priority,
                    reason=escape_markdown(reason))]
    lines += _target_lines_in(ctx, ticket, _customer_lang(ctx, ticket))
    if priority == "P1":
        lines.append(i18n.t("ticket.next.p1", _customer_lang(ctx, ticket), phone=desk.tel_link(ctx.rules.desk.phone)))
    post_in_thread(ctx, ticket, "\n".join(lines))
    if priority == "P1":
        paging.start_paging(ctx.session, ticket, now, rules=ctx.rules)
    elif paging.stop_paging(ctx.session, ticket, now):
        ctx.send(room_id=ctx.space.room_id, markdown=ctx.t("page.stopped", number=ticket.number, priority=priority))
    if on_call:
        notify_staff(ctx, ticket, "staff.event.priority_on_call", who=ctx.actor.display_name or ctx.actor.email, old=old,
                     priority=priority, reason=reason)
    clocks.refresh(ctx.session, ticket, now, rules=ctx.rules)
    ctx.reply(ctx.t("ticket.agent.priority_set", number=ticket.number, priority=priority))


def _keep_priority(ctx: Context, ticket: Ticket, reason: str, *, on_call: bool) -> None:
    """The requested priority is not confirmed: the ticket keeps its own, and the request is answered."""
    now, requested = ctx.now(), ticket.requested_priority
    store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="priority request declined",
                 requested_priority=None)
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="reason", text=reason)
    _say_to_customer(ctx, ticket, "ticket.customer.priority_kept", priority=ticket.priority, requested=requested,
                     reason=escape_markdown(reason))
    if paging.stop_paging(ctx.session, ticket, now):
        ctx.send(room_id=ctx.space.room_id, markdown=ctx.t("page.stopped", number=ticket.number, priority=ticket.priority))
    if on_call:
        notify_staff(ctx, ticket, "staff.event.priority_kept_on_call", who=ctx.actor.display_name or ctx.actor.email,
                     priority=ticket.priority, requested=requested, reason=reason)
    clocks.refresh(ctx.session, ticket, now, rules=ctx.rules)
    ctx.reply(ctx.t("ticket.agent.priority_kept", number=ticket.number, priority=ticket.priority, requested=requested))


def _target_lines_in(ctx: Context, ticket: Ticket, lang: str) -> list[str]:
    saved = ctx.lang
    ctx.lang = lang
    try:
        return _target_lines(ctx, ticket, ctx.now())
    finally:
        ctx.lang = saved


def convert(ctx: Context, ticket: Ticket, kind: str) -> None:
    """An RFI that is a live disruption becomes an incident; its RFI number stays findable."""
    if ticket.kind != "rfi" or kind != "incident":
        raise Refused("ticket.convert.only_rfi")
    _require_open(ticket)
    now = ctx.now()
    old_number = ticket.number
    new_number = store.next_number(ctx.session, prefix=store.PREFIXES["incident"])
    store.add_number(ctx.session, ticket, number=new_number)
    store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="converted",
                 kind="incident", priority="P3")
    ctx.session.flush()
    from storage.directory import audit

    audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="ticket", subject=new_number,
          action="renumbered", old={"number": old_number}, new={"number": new_number})
    _say_to_customer(ctx, ticket, "ticket.customer.converted", old=old_number)
    clocks.refresh(ctx.session, ticket, now, rules=ctx.rules)
    ctx.reply(ctx.t("ticket.agent.converted", old=old_number, number=new_number))


# -- customer flows -------------------------------------------------------------------------------------


def add_note(ctx: Context, ticket: Ticket, text: str) -> None:
    """A customer's note: on the timeline, to the staff; it ends a wait for the customer."""
    if ticket.status == "closed":
        raise Refused("ticket.is_closed", number=ticket.number)
    now = ctx.now()
    if ticket.status == "awaiting_customer":
        store.end_pause(ctx.session, ticket, now=now)
        store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="customer answered",
                     status="in_progress")
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="note", text=text)
    notify_staff(ctx, ticket, "staff.event.note", who=ctx.actor.display_name or ctx.actor.email, text=text[:300])
    post_in_thread(ctx, ticket, ctx.t("ticket.customer.noted", number=ticket.number))
    clocks.refresh(ctx.session, ticket, now, rules=ctx.rules)


def confirm(ctx: Context, ticket: Ticket) -> None:
    """The customer confirms the resolution (agrees with a complaint's outcome): closed; the
    Incident End Time is the resolution time."""
    if ticket.status != "resolved":
        raise Refused("ticket.confirm.not_resolved", number=ticket.number)
    now = ctx.now()
    agreed = ticket.kind == "complaint"
    store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="agreed" if agreed else "confirmed",
                 status="closed", closed_at=now)
    post_in_thread(ctx, ticket, ctx.t("ticket.customer.agreed" if agreed else "ticket.customer.closed", number=ticket.number))
    notify_staff(ctx, ticket, "staff.event.agreed" if agreed else "staff.event.confirmed")
    watchers.closed(ctx.session, ticket, now, how="confirmed")
    clocks.after_close(ctx.session, ticket, now, rules=ctx.rules)


def close_by_agreement(ctx: Context, ticket: Ticket, agreement: str) -> None:
    """A complaint is closed in joint consultation: the agent records how it was agreed (by phone, in
    a meeting), at any step; the customer is told in the thread."""
    _require_open(ticket)
    now = ctx.now()
    store.end_pause(ctx.session, ticket, now=now)
    changes: dict[str, Any] = {"status": "closed", "closed_at": now, "resolution": {**(ticket.resolution or {}), "agreement": agreement}}
    if ticket.resolved_at is None:
        changes["resolved_at"] = now
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="closed by agreement", **changes)
    _say_to_customer(ctx, ticket, "ticket.customer.closed_by_agreement", agreement=escape_markdown(agreement))
    clocks.after_close(ctx.session, ticket, now, rules=ctx.rules)
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
    store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action=action,
                 status="in_progress", resolved_at=None, closed_at=None)
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="reason", text=reason)
    post_in_thread(ctx, ticket, ctx.t("ticket.customer.reopened", number=ticket.number))
    not_agreed = ticket.kind == "complaint" and action == "resolution rejected"
    notify_staff(ctx, ticket, "staff.event.not_agreed" if not_agreed else "staff.event.reopened", reason=reason[:300])
    clocks.stop_222(ctx.session, ticket)
    clocks.plan_aftercare(ctx.session, ticket, now, rules=ctx.rules)
    clocks.refresh(ctx.session, ticket, now, rules=ctx.rules)


def offer_follow_up(ctx: Context, ticket: Ticket, reason: str) -> None:
    """Too late to reopen: offer a new ticket of the same kind that refers to the old one."""
    prefill = {**_defaults(ctx), "title": ctx.t("ticket.follow_up.title", number=ticket.number)[:ticket_cards.TITLE_MAX],
               "description": reason, "reference": ticket.number, "service": ticket.service or ""}
    ctx.reply(ctx.t("ticket.reopen.too_late", number=ticket.number, days=REOPEN_DAYS),
              card=ticket_cards.intake_form(ticket.kind, lang=ctx.lang, services=_services(rules=ctx.rules), prefill=prefill,
                                            rfc_types=rfc_type_choices(_space_profile(ctx), ctx.lang)))


def _require_open(ticket: Ticket) -> None:
    if ticket.status == "closed":
        raise Refused("ticket.is_closed", number=ticket.number)


# -- views ---------------------------------------------------------------------------------------------


_PRIORITY_ORDER = {"P1": 0, "P2": 1, "P3": 2, None: 3}


def _due_order(ticket: Ticket, targets: list[sla.TargetStatus]) -> tuple:
    """Breached first, then by priority, then the soonest deadline."""
    running = [t for t in targets if t.due is not None and t.state != "met"]
    breached = any(t.state == "breached" for t in running)
    soonest = min((t.due for t in running), default=None)
    return (0 if breached else 1, _PRIORITY_ORDER.get(ticket.priority, 3), soonest.timestamp() if soonest else float("inf"), ticket.id)


def _left(ctx: Context, targets: list[sla.TargetStatus]) -> str:
    parts = []
    for target in targets:
        if target.due is None or target.state in ("met", "no_deadline"):
            continue
        name = ctx.t(f"sla.target.{target.target}")
        if target.state in ("breached", "late"):
            parts.append(ctx.t("ticket.left.breached", target=name))
        else:
            minutes = int(target.left.total_seconds() // 60)
            key = "ticket.left.paused" if target.paused else "ticket.left.running"
            parts.append(ctx.t(key, target=name, left=f"{minutes // 60}:{minutes % 60:02d}"))
    return "; ".join(parts) or ctx.t("ticket.left.none")


def _most_urgent_first(ctx: Context, found: list[Ticket]) -> tuple[list[Ticket], dict[int, list[sla.TargetStatus]]]:
    """The tickets in the order the lists show them, and each one's targets now (read once)."""
    targets = clocks.deadlines_of(ctx.session, found, ctx.now(), rules=ctx.rules)
    return sorted(found, key=lambda t: _due_order(t, targets[t.id])), targets


def tickets_command(ctx: Context, args: Args) -> None:
    """This organisation's open tickets, most urgent first."""
    args.none()
    found, targets = _most_urgent_first(ctx, store.open_tickets(ctx.session, org_id=ctx.space.org_id))
    if not found:
        ctx.reply(ctx.t("tickets.none"))
        return
    lines = [ctx.t("tickets.title", org=escape_markdown(ctx.space.org_name or ""))]
    for ticket in found:
        lines.append(ctx.t("tickets.line", number=ticket.number, priority=ticket.priority or ctx.t(f"ticket.kind.{ticket.kind}"),
                           status=ctx.t(f"ticket.status.{ticket.status}"), title=escape_markdown(ticket.title[:80]),
                           left=_left(ctx, targets[ticket.id])))
    ctx.reply("\n".join(lines))


def queue_command(ctx: Context, args: Args) -> None:
    """Open tickets of every organisation with the time left on each target, breached first."""
    args.none()
    found, targets = _most_urgent_first(ctx, store.open_tickets(ctx.session))
    if not found:
        ctx.reply(ctx.t("queue.none"))
        return
    lines = [ctx.t("queue.title", count=len(found))]
    for ticket in found:
        org = directory.org_by_id(ctx.session, org_id=ticket.org_id)
        lines.append(ctx.t("queue.line", number=ticket.number, org=escape_markdown(org.name if org else "?"),
                           priority=ticket.priority or ctx.t(f"ticket.kind.{ticket.kind}"), status=ctx.t(f"ticket.status.{ticket.status}"),
                           title=escape_markdown(ticket.title[:60]), left=_left(ctx, targets[ticket.id]),
                           assignee=escape_markdown(ticket.assignee or "—")))
    ctx.reply("\n".join(lines))


def ticket_command(ctx: Context, args: Args) -> None:
    """A ticket's details, its current targets and its timeline."""
    number, _ = number_and_rest(ctx, args)
    ctx.reply(ticket_view(ctx, find_ticket(ctx, number, for_update=False)))


def ticket_view(ctx: Context, ticket: Ticket) -> str:
    """Details, targets, escalation, pages and timeline of a ticket, in the context's language."""
    from commands import paging

    now = ctx.now()
    lines = [ctx.t("ticket.view.title", number=ticket.number, kind=ctx.t(f"ticket.kind.{ticket.kind}"), title=escape_markdown(ticket.title)),
             ctx.t("ticket.view.status", status=ctx.t(f"ticket.status.{ticket.status}"),
                   priority=_priority_label(ctx, ticket) if ticket.kind == "incident" else "—",
                   service=ticket.service or "—", opened=i18n.when(ticket.opened_at, ctx.lang, AMSTERDAM))]
    if ticket.escalation_level:
        level = ctx.rules.desk.escalation[ticket.escalation_level - 1]
        lines.append(ctx.t("ticket.view.escalation", level=level.level, role=level.role))
    lines.append(ctx.t("ticket.line.targets"))
    lines.extend(_target_lines(ctx, ticket, now))
    pages = paging.page_log(ctx.session, ticket)
    if pages:
        lines.append(ctx.t("ticket.view.pages"))
        for page in pages:
            lines.append(ctx.t("ticket.view.page", when=i18n.when(page.sent_at, ctx.lang, AMSTERDAM), who=escape_markdown(page.email),
                               attempt=page.attempt, status=ctx.t(f"page.status.{page.status}")))
        if ticket.acknowledged_at is not None:
            first = pages[0].sent_at
            minutes = int((ticket.acknowledged_at - first).total_seconds() // 60)
            lines.append(ctx.t("ticket.view.ack_time", minutes=minutes, who=escape_markdown(ticket.acknowledged_by or "?")))
    lines.append(ctx.t("ticket.view.timeline"))
    for entry in _timeline(ctx, ticket):
        lines.append(ctx.t("ticket.view.entry", when=i18n.when(entry.at, ctx.lang, AMSTERDAM), who=escape_markdown(entry.actor),
                           what=_describe_entry(ctx, entry)))
    return "\n".join(lines)


def _aliases(ctx: Context, ticket: Ticket) -> list[str]:
    from sqlalchemy import select

    from storage.models import TicketNumber

    return list(ctx.session.scalars(select(TicketNumber.number).where(TicketNumber.ticket_id == ticket.id)))


def _timeline(ctx: Context, ticket: Ticket) -> list:
    entries = []
    for number in _aliases(ctx, ticket):
        entries += directory.timeline(ctx.session, subject_type="ticket", subject=number)
    return sorted(entries, key=lambda e: e.id)


def _describe_entry(ctx: Context, entry) -> str:
    new, old = entry.new or {}, entry.old or {}
    if "text" in new:
        return ctx.t("ticket.entry.text", action=entry.action, text=escape_markdown(str(new["text"])[:200]))
    changed = ", ".join(f"{k}: {escape_markdown(str(old.get(k, '—')))} → {escape_markdown(str(v))}" for k, v in new.items()
                        if k not in ("title",))
    return ctx.t("ticket.entry.change", action=entry.action, changes=changed)


# -- text commands ---------------------------------------------------------------------------------------


def take_command(ctx: Context, args: Args) -> None:
    """Take a ticket."""
    number, _ = number_and_rest(ctx, args)
    take(ctx, find_ticket(ctx, number))


def respond_command(ctx: Context, args: Args) -> None:
    """Answer the customer in the ticket's thread."""
    number, text = number_and_rest(ctx, args, need_rest="text")
    respond(ctx, find_ticket(ctx, number), text)


def wait_command(ctx: Context, args: Args) -> None:
    """Ask the customer a question; the clocks pause until they answer."""
    number, text = number_and_rest(ctx, args, need_rest="question")
    wait_for_customer(ctx, find_ticket(ctx, number), text)


def resolve_command(ctx: Context, args: Args) -> None:
    """The resolve form: cause, resolution and customer domain of an incident; a complaint's proposed outcome."""
    number, _ = number_and_rest(ctx, args)
    ticket = find_ticket(ctx, number, for_update=False)
    _require_open(ticket)
    if ticket.kind not in ("incident", "complaint"):
        raise Refused("ticket.resolve.use_close", number=ticket.number)
    ctx.reply(ctx.t("ticket.resolve.intro", number=ticket.number), card=ticket_cards.resolve_form(number=ticket.number, kind=ticket.kind, lang=ctx.lang))


def close_command(ctx: Context, args: Args) -> None:
    """Close an RFC or RFI with its outcome, or a complaint with how it was agreed with the customer."""
    number, text = number_and_rest(ctx, args)
    ticket = find_ticket(ctx, number)
    if ticket.kind == "incident":
        raise Refused("ticket.close.use_resolve", number=ticket.number)
    complaint = ticket.kind == "complaint"
    if not text:
        raise Refused("ticket.missing", what=ctx.t("ticket.what.agreement" if complaint else "ticket.what.outcome"),
                      usage="/close <number> <how it was agreed>" if complaint else args.usage)
    if complaint:
        close_by_agreement(ctx, ticket, text)
    else:
        resolve(ctx, ticket, {"outcome": text})


def priority_command(ctx: Context, args: Args) -> None:
    """Agents set the priority (out of office hours also the engineer who acknowledged the P1 page);
    customers request a change (P1: call the desk)."""
    number, rest = number_and_rest(ctx, args)
    level, _, reason = rest.partition(" ")
    if level.upper() not in ("P1", "P2", "P3"):
        raise Refused("ticket.priority.usage")
    phone = _PHONE_GIVEN.match(reason.strip())
    if phone:  # '/priority INC-1001 P1 phone=+31612345678 <reason>': the number to call back
        set_priority(ctx, find_ticket(ctx, number), level, phone.group(3).strip(), phone=phone.group(1) or phone.group(2))
        return
    set_priority(ctx, find_ticket(ctx, number), level, reason.strip())


def convert_command(ctx: Context, args: Args) -> None:
    """Turn an RFI that is a live disruption into an incident."""
    number, kind = number_and_rest(ctx, args, need_rest="kind")
    convert(ctx, find_ticket(ctx, number), kind.lower())


def note_command(ctx: Context, args: Args) -> None:
    """Add something to a ticket; it also answers a question of the service desk."""
    number, text = number_and_rest(ctx, args, need_rest="text")
    add_note(ctx, find_ticket(ctx, number), text)


def confirm_command(ctx: Context, args: Args) -> None:
    """Confirm that a ticket is resolved."""
    number, _ = number_and_rest(ctx, args)
    confirm(ctx, find_ticket(ctx, number))


def reopen_command(ctx: Context, args: Args) -> None:
    """Reject a resolution or reopen a recently closed ticket."""
    number, text = number_and_rest(ctx, args, need_rest="reason")
    reopen(ctx, find_ticket(ctx, number), text)


def reply_in_thread(ctx: Context, text: str) -> bool:
    """A customer writing to the bot in a ticket's thread without a command adds a note."""
    if CUSTOMER not in ctx.actor.roles or not isinstance(ctx.event, MessageEvent) or not ctx.event.parent_id:
        return False
    ticket = store.by_thread(ctx.session, root_message_id=ctx.event.parent_id)
    if ticket is None or ticket.org_id != ctx.space.org_id:
        return False
    if len(text) > ticket_cards.TEXT_MAX:
        raise Refused("form.error.too_long", field=ctx.t("form.field.text"), limit=ticket_cards.TEXT_MAX, length=len(text))
    add_note(ctx, ticket, text)
    return True


# -- card buttons ------------------------------------------------------------------------------------


def _card_ticket(ctx: Context, inputs: dict[str, Any]) -> Ticket:
    number = str(inputs.get("ticket", ""))
    return find_ticket(ctx, number if store.normalise_number(number) else "?")


def take_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Take, from the staff card."""
    take(ctx, _card_ticket(ctx, inputs))


def respond_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Respond, from the staff card (its text field)."""
    text = str(inputs.get("text", "")).strip()
    if not text:
        raise Refused("ticket.missing", what=i18n.t("ticket.what.text", ctx.lang), usage="/respond <number> <text>")
    if len(text) > ticket_cards.TEXT_MAX:
        raise Refused("form.error.too_long", field=ctx.t("form.field.text"), limit=ticket_cards.TEXT_MAX, length=len(text))
    respond(ctx, _card_ticket(ctx, inputs), text)


def priority_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Set priority, from the staff card (its choice and reason)."""
    set_priority(ctx, _card_ticket(ctx, inputs), str(inputs.get("priority", "")), str(inputs.get("reason", "")).strip())


def resolve_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """The resolve form's submit (one resolution per form: after a reopening `/resolve` gives a new one)."""
    ticket = _card_ticket(ctx, inputs)
    resolve(ctx, ticket, inputs)
    return ticket.number


def _note_text(ctx: Context, inputs: dict[str, Any], field: str, *, what: str) -> str:
    """The text a card adds to a ticket as a note (an answer, a question): given, and within the limit."""
    text = str(inputs.get(field, "")).strip()
    if not text:
        raise Refused("ticket.missing", what=ctx.t(what), usage="/note <number> <text>")
    if len(text) > ticket_cards.TEXT_MAX:
        raise Refused("form.error.too_long", field=ctx.t(f"form.field.{field}"), limit=ticket_cards.TEXT_MAX, length=len(text))
    return text


def answer_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """Send, on an agent's question: the answer is a note, as with /note, and the clock runs again."""
    text = _note_text(ctx, inputs, "answer", what="ticket.what.text")
    ticket = _card_ticket(ctx, inputs)
    add_note(ctx, ticket, text)
    return ticket.number


def solved_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """"Solved" on the resolution card: the same as /confirm."""
    confirm(ctx, _card_ticket(ctx, inputs))


def not_solved_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """"Not solved" ("Not agreed" for a complaint) on the resolution card: reopens, the time spent resolved counts."""
    ticket = _card_ticket(ctx, inputs)
    reason = str(inputs.get("reason", "")).strip() or ctx.t("confirm.card.not_agreed" if ticket.kind == "complaint" else "confirm.card.no_reason")
    if len(reason) > ticket_cards.TITLE_MAX:
        raise Refused("form.error.too_long", field=ctx.t("form.field.reason"), limit=ticket_cards.TITLE_MAX, length=len(reason))
    reopen(ctx, ticket, reason)


def ask_in_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """"Add to INC-…" on the answer to an RFI about an open incident: the question is a note on the incident, as with /note."""
    text = _note_text(ctx, inputs, "question", what="ticket.what.question")
    ticket = _card_ticket(ctx, inputs)
    if ticket.status == "closed":
        raise Refused("ticket.ask_in.closed", number=ticket.number)
    add_note(ctx, ticket, text)
    return ticket.number


# -- P1 aftercare ---------------------------------------------------------------------------------------


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
    store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action=f"{target} delivered",
                 resolution=resolution)
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action=target, text=text)
    _say_to_customer(ctx, ticket, f"aftercare.customer.{target}", text=escape_markdown(text))
    clocks.plan_aftercare(ctx.session, ticket, now, rules=ctx.rules)
    clocks.update_countdown(ctx.session, ticket, now, rules=ctx.rules)
    ctx.reply(ctx.t("aftercare.delivered", number=ticket.number, what=ctx.t(f"sla.target.{target}")))


AFTERCARE_ROLES = frozenset({AGENT, PROBLEM_MANAGER})


def rfo_command(ctx: Context, args: Args) -> None:
    """Deliver the Reason For Outage of a resolved P1."""
    number, text = number_and_rest(ctx, args, need_rest="text")
    deliver_follow_up(ctx, find_ticket(ctx, number), "rfo", text)


def rca_command(ctx: Context, args: Args) -> None:
    """Deliver the Root Cause Analysis of a resolved P1."""
    number, text = number_and_rest(ctx, args, need_rest="text")
    deliver_follow_up(ctx, find_ticket(ctx, number), "rca", text)


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions and timers."""
    for kind in KINDS:
        router.command(kind, roles=CUSTOMERS_OR_AGENTS, spaces=IN_CUSTOMER_SPACE, usage=f"/{kind} [title | field=value …]",
                       summary=f"cmd.{kind}", unlimited=_asks_for_p1)(_intake(kind))
    router.card_action(Action.CREATE, fields=ticket_cards.INTAKE_FIELDS, roles=CUSTOMERS_OR_AGENTS, spaces=IN_CUSTOMER_SPACE, once=True)(create_from_card)
    router.command("tickets", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/tickets")(tickets_command)
    router.command("queue", roles=AGENTS, spaces=frozenset({IN_STAFF}), usage="/queue")(queue_command)
    router.command("ticket", roles=CUSTOMERS_OR_AGENTS, spaces=WHERE_TICKETS_ARE, usage="/ticket <number>")(ticket_command)
    router.command("take", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/take <number>")(take_command)
    router.command("respond", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/respond <number> <text>")(respond_command)
    router.command("wait", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/wait <number> <question>")(wait_command)
    router.command("resolve", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/resolve <number>")(resolve_command)
    router.command("close", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/close <number> <outcome>")(close_command)
    router.command("priority", roles=frozenset({CUSTOMER, AGENT, ENGINEER}), spaces=frozenset({IN_CUSTOMER, IN_STAFF, IN_DIRECT}),
                   usage="/priority <number> P1|P2|P3 <reason>", unlimited=_raises_to_p1)(priority_command)
    router.command("convert", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/convert <RFI-number> incident")(convert_command)
    router.command("note", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/note <number> <text>")(note_command)
    router.command("confirm", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/confirm <number>")(confirm_command)
    router.command("reopen", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/reopen <number> <reason>")(reopen_command)
    router.thread_reply(reply_in_thread)
    router.card_action(Action.TAKE, fields=ticket_cards.TICKET_FIELDS, roles=AGENTS, spaces=WHERE_TICKETS_ARE)(take_button)
    router.card_action(Action.RESPOND, fields=ticket_cards.RESPOND_FIELDS, roles=AGENTS, spaces=WHERE_TICKETS_ARE)(respond_button)
    router.card_action(Action.PRIORITY, fields=ticket_cards.PRIORITY_FIELDS, roles=AGENTS, spaces=WHERE_TICKETS_ARE,
                       unlimited=lambda inputs: str(inputs.get("priority", "")).strip().upper() == "P1")(priority_button)
    router.card_action(Action.RESOLVE, fields=ticket_cards.RESOLVE_FIELDS, roles=AGENTS, spaces=WHERE_TICKETS_ARE, once=True)(resolve_button)
    router.card_action(Action.ANSWER, fields=ticket_cards.ANSWER_FIELDS, roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, once=True, already="ticket.answer.already")(answer_button)
    router.card_action(Action.SOLVED, fields=ticket_cards.TICKET_FIELDS, roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, unlimited=True)(solved_button)
    router.card_action(Action.NOT_SOLVED, fields=ticket_cards.NOT_SOLVED_FIELDS, roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE,
                       unlimited=True)(not_solved_button)
    router.card_action(Action.ASK_IN, fields=ticket_cards.ASK_IN_FIELDS, roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, once=True, already="ticket.ask_in.already")(ask_in_button)
    router.command("rfo", roles=AFTERCARE_ROLES, spaces=WHERE_TICKETS_ARE, usage="/rfo <number> <link or text>")(rfo_command)
    router.command("rca", roles=AFTERCARE_ROLES, spaces=WHERE_TICKETS_ARE, usage="/rca <number> <link or text>")(rca_command)
