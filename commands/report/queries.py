"""The month's figures per organisation, read from the tickets and pages (never commits)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot import parse
from bot.clock import AMSTERDAM
from commands.common.deadlines import deadlines_of
from rules import Rules
from rules.clock_state import TargetStatus
from rules.local_time import localize
from storage import directory
from storage.models.operations import Page
from storage.models.tickets import Ticket


@dataclass
class OrgReport:
    """One organisation's month."""

    org: str
    by_kind: Counter = field(default_factory=Counter)  # "incident P2", "rfc", …
    targets: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # target → state counts
    first_response: list[timedelta] = field(default_factory=list)
    resolution: list[timedelta] = field(default_factory=list)
    acknowledge: list[timedelta] = field(default_factory=list)  # P1: first page → acknowledged


def month_bounds(text: str) -> tuple[datetime, datetime]:
    """'2026-11' → the first instant of November and of December in Amsterdam; ValueError saying
    the accepted months otherwise."""
    year, month = parse.read_month(text)
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return (
        localize(datetime.combine(start, datetime.min.time()), AMSTERDAM),
        localize(datetime.combine(end, datetime.min.time()), AMSTERDAM),
    )


def build(session: Session, *, month: str, now: datetime, rules: Rules) -> list[OrgReport]:
    """The month's figures per organisation, as the clocks stand at `now`."""
    start, end = month_bounds(month)
    in_month = and_(Ticket.opened_at >= start, Ticket.opened_at < end)
    rows = list(session.scalars(select(Ticket).where(in_month).order_by(Ticket.id)))
    targets = deadlines_of(session, rows, now, rules=rules)
    # The first page of each of the month's tickets, in one query.
    first_pages = dict(
        session.execute(
            select(Page.ticket_id, func.min(Page.sent_at))
            .join(Ticket, Ticket.id == Page.ticket_id)
            .where(in_month)
            .group_by(Page.ticket_id)
        ).all()
    )
    reports: dict[int, OrgReport] = {}
    for ticket in rows:
        report = reports.get(ticket.org_id)
        if report is None:
            org = directory.org_by_id(session, org_id=ticket.org_id)
            report = reports[ticket.org_id] = OrgReport(org=org.name if org else "?")
        report.by_kind[f"{ticket.kind} {ticket.priority}" if ticket.priority else ticket.kind] += 1
        for target in targets[ticket.id]:
            if target.due is None:
                continue
            report.targets[target.target][_counted_as(target)] += 1
        if ticket.first_response_at is not None:
            report.first_response.append(ticket.first_response_at - ticket.opened_at)
        if ticket.resolved_at is not None and ticket.status in ("resolved", "closed"):
            report.resolution.append(ticket.resolved_at - ticket.opened_at)
        if ticket.acknowledged_at is not None:
            first_page = first_pages.get(ticket.id)
            if first_page is not None:
                report.acknowledge.append(ticket.acknowledged_at - first_page)
    return sorted(reports.values(), key=lambda r: r.org.casefold())


def _counted_as(target: TargetStatus) -> str:
    """The report's column of a target: an extended lead time missed is still a breach."""
    if target.best_effort:
        return "best_effort"
    if target.extended and target.state != "breached":
        return "extended"
    return {"late": "breached", "paused": "running"}.get(target.state, target.state)
