"""The problem's steps: open, link, tell those affected, close."""

from __future__ import annotations

from dataclasses import dataclass

from bot import i18n
from bot.context import Context
from bot.errors import Refused
from bot.security import PROBLEM_MANAGER
from bot.text import escape_markdown
from commands.common import timeline
from commands.common.audience import audience
from commands.common.threads import post_in_thread, room_lang
from commands.problems.queries import first_manager, linked_tickets
from storage import directory
from storage import tickets as store
from storage.models.operations import Problem
from storage.models.tickets import Ticket


@dataclass(frozen=True)
class Closed:
    """What closing a problem told: the linked tickets' threads, and for a generic one the other subscribers."""

    told: int
    generic: bool
    services: list[str]
    spaces: int


def open_problem(ctx: Context, *, title: str, tickets: list[Ticket]) -> Problem:
    """A new problem about `tickets`, owned by the person opening it when a problem manager, else the first one."""
    now = ctx.now()
    problem = Problem(
        number=store.next_number(ctx.session, prefix="PRB"),
        title=title,
        owner=_owner(ctx),
        status="open",
        ticket_ids=[t.id for t in tickets],
        opened_at=now,
    )
    ctx.session.add(problem)
    ctx.session.flush()
    ctx.audit(
        subject_type="problem",
        subject=problem.number,
        action="opened",
        new={"title": title, "owner": problem.owner, "tickets": [t.number for t in tickets]},
        at=now,
    )
    for ticket in tickets:
        timeline.note(
            ctx,
            ticket,
            now=now,
            action="problem",
            text=problem.number,
        )
    return problem


def _owner(ctx: Context) -> str:
    if PROBLEM_MANAGER in ctx.actor.roles:
        return ctx.actor.email
    manager = first_manager(ctx.session)
    if manager is None:
        raise Refused("prb.no_manager")
    return manager


def link(ctx: Context, problem: Problem, tickets: list[Ticket]) -> None:
    """Link more incidents to a problem."""
    problem.ticket_ids = sorted(set(problem.ticket_ids) | {t.id for t in tickets})
    ctx.audit(
        subject_type="problem",
        subject=problem.number,
        action="linked",
        new={"tickets": [t.number for t in tickets]},
    )


def update(ctx: Context, problem: Problem, *, scope: str, text: str) -> int:
    """An update to the linked tickets' threads (customer) or to every affected space (generic); how many were told."""
    count = _broadcast(ctx, problem, "prb.notice.update", scope, text=escape_markdown(text))
    ctx.audit(
        subject_type="problem",
        subject=problem.number,
        action=f"update ({scope})",
        new={"text": text},
    )
    return count


def close(ctx: Context, problem: Problem, *, how: str, text: str) -> Closed:
    """Close with the permanent fix or the mitigating actions; the threads are told, and for a generic
    problem every other subscriber of its services too."""
    now = ctx.now()
    generic = is_generic(ctx, problem)
    problem.status, problem.closed_at, problem.outcome = "closed", now, {"how": how, "text": text, "generic": generic}
    told = _broadcast(ctx, problem, f"prb.notice.{how}", "customer", text=escape_markdown(text))
    ctx.audit(
        subject_type="problem",
        subject=problem.number,
        action=f"closed ({how})",
        new={"text": text, "generic": generic},
        at=now,
    )
    if not generic:
        return Closed(told=told, generic=False, services=[], spaces=0)
    services = sorted({t.service for t in linked_tickets(ctx.session, problem) if t.service})
    spaces = _tell_subscribers(ctx, problem, f"prb.notice.{how}_generic", services, text=escape_markdown(text))
    return Closed(told=told, generic=True, services=services, spaces=spaces)


def _broadcast(ctx: Context, problem: Problem, key: str, scope: str, **values: object) -> int:
    tickets = linked_tickets(ctx.session, problem)
    # Spaces the bot cannot post in now (removed, refused) are left out, and not counted.
    reachable = [t for t in tickets if directory.reachable(ctx.session, room_id=t.room_id)]
    if scope == "customer":
        for ticket in reachable:
            post_in_thread(
                ctx, ticket, i18n.t(key, room_lang(ctx.session, ticket.room_id), number=problem.number, **values)
            )
        return len(reachable)
    rooms = sorted(
        set(audience(ctx.session, sorted({t.service for t in tickets if t.service}), rules=ctx.rules))
        | {t.room_id for t in reachable}
    )
    for room_id in rooms:
        ctx.send(
            room_id=room_id,
            markdown=i18n.t(key, room_lang(ctx.session, room_id), number=problem.number, **values),
            purpose=f"problem:{problem.number}",
            bulk=True,
        )
    return len(rooms)


def is_generic(ctx: Context, problem: Problem) -> bool:
    """Not tied to one customer: its incidents come from more than one organisation (or none), or an
    update already went to every affected space."""
    orgs = {t.org_id for t in linked_tickets(ctx.session, problem)}
    if len(orgs) != 1:
        return True
    return any(
        entry.action == "update (generic)"
        for entry in directory.timeline(ctx.session, subject_type="problem", subject=problem.number)
    )


def _tell_subscribers(ctx: Context, problem: Problem, key: str, services: list[str], **values: object) -> int:
    """Every space subscribed to `services` that no linked ticket's thread told already: a message of its own."""
    threads = {t.room_id for t in linked_tickets(ctx.session, problem)}
    rooms = [r for r in audience(ctx.session, services, rules=ctx.rules) if r not in threads] if services else []
    for room_id in rooms:
        ctx.send(
            room_id=room_id,
            markdown=i18n.t(
                key,
                room_lang(ctx.session, room_id),
                number=problem.number,
                title=escape_markdown(problem.title),
                services=", ".join(services),
                **values,
            ),
            purpose=f"problem:{problem.number}",
            bulk=True,
        )
    return len(rooms)
