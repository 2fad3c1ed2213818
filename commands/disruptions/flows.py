"""Disruptions: opened, updated, closed (the linked tickets resolved with it), the RCA delivered, tickets
linked. Their notices are in notices.py, the staff's reminders in reminders.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import i18n, outbox, parse
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.scheduler import cancel
from bot.text import escape_markdown
from cards import disruptions as dis_cards
from commands import events
from commands.common import timeline
from commands.common.audience import service_codes
from commands.common.threads import room_lang
from commands.disruptions.notices import broadcast
from commands.disruptions.queries import notified_rooms, session_ticket
from commands.disruptions.reminders import DUE, RCA, plan_rca, plan_updates, ref
from storage import tickets as store
from storage.models.operations import Disruption
from storage.models.tickets import Ticket

TEXT_MAX = 4000


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
            raise Refused(
                "form.error.too_long", field=ctx.t(f"dis.field.{key}"), limit=dis_cards.FIELD_MAX, length=len(value)
            )
        result[key] = value
    when = parse.local_instant(
        str(inputs["next_update"]).strip(),
        field="input.field.next_update",
        today=ctx.now().astimezone(AMSTERDAM).date(),
    )
    if when <= ctx.now():
        raise Refused("dis.error.next_update_past", time=i18n.when(when, ctx.lang, AMSTERDAM))
    result["next_update_at"] = when
    return result


def open_disruption(ctx: Context, inputs: dict[str, Any], ticket_ids: list[int] | None = None) -> Disruption:
    """Open a disruption and tell its audience."""
    fields = _notice_fields(ctx, inputs, need_services=True)
    now = ctx.now()
    d = Disruption(
        number=store.next_number(ctx.session, prefix="DIS"),
        services=fields["services"],
        severity=fields["severity"],
        status="open",
        impact=fields["impact"],
        actions=fields["actions"],
        next_steps=fields["next_steps"],
        next_update_at=fields["next_update_at"],
        ticket_ids=list(ticket_ids or []),
        opened_by=ctx.actor.email,
        opened_at=now,
    )
    ctx.session.add(d)
    ctx.session.flush()
    for ticket_id in d.ticket_ids:
        linked = session_ticket(ctx.session, ticket_id)
        if linked is not None:
            _mark_linked(ctx, linked, d)
    ctx.audit(
        subject_type="disruption",
        subject=d.number,
        action="opened",
        new={"services": d.services, "severity": d.severity},
        at=now,
    )
    count = broadcast(ctx.session, d, "opened", now, rules=ctx.rules)
    plan_updates(ctx.session, d, now)
    ctx.reply(ctx.t("dis.opened", number=d.number, count=count))
    return d


def _mark_linked(ctx: Context, ticket: Ticket, d: Disruption) -> None:
    details = dict(ticket.details or {})
    details["disruption"] = d.number
    ticket.details = details
    timeline.note(
        ctx,
        ticket,
        now=ctx.now(),
        action="linked",
        text=d.number,
    )


def update(ctx: Context, d: Disruption, inputs: dict[str, Any]) -> None:
    """An update with all four fields; the reminders move to the new promised time."""
    if d.status != "open":
        raise Refused("dis.closed", number=d.number)
    fields = _notice_fields(ctx, inputs, need_services=False)
    now = ctx.now()
    old = {"next_update": d.next_update_at.isoformat() if d.next_update_at else None}
    d.impact, d.actions, d.next_steps, d.next_update_at = (
        fields["impact"],
        fields["actions"],
        fields["next_steps"],
        fields["next_update_at"],
    )
    ctx.audit(
        subject_type="disruption",
        subject=d.number,
        action="updated",
        old=old,
        new={"next_update": d.next_update_at.isoformat()},
        at=now,
    )
    count = broadcast(ctx.session, d, "updated", now, rules=ctx.rules)
    plan_updates(ctx.session, d, now)
    ctx.reply(ctx.t("dis.updated", number=d.number, count=count))


def close(ctx: Context, d: Disruption, inputs: dict[str, Any]) -> None:
    """Close: the audience is told, linked tickets get it in their thread and are resolved (2-2-2 follows)."""
    if d.status != "open":
        raise Refused("dis.closed", number=d.number)
    summary, cause = str(inputs.get("summary", "")).strip(), str(inputs.get("cause", "")).strip()
    if not summary or not cause:
        raise Refused("dis.error.close")
    if max(len(summary), len(cause)) > dis_cards.FIELD_MAX:
        raise Refused(
            "form.error.too_long",
            field=ctx.t("dis.field.summary"),
            limit=dis_cards.FIELD_MAX,
            length=max(len(summary), len(cause)),
        )
    # Only a P1-level disruption has a root cause analysis (guide: "for P1 incidents only"), and it always has one.
    if str(inputs.get("rca", "false")).lower() == "true" and d.severity != "P1":
        raise Refused("dis.error.rca_not_p1", number=d.number, severity=d.severity)
    rca = d.severity == "P1"
    now = ctx.now()
    d.status, d.closed_at, d.closure = "closed", now, {"summary": summary, "cause": cause, "rca": rca}
    cancel(ctx.session, kind=DUE, ref=ref(d))
    ctx.audit(
        subject_type="disruption",
        subject=d.number,
        action="closed",
        new={"rca": rca},
        at=now,
    )
    count = broadcast(ctx.session, d, "closed", now, rules=ctx.rules)
    for ticket_id in d.ticket_ids:
        ticket = session_ticket(ctx.session, ticket_id)
        if ticket is None or ticket.status in ("resolved", "closed"):
            continue
        # The tickets family resolves it (commands/events.py).
        events.disruption_closed.send(ctx, ticket=ticket, cause=cause, summary=summary)
    if rca:
        plan_rca(ctx, d, now)
    ctx.reply(ctx.t("dis.closed_done", number=d.number, count=count, tickets=len(d.ticket_ids)))


def deliver_rca(ctx: Context, d: Disruption, text: str, *, usage: str) -> None:
    """Deliver a P1-level disruption's root cause analysis to every space that received its notices; its reminders stop."""
    if d.severity != "P1":
        raise Refused("dis.rca.not_p1", number=d.number, severity=d.severity)
    if d.status != "closed":
        raise Refused("dis.rca.not_closed", number=d.number)
    delivered = (d.closure or {}).get("rca_delivered")
    if delivered:
        raise Refused(
            "dis.rca.already",
            number=d.number,
            when=i18n.when(datetime.fromisoformat(delivered["at"]), ctx.lang, AMSTERDAM),
        )
    if not text:
        raise Refused("dis.rca.usage", usage=usage)
    if len(text) > TEXT_MAX:
        raise Refused("form.error.too_long", field=ctx.t("dis.field.rca_text"), limit=TEXT_MAX, length=len(text))
    now = ctx.now()
    d.closure = {**(d.closure or {}), "rca_delivered": {"at": now.isoformat(), "by": ctx.actor.email, "text": text}}
    cancel(ctx.session, kind=RCA, ref=ref(d))
    ctx.audit(
        subject_type="disruption",
        subject=d.number,
        action="rca delivered",
        new={"text": text},
        at=now,
    )
    rooms = notified_rooms(ctx.session, d)
    for room_id in rooms:
        lang = room_lang(ctx.session, room_id)
        outbox.enqueue(
            ctx.session,
            now=now,
            room_id=room_id,
            purpose=f"disruption:{d.number}:rca_report",
            bulk=True,
            markdown=i18n.t(
                "dis.notice.rca_delivered",
                lang,
                number=d.number,
                services=", ".join(d.services),
                text=escape_markdown(text),
            ),
        )
    ctx.reply(ctx.t("dis.rca.delivered", number=d.number, count=len(rooms)))


def link(ctx: Context, d: Disruption, tickets: list[Ticket], *, unlink: bool) -> None:
    """Link tickets (their spaces join the audience, they are resolved with it) or unlink them."""
    ids = list(d.ticket_ids)
    for ticket in tickets:
        if unlink and ticket.id in ids:
            ids.remove(ticket.id)
            details = dict(ticket.details or {})
            details.pop("disruption", None)
            ticket.details = details
        elif not unlink and ticket.id not in ids:
            ids.append(ticket.id)
            _mark_linked(ctx, ticket, d)
    d.ticket_ids = ids


def affected(ctx: Context, d: Disruption) -> Ticket:
    """This organisation is affected too: an incident of it, linked to the disruption (one per organisation)."""
    if d.status != "open":
        raise Refused("dis.closed", number=d.number)
    for ticket_id in d.ticket_ids:
        ticket = ctx.session.get(Ticket, ticket_id)
        if ticket is not None and ticket.org_id == ctx.space.org_id and ticket.status not in ("resolved", "closed"):
            raise Refused("dis.already_affected", number=d.number, ticket=ticket.number)
    inputs = {
        "service": d.services[0],
        "title": ctx.t("dis.affected.title", number=d.number)[:200],
        "contact_name": ctx.actor.display_name or ctx.actor.email,
        "email": ctx.actor.email,
    }
    # The tickets family opens the incident and answers with it (commands/events.py).
    answers = events.disruption_affected.send(ctx, disruption=d.number, inputs=inputs)
    ticket = next(t for _, t in answers if t is not None)
    d.ticket_ids = [*d.ticket_ids, ticket.id]
    timeline.note(
        ctx,
        ticket,
        now=ctx.now(),
        action="linked",
        text=d.number,
    )
    return ticket
