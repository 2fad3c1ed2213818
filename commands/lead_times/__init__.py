"""Longer lead times: an RFC that became a project, or an exceptional RFI (SPEC §5).

An agent gives the new lead time in business days, with a reason (`/extend RFC-1001 10bd
<reason>`). It replaces the profile's lead time in the SLA engine, so the deadline is counted
from the opening on the target's calendar like the standard one, pauses included. The change
and its reason go on the timeline, the customer reads it in the thread, `/ticket`, `/sla` and
the countdown show the target as extended, the staff's warnings follow the new budget, and
`/report` counts the target as extended instead of breached.
"""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from bot.security import AGENT
from commands.common.threads import WHERE_TICKETS_ARE
from commands.lead_times import handlers


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands."""
    router.command(
        "extend", roles=frozenset({AGENT}), spaces=WHERE_TICKETS_ARE, usage="/extend <number> <N>bd <reason>"
    )(handlers.extend_command)
