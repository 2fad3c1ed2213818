"""/escalate and /deescalate: parse, authorise, call the flow."""

from __future__ import annotations

from bot.context import Context
from bot.errors import Refused
from bot.router import Args
from commands.common.threads import find_ticket, number_and_rest
from commands.escalation import flows

REASON_MAX = 200


def _reason(ctx: Context, args: Args) -> tuple[str | None, str]:
    number, reason = number_and_rest(ctx, args)
    if not reason:
        raise Refused("escalate.reason", usage=args.usage)
    if len(reason) > REASON_MAX:
        raise Refused("form.error.too_long", field=ctx.t("form.field.reason"), limit=REASON_MAX, length=len(reason))
    return number, reason


def escalate_command(ctx: Context, args: Args) -> None:
    """Escalate a ticket to the next level of the matrix."""
    number, reason = _reason(ctx, args)
    flows.escalate(ctx, find_ticket(ctx, number), reason, step=1)


def deescalate_command(ctx: Context, args: Args) -> None:
    """Lower a ticket's escalation level by one."""
    number, reason = _reason(ctx, args)
    flows.escalate(ctx, find_ticket(ctx, number), reason, step=-1)
