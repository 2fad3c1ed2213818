"""Problems (PRB): the cause behind incidents, owned by a problem manager, updated to those affected.

Customer-specific updates go to the threads of the linked tickets; generic ones to every space
subscribed to the services of the linked tickets. Closed with a permanent fix, or with the
mitigating actions when none is feasible: the linked tickets' threads are told, and when the
problem is generic (not tied to one customer) so is every other space subscribed to its services.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import i18n
from bot.context import Context
from bot.errors import Refused
from bot.router import Args, Router
from bot.scheduler import TimerRegistry
from bot.security import AGENT, IN_STAFF, PROBLEM_MANAGER
from bot.text import escape_markdown
from commands.common.threads import post_in_thread
from commands.maintenance import audience
from storage import directory
from storage import tickets as store
from storage.models import Problem, RoleGrant, Ticket

STAFF = frozenset({AGENT, PROBLEM_MANAGER})
WHERE = frozenset({IN_STAFF})
TITLE_MAX, TEXT_MAX = 200, 4000
_NUMBER = re.compile(r"^PRB-\d{1,9}$", re.IGNORECASE)


def _find(ctx: Context, number: str) -> Problem:
    number = number.strip().upper()
    problem = ctx.session.scalar(select(Problem).where(Problem.number == number)) if _NUMBER.match(number) else None
    if problem is None:
        raise Refused("prb.not_found", number=escape_markdown(number[:20]))
    return problem


def _tickets(ctx: Context, words: list[str]) -> list[Ticket]:
    found = []
    for word in words:
        ticket = store.find(ctx.session, number=word, org_id=None)
        if ticket is None:
            raise Refused("ticket.not_found", number=store.normalise_number(word) or escape_markdown(word[:20]))
        found.append(ticket)
    return found


def _owner(ctx: Context) -> str:
    if PROBLEM_MANAGER in ctx.actor.roles:
        return ctx.actor.email
    manager = ctx.session.scalar(select(RoleGrant.email).where(RoleGrant.role == PROBLEM_MANAGER, RoleGrant.revoked_at.is_(None))
                                 .order_by(RoleGrant.email))
    if manager is None:
        raise Refused("prb.no_manager")
    return manager


def open_problem(ctx: Context, args: Args) -> None:
    """Open a problem from one or more incidents; its owner is a problem manager."""
    words = args.text.split()
    numbers = [w for w in words if store.normalise_number(w)]
    title = " ".join(w for w in words if not store.normalise_number(w)).strip()
    if not title:
        raise Refused("prb.usage", usage=args.usage)
    if len(title) > TITLE_MAX:
        raise Refused("form.error.too_long", field=ctx.t("form.field.title"), limit=TITLE_MAX, length=len(title))
    tickets = _tickets(ctx, numbers)
    now = ctx.now()
    problem = Problem(number=store.next_number(ctx.session, prefix="PRB"), title=title, owner=_owner(ctx), status="open",
                      ticket_ids=[t.id for t in tickets], opened_at=now)
    ctx.session.add(problem)
    ctx.session.flush()
    directory.audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="problem", subject=problem.number,
                    action="opened", new={"title": title, "owner": problem.owner, "tickets": [t.number for t in tickets]})
    for ticket in tickets:
        store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="problem", text=problem.number)
    ctx.reply(ctx.t("prb.opened", number=problem.number, owner=escape_markdown(problem.owner), count=len(tickets)))


def link(ctx: Context, args: Args) -> None:
    """Link more incidents to a problem."""
    words = args.words
    if len(words) < 2:
        raise Refused("prb.link.usage", usage=args.usage)
    problem = _find(ctx, words[0])
    tickets = _tickets(ctx, words[1:])
    problem.ticket_ids = sorted(set(problem.ticket_ids) | {t.id for t in tickets})
    directory.audit(ctx.session, at=ctx.now(), actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="problem",
                    subject=problem.number, action="linked", new={"tickets": [t.number for t in tickets]})
    ctx.reply(ctx.t("prb.linked", number=problem.number, count=len(problem.ticket_ids)))


def _broadcast(ctx: Context, problem: Problem, key: str, scope: str, **values: object) -> int:
    tickets = [t for t in (ctx.session.get(Ticket, i) for i in problem.ticket_ids) if t is not None]
    # Spaces the bot cannot post in now (removed, refused) are left out, and not counted.
    reachable = [t for t in tickets if directory.reachable(ctx.session, room_id=t.room_id)]
    if scope == "customer":
        for ticket in reachable:
            post_in_thread(ctx, ticket, i18n.t(key, _lang(ctx, ticket.room_id), number=problem.number, **values))
        return len(reachable)
    rooms = sorted(set(audience(ctx.session, sorted({t.service for t in tickets if t.service}), rules=ctx.rules)) | {t.room_id for t in reachable})
    for room_id in rooms:
        ctx.send(room_id=room_id, markdown=i18n.t(key, _lang(ctx, room_id), number=problem.number, **values), purpose=f"problem:{problem.number}",
                 bulk=True)
    return len(rooms)


def _lang(ctx: Context, room_id: str) -> str:
    from commands.common.threads import room_lang

    return room_lang(ctx.session, room_id)


def update(ctx: Context, args: Args) -> None:
    """An update to the linked tickets' threads (customer) or to every affected space (generic)."""
    number, _, rest = args.text.strip().partition(" ")
    scope, _, text = rest.strip().partition(" ")
    problem = _find(ctx, number)
    if scope not in ("customer", "generic") or not text.strip():
        raise Refused("prb.update.usage", usage=args.usage)
    if problem.status != "open":
        raise Refused("prb.closed", number=problem.number)
    if len(text) > TEXT_MAX:
        raise Refused("form.error.too_long", field=ctx.t("prb.field.text"), limit=TEXT_MAX, length=len(text))
    count = _broadcast(ctx, problem, "prb.notice.update", scope, text=escape_markdown(text.strip()))
    directory.audit(ctx.session, at=ctx.now(), actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="problem",
                    subject=problem.number, action=f"update ({scope})", new={"text": text.strip()})
    ctx.reply(ctx.t("prb.sent", number=problem.number, count=count))


def close(ctx: Context, args: Args) -> None:
    """Close with the permanent fix, or with the mitigating actions when none is feasible."""
    number, _, rest = args.text.strip().partition(" ")
    how, _, text = rest.strip().partition(" ")
    problem = _find(ctx, number)
    if how not in ("fixed", "mitigated") or not text.strip():
        raise Refused("prb.close.usage", usage=args.usage)
    if problem.status != "open":
        raise Refused("prb.closed", number=problem.number)
    if len(text) > TEXT_MAX:
        raise Refused("form.error.too_long", field=ctx.t("prb.field.text"), limit=TEXT_MAX, length=len(text))
    now = ctx.now()
    generic = is_generic(ctx, problem)
    problem.status, problem.closed_at, problem.outcome = "closed", now, {"how": how, "text": text.strip(), "generic": generic}
    told = _broadcast(ctx, problem, f"prb.notice.{how}", "customer", text=escape_markdown(text.strip()))
    directory.audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="problem", subject=problem.number,
                    action=f"closed ({how})", new={"text": text.strip(), "generic": generic})
    if not generic:
        ctx.reply(ctx.t("prb.closed_done", number=problem.number, count=told))
        return
    services = _services(ctx, problem)
    spaces = _tell_subscribers(ctx, problem, f"prb.notice.{how}_generic", services, text=escape_markdown(text.strip()))
    ctx.reply(ctx.t("prb.closed_generic", number=problem.number, count=told, spaces=spaces, services=", ".join(services) or "—"))


def is_generic(ctx: Context, problem: Problem) -> bool:
    """Not tied to one customer: its incidents come from more than one organisation (or none), or an
    update already went to every affected space."""
    orgs = {t.org_id for t in (ctx.session.get(Ticket, i) for i in problem.ticket_ids) if t is not None}
    if len(orgs) != 1:
        return True
    return any(entry.action == "update (generic)" for entry in directory.timeline(ctx.session, subject_type="problem", subject=problem.number))


def _services(ctx: Context, problem: Problem) -> list[str]:
    tickets = (ctx.session.get(Ticket, i) for i in problem.ticket_ids)
    return sorted({t.service for t in tickets if t is not None and t.service})


def _tell_subscribers(ctx: Context, problem: Problem, key: str, services: list[str], **values: object) -> int:
    """Every space subscribed to `services` that no linked ticket's thread told already: a message of its own."""
    threads = {t.room_id for t in (ctx.session.get(Ticket, i) for i in problem.ticket_ids) if t is not None}
    rooms = [r for r in audience(ctx.session, services, rules=ctx.rules) if r not in threads] if services else []
    for room_id in rooms:
        ctx.send(room_id=room_id, markdown=i18n.t(key, _lang(ctx, room_id), number=problem.number, title=escape_markdown(problem.title),
                                                  services=", ".join(services), **values), purpose=f"problem:{problem.number}", bulk=True)
    return len(rooms)


def problems(ctx: Context, args: Args) -> None:
    """Open problems with their owners and linked incidents."""
    args.none()
    found = ctx.session.scalars(select(Problem).where(Problem.status == "open").order_by(Problem.id)).all()
    if not found:
        ctx.reply(ctx.t("prb.none"))
        return
    lines = [ctx.t("prb.list.title")]
    for p in found:
        numbers = ", ".join(t.number for t in (ctx.session.get(Ticket, i) for i in p.ticket_ids) if t is not None) or "—"
        lines.append(ctx.t("prb.list.line", number=p.number, title=escape_markdown(p.title), owner=escape_markdown(p.owner), tickets=numbers))
    ctx.reply("\n".join(lines))


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions and timers."""
    router.command("problem open", roles=STAFF, spaces=WHERE, usage="/problem open <title> [INC-… …]")(open_problem)
    router.command("problem link", roles=STAFF, spaces=WHERE, usage="/problem link <PRB-number> <INC-…> [<INC-…> …]")(link)
    router.command("problem update", roles=STAFF, spaces=WHERE, usage="/problem update <PRB-number> customer|generic <text>")(update)
    router.command("problem close", roles=STAFF, spaces=WHERE, usage="/problem close <PRB-number> fixed|mitigated <text>")(close)
    router.command("problems", roles=STAFF, spaces=WHERE, usage="/problems")(problems)
