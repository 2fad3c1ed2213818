"""/help, /contact and /ping: what the asking person may do, how to reach the desk, and liveness."""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from commands.help.handlers import contact, help_command, ping


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands."""
    router.command("help", usage="/help [command]", summary="cmd.help")(help_command)
    router.command("contact", usage="/contact", summary="cmd.contact")(contact)
    router.command("ping", usage="/ping", summary="cmd.ping")(ping)
