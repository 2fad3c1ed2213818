"""Who is on call and who must act on a ticket: read by paging, by the staff alerts of tickets and
clocks, and by the priority decision of the engineer on a P1 at night."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import i18n
from bot.context import Context
from bot.errors import Refused
from bot.security import AGENT, CUSTOMER, ENGINEER
from bot.text import escape_markdown, mention
from rules import Rules
from storage.models.operations import OnCallShift, OnCallTeam, Page
from storage.models.tickets import Ticket


def get_team(session: Session, name: str | None = None, *, rules: Rules) -> OnCallTeam | None:
    """A team by name (the desk's paging team when None)."""
    return session.get(OnCallTeam, (name or rules.desk.paging_team).lower())


def order_at(session: Session, team: OnCallTeam, now: datetime) -> list[str]:
    """Who is paged, in order, at `now`: the engineer of the current shift first, then the rota."""
    shifts = session.scalars(
        select(OnCallShift)
        .where(OnCallShift.team == team.name, OnCallShift.starts_at <= now)
        .order_by(OnCallShift.starts_at.desc(), OnCallShift.id.desc())
    )
    current = next((s.email for s in shifts if s.ends_at is None or s.ends_at > now), None)
    order = [current] if current else []
    return order + [e for e in team.rota if e not in order]


def must_act(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> str | None:
    """Who a staff alert about `ticket` calls on: its assignee, else the engineer on call now (None: nobody)."""
    if ticket.assignee:
        return ticket.assignee
    team = get_team(session, rules=rules)
    order = order_at(session, team, now) if team is not None else []
    # Nobody Webex could not deliver this ticket's page to: mentioning them notifies no one.
    unreachable = set(
        session.scalars(select(Page.email).where(Page.ticket_id == ticket.id, Page.status == "undeliverable"))
    )
    return next((email for email in order if email not in unreachable), None)


def calling_on(
    session: Session, ticket: Ticket, now: datetime, markdown: str, lang: str, *, who: str | None = None, rules: Rules
) -> str:
    """A staff alert with a line that mentions who must act (`who`, else must_act): Webex notifies
    a person only when mentioned."""
    who = who or must_act(session, ticket, now, rules=rules)
    return markdown if who is None else "\n".join([markdown, i18n.t("staff.must_act", lang, who=mention(who))])


# -- paging --------------------------------------------------------------------------------------------


def page_log(session: Session, ticket: Ticket) -> list[Page]:
    """Every page of a ticket, oldest first."""
    return list(session.scalars(select(Page).where(Page.ticket_id == ticket.id).order_by(Page.id)))


def decides_on_call(ctx: Context, ticket: Ticket, now: datetime) -> bool:
    """Whether the actor sets the priority of `ticket` as its on-call engineer: out of office hours,
    the engineer who acknowledged its page confirms or lowers a requested P1 (SPEC §3: the guide's
    stand-by handles P1 at night). False for agents and customers (they set and ask as before); any
    other engineer is refused, told who may."""
    if ctx.actor.has_any(frozenset({AGENT})) or ENGINEER not in ctx.actor.roles:
        return False
    out_of_hours = not ctx.rules.office_calendar().is_business_time(now)
    if out_of_hours and (ticket.clock or {}).get("acknowledged_email") == ctx.actor.email:
        return True
    if CUSTOMER in ctx.actor.roles:
        return False  # in their organisation's space they ask, as its other members do
    if not out_of_hours:
        raise Refused("page.decide.office_hours", number=ticket.number)
    if ticket.acknowledged_by is None:
        raise Refused("page.decide.not_acknowledged", number=ticket.number)
    raise Refused("page.decide.someone_else", number=ticket.number, who=escape_markdown(ticket.acknowledged_by))
