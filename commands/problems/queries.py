"""What the problem commands read: problems by number, tickets by number, the owner to give (never commits)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.security import PROBLEM_MANAGER
from storage import tickets as store
from storage.models.directory import RoleGrant
from storage.models.operations import Problem
from storage.models.tickets import Ticket

_NUMBER = re.compile(r"^PRB-\d{1,9}$", re.IGNORECASE)


def by_number(session: Session, *, number: str) -> Problem | None:
    """The problem with this PRB number (any case), if there is one."""
    number = number.strip().upper()
    return session.scalar(select(Problem).where(Problem.number == number)) if _NUMBER.match(number) else None


def ticket_by_number(session: Session, *, number: str) -> Ticket | None:
    """Any organisation's ticket with this number."""
    return store.find(session, number=number, org_id=None)


def first_manager(session: Session) -> str | None:
    """The first (by e-mail) person holding the problem manager role, if anyone does."""
    return session.scalar(
        select(RoleGrant.email)
        .where(RoleGrant.role == PROBLEM_MANAGER, RoleGrant.revoked_at.is_(None))
        .order_by(RoleGrant.email)
    )


def linked_tickets(session: Session, problem: Problem) -> list[Ticket]:
    """The problem's linked tickets that still exist."""
    return [t for t in (session.get(Ticket, i) for i in problem.ticket_ids) if t is not None]


def open_problems(session: Session) -> Sequence[Problem]:
    """Every open problem, oldest first."""
    return session.scalars(select(Problem).where(Problem.status == "open").order_by(Problem.id)).all()
