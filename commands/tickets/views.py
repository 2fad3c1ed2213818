"""The views: a customer's open tickets, the staff's queue, and one ticket with its timeline."""

from __future__ import annotations

from bot import i18n
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.text import escape_markdown
from commands.common import deadlines, oncall
from commands.tickets import queries
from commands.tickets.shared import priority_label, target_lines
from rules import clock_state
from storage import directory
from storage import tickets as store
from storage.models.directory import AuditEntry
from storage.models.tickets import Ticket

_PRIORITY_ORDER = {"P1": 0, "P2": 1, "P3": 2, None: 3}


def _due_order(ticket: Ticket, targets: list[clock_state.TargetStatus]) -> tuple[int, int, float, int]:
    """Breached first, then by priority, then the soonest deadline."""
    running = [(t, t.due) for t in targets if t.due is not None and t.state != "met"]
    breached = any(t.state == "breached" for t, _ in running)
    soonest = min((due for _, due in running), default=None)
    return (
        0 if breached else 1,
        _PRIORITY_ORDER.get(ticket.priority, 3),
        soonest.timestamp() if soonest else float("inf"),
        ticket.id,
    )


def _left(ctx: Context, targets: list[clock_state.TargetStatus]) -> str:
    parts = []
    for target in targets:
        if target.due is None or target.left is None or target.state in ("met", "no_deadline"):
            continue  # the engine gives a due instant and the time left together
        name = ctx.t(f"sla.target.{target.target}")
        if target.state in ("breached", "late"):
            parts.append(ctx.t("ticket.left.breached", target=name))
        else:
            minutes = int(target.left.total_seconds() // 60)
            key = "ticket.left.paused" if target.paused else "ticket.left.running"
            parts.append(ctx.t(key, target=name, left=f"{minutes // 60}:{minutes % 60:02d}"))
    return "; ".join(parts) or ctx.t("ticket.left.none")


def _most_urgent_first(
    ctx: Context, found: list[Ticket]
) -> tuple[list[Ticket], dict[int, list[clock_state.TargetStatus]]]:
    """The tickets in the order the lists show them, and each one's targets now (read once)."""
    targets = deadlines.deadlines_of(ctx.session, found, ctx.now(), rules=ctx.rules)
    return sorted(found, key=lambda t: _due_order(t, targets[t.id])), targets


def tickets_list(ctx: Context) -> str:
    """This organisation's open tickets, most urgent first."""
    found, targets = _most_urgent_first(ctx, store.open_tickets(ctx.session, org_id=ctx.space.org_id))
    if not found:
        return ctx.t("tickets.none")
    lines = [ctx.t("tickets.title", org=escape_markdown(ctx.space.org_name or ""))]
    for ticket in found:
        lines.append(
            ctx.t(
                "tickets.line",
                number=ticket.number,
                priority=ticket.priority or ctx.t(f"ticket.kind.{ticket.kind}"),
                status=ctx.t(f"ticket.status.{ticket.status}"),
                title=escape_markdown(ticket.title[:80]),
                left=_left(ctx, targets[ticket.id]),
            )
        )
    return "\n".join(lines)


def queue_list(ctx: Context) -> str:
    """Open tickets of every organisation with the time left on each target, breached first."""
    found, targets = _most_urgent_first(ctx, store.open_tickets(ctx.session))
    if not found:
        return ctx.t("queue.none")
    lines = [ctx.t("queue.title", count=len(found))]
    for ticket in found:
        org = directory.org_by_id(ctx.session, org_id=ticket.org_id)
        lines.append(
            ctx.t(
                "queue.line",
                number=ticket.number,
                org=escape_markdown(org.name if org else "?"),
                priority=ticket.priority or ctx.t(f"ticket.kind.{ticket.kind}"),
                status=ctx.t(f"ticket.status.{ticket.status}"),
                title=escape_markdown(ticket.title[:60]),
                left=_left(ctx, targets[ticket.id]),
                assignee=escape_markdown(ticket.assignee or "—"),
            )
        )
    return "\n".join(lines)


def ticket_view(ctx: Context, ticket: Ticket) -> str:
    """Details, targets, escalation, pages and timeline of a ticket, in the context's language."""
    now = ctx.now()
    lines = [
        ctx.t(
            "ticket.view.title",
            number=ticket.number,
            kind=ctx.t(f"ticket.kind.{ticket.kind}"),
            title=escape_markdown(ticket.title),
        ),
        ctx.t(
            "ticket.view.status",
            status=ctx.t(f"ticket.status.{ticket.status}"),
            priority=priority_label(ctx, ticket) if ticket.kind == "incident" else "—",
            service=ticket.service or "—",
            opened=i18n.when(ticket.opened_at, ctx.lang, AMSTERDAM),
        ),
    ]
    if ticket.escalation_level:
        level = ctx.rules.desk.escalation[ticket.escalation_level - 1]
        lines.append(ctx.t("ticket.view.escalation", level=level.level, role=level.role))
    lines.append(ctx.t("ticket.line.targets"))
    lines.extend(target_lines(ctx, ticket, now))
    pages = oncall.page_log(ctx.session, ticket)
    if pages:
        lines.append(ctx.t("ticket.view.pages"))
        for page in pages:
            lines.append(
                ctx.t(
                    "ticket.view.page",
                    when=i18n.when(page.sent_at, ctx.lang, AMSTERDAM),
                    who=escape_markdown(page.email),
                    attempt=page.attempt,
                    status=ctx.t(f"page.status.{page.status}"),
                )
            )
        if ticket.acknowledged_at is not None:
            first = pages[0].sent_at
            minutes = int((ticket.acknowledged_at - first).total_seconds() // 60)
            lines.append(
                ctx.t("ticket.view.ack_time", minutes=minutes, who=escape_markdown(ticket.acknowledged_by or "?"))
            )
    lines.append(ctx.t("ticket.view.timeline"))
    for entry in queries.timeline(ctx.session, ticket):
        lines.append(
            ctx.t(
                "ticket.view.entry",
                when=i18n.when(entry.at, ctx.lang, AMSTERDAM),
                who=escape_markdown(entry.actor),
                what=_describe_entry(ctx, entry),
            )
        )
    return "\n".join(lines)


def _describe_entry(ctx: Context, entry: AuditEntry) -> str:
    new, old = entry.new or {}, entry.old or {}
    if "text" in new:
        return ctx.t("ticket.entry.text", action=entry.action, text=escape_markdown(str(new["text"])[:200]))
    changed = ", ".join(
        f"{k}: {escape_markdown(str(old.get(k, '—')))} → {escape_markdown(str(v))}"
        for k, v in new.items()
        if k not in ("title",)
    )
    return ctx.t("ticket.entry.change", action=entry.action, changes=changed)
