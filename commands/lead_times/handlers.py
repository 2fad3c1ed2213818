"""/extend: parse, authorise, call the flow."""

from __future__ import annotations

from bot.context import Context
from bot.router import Args
from commands.common.threads import find_ticket, number_and_rest
from commands.lead_times import flows


def extend_command(ctx: Context, args: Args) -> None:
    """Give an RFC or RFI a longer lead time, with the reason."""
    number, rest = number_and_rest(ctx, args, need_rest="lead_time")
    lead_time, _, reason = rest.partition(" ")
    flows.extend(ctx, find_ticket(ctx, number), lead_time, reason.strip())
