"""What the SLA clocks say for a record opened at a moment, and for a ticket, in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot import i18n
from bot.clock import AMSTERDAM
from commands.common.deadlines import extended_note, history, profile_of
from rules import Rules
from rules.clock_state import TargetStatus, TicketHistory, deadlines
from rules.sla import STARTS_AT_RESOLUTION
from storage.models.tickets import Ticket


@dataclass(frozen=True)
class WhatIf:
    """The targets a record of this kind would have if it were opened at `opened`."""

    kind: str
    priority: str | None
    opened: datetime
    targets: list[TargetStatus]


def what_if(kind: str, priority: str | None, opened: datetime, *, profile: str | None = None, rules: Rules) -> WhatIf:
    """Deadlines of a record opened at `opened` (targets counted from a later event stay open)."""
    history = TicketHistory(kind=kind, priority=priority, opened_at=opened)
    return WhatIf(kind, priority, opened, deadlines(history, rules.profile(profile), now=opened))


def render_what_if(lang: str, result: WhatIf) -> str:
    """The reply: one line per target with its local due time and budget."""
    record = result.priority if result.kind == "incident" else i18n.t(f"sla.kind.{result.kind}", lang)
    lines = [i18n.t("sla.what_if.title", lang, record=record, opened=i18n.when(result.opened, lang, AMSTERDAM))]
    for target in result.targets:
        name = i18n.t(f"sla.target.{target.target}", lang)
        if target.state == "no_deadline":
            lines.append(i18n.t("sla.line.no_deadline", lang, target=name))
        elif target.due is None:
            key = "sla.line.after_resolution" if target.starts == STARTS_AT_RESOLUTION else "sla.line.after_closure"
            lines.append(i18n.t(key, lang, target=name, budget=_budget(lang, target)))
        else:
            lines.append(
                i18n.t(
                    "sla.line.due",
                    lang,
                    target=name,
                    due=i18n.when(target.due, lang, AMSTERDAM),
                    budget=_budget(lang, target),
                )
            )
    return "\n".join(lines)


def _budget(lang: str, target: TargetStatus) -> str:
    budget = target.budget
    if budget is None:
        return ""
    return i18n.count(f"sla.budget.{budget.unit}", budget.amount, lang)


def render_ticket_clocks(session: Session, ticket: Ticket, now: datetime, lang: str, *, rules: Rules) -> str:
    """A ticket's targets: due, budget used and left, paused or not, met or breached."""
    lines = [
        i18n.t("sla.ticket.title", lang, number=ticket.number, status=i18n.t(f"ticket.status.{ticket.status}", lang))
    ]
    for target in deadlines(history(session, ticket), profile_of(session, ticket, rules=rules), now):
        name = i18n.t(f"sla.target.{target.target}", lang)
        if target.due is None:
            if target.state == "no_deadline":
                key = "sla.line.no_deadline"
            else:
                key = (
                    "sla.ticket.starts_at_resolution"
                    if target.starts == STARTS_AT_RESOLUTION
                    else "sla.ticket.not_started"
                )
            lines.append(i18n.t(key, lang, target=name))
            continue
        state = (
            i18n.t("ticket.state.best_effort", lang)
            if target.best_effort
            else i18n.t(f"ticket.state.{target.state}", lang)
        )
        if target.extended:
            state += " " + extended_note(target, lang)
        lines.append(
            i18n.t(
                "sla.ticket.line",
                lang,
                target=name,
                due=i18n.when(target.due, lang, AMSTERDAM),
                used=_hm(target.used),
                total=_hm(target.total),
                left=_hm(target.left),
                state=state,
            )
        )
    return "\n".join(lines)


def _hm(value: timedelta | None) -> str:
    minutes = int(value.total_seconds() // 60) if value is not None else 0
    return f"{minutes // 60}:{minutes % 60:02d}"
