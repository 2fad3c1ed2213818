"""Problems (PRB): the cause behind incidents, owned by a problem manager, updated to those affected.

Customer-specific updates go to the threads of the linked tickets; generic ones to every space
subscribed to the services of the linked tickets. Closed with a permanent fix, or with the
mitigating actions when none is feasible: the linked tickets' threads are told, and when the
problem is generic (not tied to one customer) so is every other space subscribed to its services.
"""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from bot.security import AGENT, IN_STAFF, PROBLEM_MANAGER
from commands.problems.handlers import close, link, open_problem, problems, update

STAFF = frozenset({AGENT, PROBLEM_MANAGER})
WHERE = frozenset({IN_STAFF})


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands."""
    router.command("problem open", roles=STAFF, spaces=WHERE, usage="/problem open <title> [INC-… …]")(open_problem)
    router.command("problem link", roles=STAFF, spaces=WHERE, usage="/problem link <PRB-number> <INC-…> [<INC-…> …]")(
        link
    )
    router.command(
        "problem update", roles=STAFF, spaces=WHERE, usage="/problem update <PRB-number> customer|generic <text>"
    )(update)
    router.command(
        "problem close", roles=STAFF, spaces=WHERE, usage="/problem close <PRB-number> fixed|mitigated <text>"
    )(close)
    router.command("problems", roles=STAFF, spaces=WHERE, usage="/problems")(problems)
