"""A ticket's SLA deadlines as the engine sees them: its history, its profile, its targets now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import i18n
from rules import Rules, clock_state, sla
from storage import directory
from storage import tickets as store
from storage.models.tickets import Ticket


def history(
    session: Session, ticket: Ticket, pauses: list[tuple[datetime, datetime | None]] | None = None
) -> clock_state.TicketHistory:
    """What the SLA engine needs of a ticket (`pauses`: already read, see deadlines_of)."""
    resolution = ticket.resolution or {}
    return clock_state.TicketHistory(
        kind=ticket.kind,
        opened_at=ticket.opened_at,
        priority=ticket.priority,
        pauses=store.pauses(session, ticket) if pauses is None else pauses,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at if ticket.status in ("resolved", "closed") else None,
        closed_at=ticket.closed_at,
        roaming=bool((ticket.details or {}).get("roaming")),
        met={k: datetime.fromisoformat(v) for k, v in resolution.get("delivered", {}).items()},
        restored_at=ticket.restored_at,
        lead_time=lead_time_of(ticket),
        rfc_type=(ticket.details or {}).get("rfc_type") if ticket.kind == "rfc" else None,
    )


def lead_time_of(ticket: Ticket) -> sla.Budget | None:
    """The longer lead time an agent gave the ticket, if any."""
    return sla.parse_budget(ticket.lead_time) if ticket.lead_time else None


def deadlines_of(
    session: Session, tickets: list[Ticket], now: datetime, *, rules: Rules
) -> dict[int, list[clock_state.TargetStatus]]:
    """Every target of each ticket as seen at `now`, by ticket id: for lists of tickets, whose
    pauses are read together instead of one query per ticket."""
    pauses = store.pauses_of(session, tickets)
    return {
        ticket.id: clock_state.deadlines(
            history(session, ticket, pauses[ticket.id]), profile_of(session, ticket, rules=rules), now
        )
        for ticket in tickets
    }


def profile_of(session: Session, ticket: Ticket, *, rules: Rules) -> sla.Profile:
    """The SLA profile of the ticket's organisation."""
    org = directory.org_by_id(session, org_id=ticket.org_id)
    return rules.profile(org.sla_profile if org is not None else None)


# -- the countdown -----------------------------------------------------------------------------------


def extended_note(target: clock_state.TargetStatus, lang: str) -> str:
    """The note "(lead time extended to 10 business days)" of a target an agent lengthened."""
    assert target.budget is not None
    return i18n.t(
        "sla.extended", lang, budget=i18n.count(f"sla.budget.{target.budget.unit}", target.budget.amount, lang)
    )
