"""/report and `run_bot.py report`: per organisation and month, tickets and how their SLAs went.

In chat a block per organisation (Webex has no markdown tables) and the CSV as a file.

For the tickets opened in a month (Amsterdam time): counts by kind and priority; per target
how many were met, breached, still running, best effort (roaming, counted apart) and extended
(an RFC or RFI given a longer lead time, met or running within it: counted apart, not as a
breach); median and 90th percentile of the elapsed time to first response and to resolution.
"""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from bot.security import ADMIN, AGENT, IN_DIRECT, IN_STAFF, PROBLEM_MANAGER
from commands.report.handlers import report_command


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions and timers."""
    router.command(
        "report",
        roles=frozenset({AGENT, PROBLEM_MANAGER, ADMIN}),
        spaces=frozenset({IN_STAFF, IN_DIRECT}),
        usage="/report [YYYY-MM]",
    )(report_command)
