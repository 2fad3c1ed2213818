"""Command families; importing this package registers every handler with the router."""

from commands import help  # noqa: F401
from commands import sla  # noqa: F401
from commands import admin  # noqa: F401
from commands import tickets  # noqa: F401
from commands import clocks  # noqa: F401
from commands import report  # noqa: F401
from commands import paging  # noqa: F401
from commands import escalation  # noqa: F401
from commands import lead_times  # noqa: F401
from commands import maintenance  # noqa: F401
from commands import disruptions  # noqa: F401
from commands import problems  # noqa: F401
