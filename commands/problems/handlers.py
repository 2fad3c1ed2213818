"""The problem commands: parse, call a flow, reply."""

from __future__ import annotations

from bot.context import Context
from bot.errors import Refused
from bot.router import Args
from bot.text import escape_markdown
from commands.problems import flows
from commands.problems.queries import by_number, linked_tickets, open_problems, ticket_by_number
from storage import tickets as store
from storage.models.operations import Problem
from storage.models.tickets import Ticket

TITLE_MAX, TEXT_MAX = 200, 4000


def _find(ctx: Context, number: str) -> Problem:
    problem = by_number(ctx.session, number=number)
    if problem is None:
        raise Refused("prb.not_found", number=escape_markdown(number.strip().upper()[:20]))
    return problem


def _tickets(ctx: Context, words: list[str]) -> list[Ticket]:
    found = []
    for word in words:
        ticket = ticket_by_number(ctx.session, number=word)
        if ticket is None:
            raise Refused("ticket.not_found", number=store.normalise_number(word) or escape_markdown(word[:20]))
        found.append(ticket)
    return found


def _still_open(problem: Problem) -> None:
    if problem.status != "open":
        raise Refused("prb.closed", number=problem.number)


def _text(ctx: Context, text: str) -> str:
    if len(text) > TEXT_MAX:
        raise Refused("form.error.too_long", field=ctx.t("prb.field.text"), limit=TEXT_MAX, length=len(text))
    return text.strip()


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
    problem = flows.open_problem(ctx, title=title, tickets=tickets)
    ctx.reply(ctx.t("prb.opened", number=problem.number, owner=escape_markdown(problem.owner), count=len(tickets)))


def link(ctx: Context, args: Args) -> None:
    """Link more incidents to a problem."""
    words = args.words
    if len(words) < 2:
        raise Refused("prb.link.usage", usage=args.usage)
    problem = _find(ctx, words[0])
    flows.link(ctx, problem, _tickets(ctx, words[1:]))
    ctx.reply(ctx.t("prb.linked", number=problem.number, count=len(problem.ticket_ids)))


def update(ctx: Context, args: Args) -> None:
    """An update to the linked tickets' threads (customer) or to every affected space (generic)."""
    number, _, rest = args.text.strip().partition(" ")
    scope, _, text = rest.strip().partition(" ")
    problem = _find(ctx, number)
    if scope not in ("customer", "generic") or not text.strip():
        raise Refused("prb.update.usage", usage=args.usage)
    _still_open(problem)
    count = flows.update(ctx, problem, scope=scope, text=_text(ctx, text))
    ctx.reply(ctx.t("prb.sent", number=problem.number, count=count))


def close(ctx: Context, args: Args) -> None:
    """Close with the permanent fix, or with the mitigating actions when none is feasible."""
    number, _, rest = args.text.strip().partition(" ")
    how, _, text = rest.strip().partition(" ")
    problem = _find(ctx, number)
    if how not in ("fixed", "mitigated") or not text.strip():
        raise Refused("prb.close.usage", usage=args.usage)
    _still_open(problem)
    closed = flows.close(ctx, problem, how=how, text=_text(ctx, text))
    if not closed.generic:
        ctx.reply(ctx.t("prb.closed_done", number=problem.number, count=closed.told))
        return
    ctx.reply(
        ctx.t(
            "prb.closed_generic",
            number=problem.number,
            count=closed.told,
            spaces=closed.spaces,
            services=", ".join(closed.services) or "—",
        )
    )


def problems(ctx: Context, args: Args) -> None:
    """Open problems with their owners and linked incidents."""
    args.none()
    found = open_problems(ctx.session)
    if not found:
        ctx.reply(ctx.t("prb.none"))
        return
    lines = [ctx.t("prb.list.title")]
    for p in found:
        numbers = ", ".join(t.number for t in linked_tickets(ctx.session, p)) or "—"
        lines.append(
            ctx.t(
                "prb.list.line",
                number=p.number,
                title=escape_markdown(p.title),
                owner=escape_markdown(p.owner),
                tickets=numbers,
            )
        )
    ctx.reply("\n".join(lines))
