"""Intake: a new ticket from the form or inline fields, the RFI redirect, the thread root's text."""

from __future__ import annotations

import logging
import re
import shlex
from datetime import datetime
from typing import Any

from bot import i18n, logs
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused, WrongSpace
from bot.security import IN_CUSTOMER
from bot.text import escape_markdown
from cards import tickets as ticket_cards
from cards.intake import validate_intake
from commands import events
from commands.common import deadlines
from commands.tickets.shared import notify_staff, priority_label, space_profile, target_lines
from rules import desk
from storage import tickets as store
from storage.models.tickets import Ticket

log = logging.getLogger(__name__)

_INLINE = re.compile(r"^(\w+)=(.*)$")
# A ticket number anywhere in a text (an RFI's question naming the incident it is about).
_NAMED = re.compile(r"\b(?:INC|RFC|RFI|CMP)-\d{1,9}\b", re.IGNORECASE)


def inline_fields(text: str) -> tuple[dict[str, str], str]:
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
            key = {"devices": "impact", "connections": "impact", "type": "rfc_type", "ref": "reference"}.get(
                match.group(1).lower(), match.group(1).lower()
            )
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
    org_id = ctx.space.org_id
    if org_id is None:
        # The router lets only customer spaces (bound to an organisation) open tickets.
        raise WrongSpace(command=kind, where=[IN_CUSTOMER])
    checked = validate_intake(
        kind,
        inputs,
        lang=ctx.lang,
        services=[s.code for s in ctx.rules.desk.services],
        rfc_types=[t.id for t in space_profile(ctx).rfc_types],
    )
    if checked.errors:
        raise Refused("form.refused", errors="\n".join(f"- {e}" for e in checked.errors))
    fields = checked.fields
    now = ctx.now()
    if fields.get("reference"):
        referenced = store.find(ctx.session, number=fields["reference"], org_id=ctx.space.org_id)
        if referenced is None:
            raise Refused(
                "ticket.not_found",
                number=store.normalise_number(fields["reference"]) or escape_markdown(fields["reference"]),
            )
        fields["reference"] = referenced.number
    if kind == "rfi" and redirect_rfi(ctx, fields):
        return None
    requested = fields.pop("requested_priority", None)
    details = {
        k: v for k, v in fields.items() if k not in ("title", "description", "service") and v not in (None, [], "")
    }
    if disruption:
        details["disruption"] = disruption
    if kind == "incident" and not disruption:
        running = _maintenance_on(ctx, fields.get("service"), inputs, now)
        despite = str(inputs.get("despite_maintenance") or "")
        if running is not None and despite.upper() != running[0]:
            # Explainable downtime is not an incident (guide); the customer may still report it.
            ctx.reply(running[1], card=running[2])
            return None
        if running is not None:
            details["maintenance"] = running[0]
    ticket = store.create(
        ctx.session,
        kind=kind,
        org_id=org_id,
        room_id=ctx.space.room_id,
        title=fields["title"],
        now=now,
        actor=ctx.actor.email,
        service=fields.get("service"),
        description=fields.get("description"),
        details=details,
        # Every incident starts at P3 (guide); a higher one is a request an agent confirms.
        priority="P3" if kind == "incident" else None,
        requested_priority=requested if requested in ("P1", "P2") else None,
    )
    logs.note(ticket=ticket.number)
    log.info("ticket %s opened (%s) by %s", ticket.number, kind, ctx.actor.email)
    root = ctx.send(
        room_id=ctx.space.room_id, markdown=confirmation(ctx, ticket), purpose=f"ticket:{ticket.number}:root"
    )
    ticket.root_outbox_id = root.id
    p1 = ticket.requested_priority == "P1"
    notify_staff(ctx, ticket, "staff.event.p1_requested" if p1 else "staff.event.new", alert=p1)
    events.ticket_opened.send(ctx, ticket=ticket, now=now)
    return ticket


def _maintenance_on(
    ctx: Context, service: str | None, inputs: dict[str, Any], now: datetime
) -> tuple[str, str, dict[str, Any]] | None:
    """(number, notice, "report anyway" card) of a maintenance running on `service`, as maintenance answers."""
    answers = events.incident_intake.send(ctx, service=service, inputs=inputs, now=now)
    return next((answer for _, answer in answers if answer is not None), None)


def on_disruption_affected(ctx: Context, *, disruption: str, inputs: dict[str, Any]) -> Ticket | None:
    """An incident of the organisation, linked to the disruption from the start (its notice's button)."""
    return open_ticket(ctx, "incident", inputs, disruption=disruption)


def redirect_rfi(ctx: Context, fields: dict[str, Any]) -> bool:
    """An RFI about an open incident of the organisation is not registered: the customer is asked to
    ask it in the incident, with a button that adds the question to it as a note (True). The guide:
    an ongoing incident is asked about in its own ticket. An RFI about a closed incident refers to
    it: when the question names one and gives no reference, that incident becomes the reference."""
    if fields.get("reference"):
        about = store.find(ctx.session, number=fields["reference"], org_id=ctx.space.org_id)
    else:
        named = (
            store.find(ctx.session, number=m.group(), org_id=ctx.space.org_id) for m in _NAMED.finditer(fields["title"])
        )
        about = next((t for t in named if t is not None and t.kind == "incident"), None)
    if about is None or about.kind != "incident":
        return False
    if about.status == "closed":
        fields["reference"] = about.number
        return False
    ctx.reply(
        ctx.t("rfi.ask_in", number=about.number),
        card=ticket_cards.ask_in_incident(number=about.number, question=fields["title"], lang=ctx.lang),
    )
    return True


def confirmation(ctx: Context, ticket: Ticket) -> str:
    """The thread root: number, kind, service, priority, SLA targets in local time, what happens next."""
    lang = ctx.lang
    lines = [
        ctx.t(
            "ticket.registered",
            number=ticket.number,
            kind=ctx.t(f"ticket.kind.{ticket.kind}"),
            title=escape_markdown(ticket.title),
        )
    ]
    if ticket.service:
        lines.append(ctx.t("ticket.line.service", service=ticket.service))
    if (ticket.details or {}).get("reference"):
        lines.append(ctx.t("ticket.line.reference", reference=ticket.details["reference"]))
    if ticket.kind == "incident":
        lines.append(ctx.t("ticket.line.priority", priority=priority_label(ctx, ticket)))
    lines.append(ctx.t("ticket.line.targets"))
    lines.extend(target_lines(ctx, ticket, ctx.now()))
    lines.append("")
    lines.append(next_steps(ctx, ticket, lang))
    return "\n".join(lines)


def next_steps(ctx: Context, ticket: Ticket, lang: str) -> str:
    """What happens next, by the requested priority and the organisation's office hours."""
    phone = desk.tel_link(ctx.rules.desk.phone)
    if ticket.requested_priority == "P1":
        return ctx.t("ticket.next.p1", phone=phone)
    # The organisation's own office hours: a partner customer at 08:30 waits for 09:00, an een one never waits.
    office = ctx.rules.office_calendar(deadlines.profile_of(ctx.session, ticket, rules=ctx.rules).office_hours)
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
