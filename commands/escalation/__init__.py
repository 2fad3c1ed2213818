"""Escalation along the desk's matrix: one level at a time, 24/7, always with a reason.

Customers and agents escalate (`/escalate`), agents lower the level (`/deescalate`). Each
step gives the customer the level's contact (phone as a tel: link), alerts the staff space,
and messages the level's Webex contact directly when the matrix names one. Escalating is not
a priority change.
"""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from bot.security import AGENT, CUSTOMER
from commands.common.threads import WHERE_TICKETS_ARE
from commands.escalation import handlers


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands."""
    router.command(
        "escalate", roles=frozenset({CUSTOMER, AGENT}), spaces=WHERE_TICKETS_ARE, usage="/escalate <number> <reason>"
    )(handlers.escalate_command)
    router.command(
        "deescalate", roles=frozenset({AGENT}), spaces=WHERE_TICKETS_ARE, usage="/deescalate <number> <reason>"
    )(handlers.deescalate_command)
