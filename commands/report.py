"""/report and `run_bot.py report`: per organisation and month, tickets and how their SLAs went.

In chat a block per organisation (Webex has no markdown tables) and the CSV as a file.

For the tickets opened in a month (Amsterdam time): counts by kind and priority; per target
how many were met, breached, still running, best effort (roaming, counted apart) and extended
(an RFC or RFI given a longer lead time, met or running within it: counted apart, not as a
breach); median and 90th percentile of the elapsed time to first response and to resolution.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot import i18n, parse
from rules import Rules
from rules.calendar import localize
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.router import Args, Router
from bot.scheduler import TimerRegistry
from bot.security import ADMIN, AGENT, IN_DIRECT, IN_STAFF, PROBLEM_MANAGER
from rules.sla import TargetStatus
from bot.text import escape_markdown
from commands.common import deadlines
from storage import directory
from storage.models import Page, Ticket

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
    return (localize(datetime.combine(start, datetime.min.time()), AMSTERDAM),
            localize(datetime.combine(end, datetime.min.time()), AMSTERDAM))


def build(session: Session, *, month: str, now: datetime, rules: Rules) -> list[OrgReport]:
    """The month's figures per organisation, as the clocks stand at `now`."""
    start, end = month_bounds(month)
    in_month = and_(Ticket.opened_at >= start, Ticket.opened_at < end)
    rows = list(session.scalars(select(Ticket).where(in_month).order_by(Ticket.id)))
    targets = deadlines.deadlines_of(session, rows, now, rules=rules)
    # The first page of each of the month's tickets, in one query.
    first_pages = dict(session.execute(select(Page.ticket_id, func.min(Page.sent_at)).join(Ticket, Ticket.id == Page.ticket_id)
                                       .where(in_month).group_by(Page.ticket_id)).all())
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


def percentile(values: list[timedelta], p: float) -> timedelta | None:
    """Nearest-rank percentile (p in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n·p/100), at least 1
    return ordered[int(rank) - 1]


def _hours(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


STATES = ("met", "breached", "running", "best_effort", "extended")


def rows(reports: list[OrgReport]) -> list[dict[str, str]]:
    """One flat row per organisation and target (for CSV and the chat table)."""
    result = []
    for report in reports:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(report.by_kind.items()))
        for target in sorted(report.targets):
            counts = report.targets[target]
            result.append({
                "org": report.org, "tickets": kinds, "target": target,
                **{state: str(counts.get(state, 0)) for state in STATES},
                "first_response_median": _hours(percentile(report.first_response, 50)),
                "first_response_p90": _hours(percentile(report.first_response, 90)),
                "resolution_median": _hours(percentile(report.resolution, 50)),
                "resolution_p90": _hours(percentile(report.resolution, 90)),
                "acknowledge_median": _hours(percentile(report.acknowledge, 50)),
                "acknowledge_p90": _hours(percentile(report.acknowledge, 90)),
            })
    return result


def to_csv(reports: list[OrgReport]) -> str:
    """The report as CSV (one row per organisation and target)."""
    out = io.StringIO()
    fields = ["org", "tickets", "target", *STATES, "first_response_median", "first_response_p90", "resolution_median", "resolution_p90",
              "acknowledge_median", "acknowledge_p90"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(reports))
    return out.getvalue()


def to_markdown(reports: list[OrgReport], *, month: str, lang: str) -> str:
    """The report for chat: a block per organisation (Webex renders no markdown tables)."""
    if not reports:
        return i18n.t("report.none", lang, month=month)
    lines = [i18n.t("report.title", lang, month=month)]
    extended = False
    for report in reports:
        lines += ["", i18n.t("report.org", lang, org=escape_markdown(report.org),
                             tickets=", ".join(f"{k}: {n}" for k, n in sorted(report.by_kind.items())))]
        for target in sorted(report.targets):
            counts = report.targets[target]
            # The extended count only where there is one: most targets can never be extended.
            key = "report.target.extended" if counts.get("extended") else "report.target"
            extended = extended or bool(counts.get("extended"))
            lines.append(i18n.t(key, lang, target=i18n.t(f"sla.target.{target}", lang),
                                **{state: counts.get(state, 0) for state in STATES}))
        lines.append(i18n.t("report.times", lang, **{
            what: f"{_hours(percentile(values, 50))} / {_hours(percentile(values, 90))}"
            for what, values in (("first_response", report.first_response), ("resolution", report.resolution),
                                 ("acknowledge", report.acknowledge))}))
    lines += ["", i18n.t("report.note", lang)]
    if extended:
        lines.append(i18n.t("report.note.extended", lang))
    return "\n".join(lines)


def csv_file(reports: list[OrgReport], *, month: str) -> dict[str, str]:
    """The report's CSV as a file to attach to a message."""
    return {"name": f"servicedesk-report-{month}.csv", "content_type": "text/csv", "text": to_csv(reports)}


def report_command(ctx: Context, args: Args) -> None:
    """Per organisation, this month's (or the given month's) tickets and SLA results."""
    month = args.text.strip() or ctx.now().astimezone(AMSTERDAM).strftime("%Y-%m")
    parse.month(month, field="input.field.month")
    reports = build(ctx.session, month=month, now=ctx.now(), rules=ctx.rules)
    # Bulk: a long report waits behind pages and answers, not the other way round.
    ctx.reply(to_markdown(reports, month=month, lang=ctx.lang), bulk=True)
    if reports:
        # The figures as a file to open in a spreadsheet: Webex takes one file per message.
        ctx.reply(ctx.t("report.file", month=month), files=[csv_file(reports, month=month)], bulk=True)


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions and timers."""
    router.command("report", roles=frozenset({AGENT, PROBLEM_MANAGER, ADMIN}), spaces=frozenset({IN_STAFF, IN_DIRECT}),
                   usage="/report [YYYY-MM]")(report_command)
