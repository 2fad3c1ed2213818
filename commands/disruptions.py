"""Generic disruptions: broadcast with promised update times, detection, linked tickets, closure, RCA.

Every notice carries impact, actions taken, next steps and the time of the next update, and
goes through the outbox to each audience space (subscribers of an affected service, spaces
without subscriptions, and spaces with a linked ticket), so a broadcast to thousands of
spaces respects Webex's rate limits and per-space order. The staff is reminded ten minutes
before a promised update and alerted when it is overdue; an update in time cancels both. A
P1-level disruption has a root cause analysis (and only those do): the staff are reminded on its
target day and at its deadline until it is delivered to every space that received the notices.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import i18n, outbox, parse
from rules import Rules
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.router import Args, Router
from bot.scheduler import TimerContext, cancel, schedule, TimerRegistry
from bot.security import AGENT, CUSTOMER, IN_CUSTOMER, IN_STAFF, PROBLEM_MANAGER
from bot.text import escape_markdown
from cards import disruptions as dis_cards
from cards.common import was_shortened
from cards.disruptions import Action
from commands import clocks
from commands.common.audience import audience, inline_fields, service_codes
from storage import directory
from storage import tickets as store
from storage.models import Disruption, DisruptionProposal, OutboxMessage, Ticket

AGENTS = frozenset({AGENT})
# Problem managers own root cause analyses (guide); agents may deliver them too, as with a ticket's /rca.
RCA_ROLES = frozenset({AGENT, PROBLEM_MANAGER})
STAFF_ONLY = frozenset({IN_STAFF})
REMIND_BEFORE = timedelta(minutes=10)
DUE = "disruption.update_due"
RCA = "disruption.rca"
# The notices to the audience: the spaces they went to are the ones that get the RCA.
NOTICE_KINDS = ("opened", "updated", "closed")
TEXT_MAX = 4000
DETECT_WINDOW = timedelta(minutes=30)
DETECT_COUNT, DETECT_ORGS = 3, 2
PROPOSAL_NAMES = 20
_NUMBER = re.compile(r"^DIS-\d{1,9}$", re.IGNORECASE)


def _ref(d: Disruption) -> str:
    return f"disruption:{d.id}"


def audience_of(session: Session, d: Disruption, *, rules: Rules) -> list[str]:
    """Subscribers of an affected service (and spaces without subscriptions), plus spaces with a linked
    ticket, as far as the bot can post in them now."""
    rooms = set(audience(session, d.services, rules=rules))
    for ticket_id in d.ticket_ids:
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None and directory.reachable(session, room_id=ticket.room_id):
            rooms.add(ticket.room_id)
    return sorted(rooms)


def _lines(d: Disruption, kind: str, lang: str) -> list[str]:
    lines = [i18n.t(f"dis.notice.{kind}", lang, number=d.number, services=", ".join(d.services), severity=d.severity)]
    if kind == "closed":
        lines.append(i18n.t("dis.notice.summary", lang, summary=escape_markdown(d.closure["summary"]), cause=escape_markdown(d.closure["cause"])))
        if d.closure.get("rca"):
            lines.append(i18n.t("dis.notice.rca", lang))
        return lines
    lines += [i18n.t("dis.notice.impact", lang, text=escape_markdown(d.impact)),
              i18n.t("dis.notice.actions", lang, text=escape_markdown(d.actions)),
              i18n.t("dis.notice.next_steps", lang, text=escape_markdown(d.next_steps)),
              i18n.t("dis.notice.next_update", lang, time=i18n.when(d.next_update_at, lang, AMSTERDAM))]
    return lines


def _notices(d: Disruption, kind: str, lang: str) -> list[tuple[str, dict[str, Any] | None]]:
    """The messages of one notice to one space: (markdown, card or None).

    The card holds the whole notice and the markdown is its fallback, or, when the notice is
    too long for a message, a short one (the header). When it is too long for a card too, the
    whole notice goes first as a message of its own (split as long messages are) and the card
    says so.
    """
    lines = _lines(d, kind, lang)
    body = "\n".join(lines)
    if kind == "closed":
        return [(body, None)]
    card = dis_cards.notice(kind=kind, number=d.number, services=", ".join(d.services), severity=d.severity, impact=d.impact,
                            actions=d.actions, next_steps=d.next_steps, next_update=i18n.when(d.next_update_at, lang, AMSTERDAM),
                            lang=lang)
    short = "\n".join([lines[0], i18n.t("card.fallback.details", lang)])
    if was_shortened(card):
        return [(body, None), (short, card)]
    return [(body if len(body.encode("utf-8")) <= outbox.MAX_MESSAGE_BYTES else short, card)]


def broadcast(session: Session, d: Disruption, kind: str, now: datetime, rooms: list[str] | None = None, *, rules: Rules) -> int:
    """Queue one notice per audience space (the outbox sends them, in order per space)."""
    rooms = audience_of(session, d, rules=rules) if rooms is None else rooms
    for room_id in rooms:
        for markdown, card in _notices(d, kind, clocks.room_lang(session, room_id)):
            outbox.enqueue(session, now=now, room_id=room_id, markdown=markdown, purpose=f"disruption:{d.number}:{kind}", bulk=True,
                           attachments=[{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}] if card else None)
    return len(rooms)


def _notice_fields(ctx: Context, inputs: dict[str, Any], *, need_services: bool) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if need_services:
        raw = inputs.get("services", "")
        words = raw if isinstance(raw, list) else str(raw).replace(",", " ").split()
        result["services"] = service_codes(words, ctx)
        if not result["services"]:
            raise Refused("dis.error.services")
        severity = str(inputs.get("severity") or "P2").upper()
        if severity not in ("P1", "P2", "P3"):
            raise Refused("dis.error.severity")
        result["severity"] = severity
    missing = [k for k in ("impact", "actions", "next_steps", "next_update") if not str(inputs.get(k, "")).strip()]
    if missing:
        raise Refused("dis.error.missing", fields=", ".join(ctx.t(f"dis.field.{k}") for k in missing))
    for key in ("impact", "actions", "next_steps"):
        value = str(inputs[key]).strip()
        if len(value) > dis_cards.FIELD_MAX:
            raise Refused("form.error.too_long", field=ctx.t(f"dis.field.{key}"), limit=dis_cards.FIELD_MAX, length=len(value))
        result[key] = value
    when = parse.local_instant(str(inputs["next_update"]).strip(), field="input.field.next_update",
                               today=ctx.now().astimezone(AMSTERDAM).date())
    if when <= ctx.now():
        raise Refused("dis.error.next_update_past", time=i18n.when(when, ctx.lang, AMSTERDAM))
    result["next_update_at"] = when
    return result


def _plan(session: Session, d: Disruption, now: datetime) -> None:
    cancel(session, kind=DUE, ref=_ref(d))
    if d.status != "open" or d.next_update_at is None:
        return
    schedule(session, kind=DUE, ref=_ref(d), due_at=max(now, d.next_update_at - REMIND_BEFORE), now=now,
             payload={"disruption_id": d.id, "moment": "soon"})
    schedule(session, kind=DUE, ref=_ref(d), due_at=d.next_update_at, now=now, payload={"disruption_id": d.id, "moment": "overdue"})


def on_due(tctx: TimerContext, timer: Any) -> None:
    """Ten minutes before the promised update, and when it passed without one."""
    session, now = tctx.session, tctx.now
    d = session.get(Disruption, timer.payload["disruption_id"])
    if d is None or d.status != "open":
        return
    room_id, lang = clocks.staff_lang(session)
    if room_id is None:
        return
    key = "dis.staff.soon" if timer.payload["moment"] == "soon" else "dis.staff.overdue"
    outbox.enqueue(session, now=now, room_id=room_id, purpose=f"disruption:{d.number}:staff",
                   markdown=i18n.t(key, lang, number=d.number, time=i18n.when(d.next_update_at, lang, AMSTERDAM)))


# -- opening, updating, closing --------------------------------------------------------------------------


def open_disruption(ctx: Context, inputs: dict[str, Any], ticket_ids: list[int] | None = None) -> Disruption:
    """Open a disruption and tell its audience."""
    fields = _notice_fields(ctx, inputs, need_services=True)
    now = ctx.now()
    d = Disruption(number=store.next_number(ctx.session, prefix="DIS"), services=fields["services"], severity=fields["severity"],
                   status="open", impact=fields["impact"], actions=fields["actions"], next_steps=fields["next_steps"],
                   next_update_at=fields["next_update_at"], ticket_ids=list(ticket_ids or []), opened_by=ctx.actor.email, opened_at=now)
    ctx.session.add(d)
    ctx.session.flush()
    for ticket_id in d.ticket_ids:
        _mark_linked(ctx, session_ticket(ctx.session, ticket_id), d)
    directory.audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="disruption", subject=d.number,
                    action="opened", new={"services": d.services, "severity": d.severity})
    count = broadcast(ctx.session, d, "opened", now, rules=ctx.rules)
    _plan(ctx.session, d, now)
    ctx.reply(ctx.t("dis.opened", number=d.number, count=count))
    return d


def session_ticket(session: Session, ticket_id: int) -> Ticket:
    """A ticket by id."""
    return session.get(Ticket, ticket_id)


def _mark_linked(ctx: Context, ticket: Ticket, d: Disruption) -> None:
    details = dict(ticket.details or {})
    details["disruption"] = d.number
    ticket.details = details
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=ctx.now(), action="linked", text=d.number)


def update(ctx: Context, d: Disruption, inputs: dict[str, Any]) -> None:
    """An update with all four fields; the reminders move to the new promised time."""
    if d.status != "open":
        raise Refused("dis.closed", number=d.number)
    fields = _notice_fields(ctx, inputs, need_services=False)
    now = ctx.now()
    old = {"next_update": d.next_update_at.isoformat() if d.next_update_at else None}
    d.impact, d.actions, d.next_steps, d.next_update_at = fields["impact"], fields["actions"], fields["next_steps"], fields["next_update_at"]
    directory.audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="disruption", subject=d.number,
                    action="updated", old=old, new={"next_update": d.next_update_at.isoformat()})
    count = broadcast(ctx.session, d, "updated", now, rules=ctx.rules)
    _plan(ctx.session, d, now)
    ctx.reply(ctx.t("dis.updated", number=d.number, count=count))


def close(ctx: Context, d: Disruption, inputs: dict[str, Any]) -> None:
    """Close: the audience is told, linked tickets get it in their thread and are resolved (2-2-2 follows)."""
    if d.status != "open":
        raise Refused("dis.closed", number=d.number)
    summary, cause = str(inputs.get("summary", "")).strip(), str(inputs.get("cause", "")).strip()
    if not summary or not cause:
        raise Refused("dis.error.close")
    if max(len(summary), len(cause)) > dis_cards.FIELD_MAX:
        raise Refused("form.error.too_long", field=ctx.t("dis.field.summary"), limit=dis_cards.FIELD_MAX, length=max(len(summary), len(cause)))
    # Only a P1-level disruption has a root cause analysis (guide: "for P1 incidents only"), and it always has one.
    if str(inputs.get("rca", "false")).lower() == "true" and d.severity != "P1":
        raise Refused("dis.error.rca_not_p1", number=d.number, severity=d.severity)
    rca = d.severity == "P1"
    now = ctx.now()
    d.status, d.closed_at, d.closure = "closed", now, {"summary": summary, "cause": cause, "rca": rca}
    cancel(ctx.session, kind=DUE, ref=_ref(d))
    directory.audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="disruption", subject=d.number,
                    action="closed", new={"rca": rca})
    count = broadcast(ctx.session, d, "closed", now, rules=ctx.rules)
    from commands.tickets import resolve as resolve_ticket

    for ticket_id in d.ticket_ids:
        ticket = session_ticket(ctx.session, ticket_id)
        if ticket is None or ticket.status in ("resolved", "closed"):
            continue
        inputs = {"cause": cause, "resolution": summary, "outcome": summary}
        resolve_ticket(ctx, ticket, inputs, quiet=True)
    if rca:
        _plan_rca(ctx, d, now)
    ctx.reply(ctx.t("dis.closed_done", number=d.number, count=count, tickets=len(d.ticket_ids)))


def _plan_rca(ctx: Context, d: Disruption, now: datetime) -> None:
    """A P1-level disruption's RCA: target end of business day 10, deadline end of day 20 (SPEC §5); staff reminders."""

    office = ctx.rules.office_calendar()
    for days, label in ((10, "rca_target"), (20, "rca")):
        due = office.add_business_days(now, days, end_of_day=True)
        schedule(ctx.session, kind=RCA, ref=_ref(d), due_at=due, now=now, payload={"disruption_id": d.id, "target": label})
    room_id, lang = clocks.staff_lang(ctx.session)
    if room_id:
        ctx.send(room_id=room_id, markdown=i18n.t("dis.staff.rca_planned", lang, number=d.number,
                                                  target=i18n.when(office.add_business_days(now, 10, end_of_day=True), lang, AMSTERDAM),
                                                  deadline=i18n.when(office.add_business_days(now, 20, end_of_day=True), lang, AMSTERDAM)))


def on_rca(tctx: TimerContext, timer: Any) -> None:
    """The RCA of a P1-level disruption reached its target day or deadline, and is not delivered yet."""
    d = tctx.session.get(Disruption, timer.payload["disruption_id"])
    room_id, lang = clocks.staff_lang(tctx.session)
    if d is None or room_id is None or (d.closure or {}).get("rca_delivered"):
        return
    outbox.enqueue(tctx.session, now=tctx.now, room_id=room_id, purpose=f"disruption:{d.number}:rca",
                   markdown=i18n.t(f"dis.staff.{timer.payload['target']}", lang, number=d.number))


def notified_rooms(session: Session, d: Disruption) -> list[str]:
    """The spaces its notices (opened, updated, closed) went to, as far as the bot can post in them now.

    The outbox keeps a disruption's notices whatever their age (bot/retention.py), so this is the
    audience of every moment of the disruption, not the subscribers of today.
    """
    purposes = [f"disruption:{d.number}:{kind}" for kind in NOTICE_KINDS]
    rooms = session.scalars(select(OutboxMessage.room_id).distinct().where(
        OutboxMessage.purpose.in_(purposes), OutboxMessage.action == "create", OutboxMessage.status != "failed",
        OutboxMessage.room_id.is_not(None))).all()
    return sorted(room_id for room_id in rooms if directory.reachable(session, room_id=room_id))


def deliver_rca(ctx: Context, d: Disruption, text: str, *, usage: str) -> None:
    """Deliver a P1-level disruption's root cause analysis to every space that received its notices; its reminders stop."""
    if d.severity != "P1":
        raise Refused("dis.rca.not_p1", number=d.number, severity=d.severity)
    if d.status != "closed":
        raise Refused("dis.rca.not_closed", number=d.number)
    delivered = (d.closure or {}).get("rca_delivered")
    if delivered:
        raise Refused("dis.rca.already", number=d.number, when=i18n.when(datetime.fromisoformat(delivered["at"]), ctx.lang, AMSTERDAM))
    if not text:
        raise Refused("dis.rca.usage", usage=usage)
    if len(text) > TEXT_MAX:
        raise Refused("form.error.too_long", field=ctx.t("dis.field.rca_text"), limit=TEXT_MAX, length=len(text))
    now = ctx.now()
    d.closure = {**(d.closure or {}), "rca_delivered": {"at": now.isoformat(), "by": ctx.actor.email, "text": text}}
    cancel(ctx.session, kind=RCA, ref=_ref(d))
    directory.audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="disruption", subject=d.number,
                    action="rca delivered", new={"text": text})
    rooms = notified_rooms(ctx.session, d)
    for room_id in rooms:
        lang = clocks.room_lang(ctx.session, room_id)
        outbox.enqueue(ctx.session, now=now, room_id=room_id, purpose=f"disruption:{d.number}:rca_report", bulk=True,
                       markdown=i18n.t("dis.notice.rca_delivered", lang, number=d.number, services=", ".join(d.services),
                                       text=escape_markdown(text)))
    ctx.reply(ctx.t("dis.rca.delivered", number=d.number, count=len(rooms)))


# -- detection -------------------------------------------------------------------------------------------


def detect(session: Session, ticket: Ticket, now: datetime) -> None:
    """3+ incidents on one service from 2+ organisations within 30 minutes → propose a disruption to the staff."""
    if ticket.kind != "incident" or not ticket.service:
        return
    earlier = session.scalars(select(DisruptionProposal).where(DisruptionProposal.service == ticket.service,
                                                               DisruptionProposal.created_at > now - DETECT_WINDOW)).all()
    if any(p.status == "proposed" for p in earlier):
        return  # the staff have not answered the last proposal yet; during a storm that is every incident
    recent = session.execute(select(Ticket.id, Ticket.org_id, Ticket.details).where(
        Ticket.kind == "incident", Ticket.service == ticket.service,
        Ticket.opened_at > now - DETECT_WINDOW, Ticket.opened_at <= now)).all()
    recent = [t for t in recent if not (t.details or {}).get("disruption")]
    if len(recent) < DETECT_COUNT or len({t.org_id for t in recent}) < DETECT_ORGS:
        return
    ids = sorted(t.id for t in recent)
    if any(set(ids) <= set(p.ticket_ids) for p in earlier):
        return
    proposal = DisruptionProposal(service=ticket.service, ticket_ids=ids, status="proposed", created_at=now)
    session.add(proposal)
    session.flush()
    room_id, lang = clocks.staff_lang(session)
    if room_id is None:
        return
    found = list(session.scalars(select(Ticket.number).where(Ticket.id.in_(ids)).order_by(Ticket.id)))
    # A storm can link hundreds of incidents: the message names the first ones (the form carries them all).
    numbers = ", ".join(found[:PROPOSAL_NAMES]) + (f", … (+{len(found) - PROPOSAL_NAMES})" if len(found) > PROPOSAL_NAMES else "")
    facts = {"count": len(ids), "service": ticket.service, "orgs": len({t.org_id for t in recent}), "tickets": numbers}
    outbox.enqueue(session, now=now, room_id=room_id, markdown=i18n.t("dis.proposal", lang, **facts),
                   purpose=f"disruption:proposal:{proposal.id}", attachments=[{"contentType": "application/vnd.microsoft.card.adaptive",
                                 "content": dis_cards.proposal(**facts, proposal_id=proposal.id, lang=lang)}])


# A proposal is answered once, by one agent: its open form or its dismissal (two forms opened two disruptions).
def proposal_open(ctx: Context, inputs: dict[str, Any]) -> None:
    """"Open disruption" on a proposal: the form, prefilled with the linked tickets."""
    proposal = _proposal(ctx, inputs)
    tickets = ",".join(ctx.session.get(Ticket, i).number for i in proposal.ticket_ids)
    ctx.reply(ctx.t("dis.form.intro"), card=dis_cards.open_form(services=[(s.name, s.code) for s in ctx.rules.desk.services],
                                                               lang=ctx.lang, tickets=tickets))


def proposal_dismiss(ctx: Context, inputs: dict[str, Any]) -> None:
    """"Not related": the proposal is set aside."""
    proposal = _proposal(ctx, inputs)
    proposal.status = "dismissed"
    ctx.reply(ctx.t("dis.proposal.dismissed"))


def _proposal(ctx: Context, inputs: dict[str, Any]) -> DisruptionProposal:
    proposal_id = parse.row_id(inputs.get("proposal"))
    proposal = ctx.session.get(DisruptionProposal, proposal_id) if proposal_id is not None else None
    if proposal is None or proposal.status != "proposed":
        raise Refused("dis.proposal.gone")
    return proposal


# -- commands and buttons ------------------------------------------------------------------------------------


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
    got = ctx.session.scalar(select(OutboxMessage.id).where(OutboxMessage.order_key == ctx.space.room_id,
                                                            OutboxMessage.purpose.in_(notices)).limit(1))
    if got is None:
        raise Refused("dis.not_found", number=d.number)
    return d


def _inline(text: str) -> dict[str, str]:
    return inline_fields(text)


def open_command(ctx: Context, args: Args) -> None:
    """The form, or the fields inline."""
    fields = _inline(args.text)
    if not fields:
        ctx.reply(ctx.t("dis.form.intro"), card=dis_cards.open_form(services=[(s.name, s.code) for s in ctx.rules.desk.services], lang=ctx.lang))
        return
    open_disruption(ctx, fields)


def open_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """The open form's submit (possibly from a proposal, with its tickets): one disruption per form."""
    ids = []
    for number in str(inputs.get("tickets", "")).split(","):
        if number.strip():
            ticket = store.find(ctx.session, number=number, org_id=None)
            if ticket is None:
                raise Refused("ticket.not_found", number=escape_markdown(number.strip()[:20]))
            ids.append(ticket.id)
    d = open_disruption(ctx, inputs, ticket_ids=ids)
    for proposal in ctx.session.scalars(select(DisruptionProposal).where(DisruptionProposal.status == "proposed")):
        if set(proposal.ticket_ids) <= set(ids):
            proposal.status = "opened"
    return d.number


def update_command(ctx: Context, args: Args) -> None:
    """The update form, or the fields inline (all four required)."""
    number, _, rest = args.text.strip().partition(" ")
    d = _find(ctx, number)
    fields = _inline(rest)
    if not fields:
        ctx.reply(ctx.t("dis.form.intro"), card=dis_cards.update_form(number=d.number, lang=ctx.lang))
        return
    update(ctx, d, fields)


def update_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """The update form's submit: one update per form (a second press would notify every space again)."""
    d = _find(ctx, str(inputs.get("disruption", "")))
    update(ctx, d, inputs)
    return d.number


def close_command(ctx: Context, args: Args) -> None:
    """The close form, or the fields inline."""
    number, _, rest = args.text.strip().partition(" ")
    d = _find(ctx, number)
    fields = _inline(rest)
    if not fields:
        ctx.reply(ctx.t("dis.form.intro"), card=dis_cards.close_form(number=d.number, rca=d.severity == "P1", lang=ctx.lang))
        return
    close(ctx, d, fields)


def close_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """The close form's submit."""
    d = _find(ctx, str(inputs.get("disruption", "")))
    close(ctx, d, inputs)
    return d.number


def rca_command(ctx: Context, args: Args) -> None:
    """Deliver the root cause analysis of a closed P1-level disruption to every space told about it."""
    number, _, text = args.text.strip().partition(" ")
    if not number:
        raise Refused("dis.rca.usage", usage=args.usage)
    deliver_rca(ctx, _find(ctx, number), text.strip(), usage=args.usage)


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
    ids = list(d.ticket_ids)
    for number in words[1:]:
        ticket = store.find(ctx.session, number=number, org_id=None)
        if ticket is None:
            raise Refused("ticket.not_found", number=escape_markdown(number[:20]))
        if unlink and ticket.id in ids:
            ids.remove(ticket.id)
            details = dict(ticket.details or {})
            details.pop("disruption", None)
            ticket.details = details
        elif not unlink and ticket.id not in ids:
            ids.append(ticket.id)
            _mark_linked(ctx, ticket, d)
    d.ticket_ids = ids
    ctx.reply(ctx.t("dis.linked", number=d.number, count=len(ids)))


# One incident per notice: two people of one organisation pressing at once opened two.
def affected(ctx: Context, inputs: dict[str, Any]) -> str:
    """"We are affected too": an incident of this organisation, linked to the disruption."""
    from commands.tickets import open_ticket

    d = _noticed(ctx, str(inputs.get("disruption", "")))
    if d.status != "open":
        raise Refused("dis.closed", number=d.number)
    for ticket_id in d.ticket_ids:
        ticket = ctx.session.get(Ticket, ticket_id)
        if ticket is not None and ticket.org_id == ctx.space.org_id and ticket.status not in ("resolved", "closed"):
            raise Refused("dis.already_affected", number=d.number, ticket=ticket.number)
    ticket = open_ticket(ctx, "incident", {"service": d.services[0], "title": ctx.t("dis.affected.title", number=d.number)[:200],
                                           "contact_name": ctx.actor.display_name or ctx.actor.email, "email": ctx.actor.email},
                         disruption=d.number)
    d.ticket_ids = [*d.ticket_ids, ticket.id]
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=ctx.now(), action="linked", text=d.number)
    return ticket.number


def mine(ctx: Context, inputs: dict[str, Any]) -> None:
    """"Show my linked tickets": this organisation's tickets linked to the disruption."""
    d = _noticed(ctx, str(inputs.get("disruption", "")))
    numbers = [t.number for t in (ctx.session.get(Ticket, i) for i in d.ticket_ids) if t is not None and t.org_id == ctx.space.org_id]
    ctx.reply(ctx.t("dis.mine", number=d.number, tickets=", ".join(numbers)) if numbers else ctx.t("dis.mine.none", number=d.number))


def list_command(ctx: Context, args: Args) -> None:
    """Open disruptions; overdue ones first."""
    args.none()
    now = ctx.now()
    found = ctx.session.scalars(select(Disruption).where(Disruption.status == "open").order_by(Disruption.next_update_at)).all()
    if not found:
        ctx.reply(ctx.t("dis.none"))
        return
    lines = [ctx.t("dis.list.title")]
    for d in found:
        key = "dis.list.overdue" if d.next_update_at and d.next_update_at <= now else "dis.list.line"
        lines.append(ctx.t(key, number=d.number, services=", ".join(d.services), severity=d.severity,
                           time=i18n.when(d.next_update_at, ctx.lang, AMSTERDAM), tickets=len(d.ticket_ids)))
    ctx.reply("\n".join(lines))


def show_command(ctx: Context, args: Args) -> None:
    """One disruption: its state, linked tickets and how far its notices have been sent."""
    d = _find(ctx, args.text.strip())
    counts = dict(ctx.session.execute(select(OutboxMessage.status, func.count()).where(OutboxMessage.purpose.like(f"disruption:{d.number}:%"))
                                      .group_by(OutboxMessage.status)).all())
    tickets = ", ".join(t.number for t in (ctx.session.get(Ticket, i) for i in d.ticket_ids) if t is not None) or "—"
    ctx.reply(ctx.t("dis.view", number=d.number, status=ctx.t(f"dis.status.{d.status}"), services=", ".join(d.services), severity=d.severity,
                    tickets=tickets, sent=counts.get("sent", 0), pending=counts.get("pending", 0) + counts.get("sending", 0),
                    failed=counts.get("failed", 0)))


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions and timers."""
    timers.handler(DUE)(on_due)
    timers.handler(RCA)(on_rca)
    router.card_action(Action.PROPOSAL_OPEN, fields=dis_cards.PROPOSAL_FIELDS, roles=AGENTS, spaces=STAFF_ONLY, once=True)(proposal_open)
    router.card_action(Action.PROPOSAL_DISMISS, fields=dis_cards.PROPOSAL_FIELDS, roles=AGENTS, spaces=STAFF_ONLY, once=True)(proposal_dismiss)
    router.command("disruption open", roles=AGENTS, spaces=STAFF_ONLY,
                   usage='/disruption open [services=M2M severity=P2 impact="…" actions="…" next_steps="…" next_update=14:30]')(open_command)
    router.card_action(Action.OPEN, fields=dis_cards.OPEN_FIELDS, roles=AGENTS, spaces=STAFF_ONLY, once=True)(open_button)
    router.command("disruption update", roles=AGENTS, spaces=STAFF_ONLY,
                   usage='/disruption update <DIS-number> [impact="…" actions="…" next_steps="…" next_update=15:30]')(update_command)
    router.card_action(Action.UPDATE, fields=dis_cards.UPDATE_FIELDS, roles=AGENTS, spaces=STAFF_ONLY, once=True)(update_button)
    router.command("disruption close", roles=AGENTS, spaces=STAFF_ONLY, usage='/disruption close <DIS-number> [summary="…" cause="…" rca=true]')(close_command)
    router.card_action(Action.CLOSE, fields=dis_cards.CLOSE_FIELDS, roles=AGENTS, spaces=STAFF_ONLY, once=True)(close_button)
    router.command("disruption rca", roles=RCA_ROLES, spaces=STAFF_ONLY, usage="/disruption rca <DIS-number> <link or text>")(rca_command)
    router.command("disruption link", roles=AGENTS, spaces=STAFF_ONLY, usage="/disruption link <DIS-number> <ticket> [<ticket> …]")(link_command)
    router.command("disruption unlink", roles=AGENTS, spaces=STAFF_ONLY, usage="/disruption unlink <DIS-number> <ticket> [<ticket> …]")(unlink_command)
    router.card_action(Action.AFFECTED, fields=dis_cards.NOTICE_FIELDS, roles=frozenset({CUSTOMER}), spaces=frozenset({IN_CUSTOMER}), once=True)(affected)
    router.card_action(Action.MINE, fields=dis_cards.NOTICE_FIELDS, roles=frozenset({CUSTOMER}), spaces=frozenset({IN_CUSTOMER}))(mine)
    router.command("disruptions", roles=AGENTS, spaces=STAFF_ONLY, usage="/disruptions")(list_command)
    router.command("disruption", roles=AGENTS, spaces=STAFF_ONLY, usage="/disruption <DIS-number>")(show_command)
