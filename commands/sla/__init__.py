"""/sla: what the SLA clocks say — for a ticket, or for a record opened at a given moment."""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from commands.sla.handlers import USAGE, sla_command


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's command."""
    router.command("sla", usage=USAGE, summary="cmd.sla")(sla_command)
