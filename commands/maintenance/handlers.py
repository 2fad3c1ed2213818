"""The maintenance and subscription commands: parse, call a flow, reply."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from bot import i18n
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.router import Args
from bot.security import AGENT, CUSTOMER, IN_CUSTOMER, IN_STAFF
from bot.text import escape_markdown
from cards import maintenance as mnt_cards
from commands.common.audience import audience, inline_fields, service_codes
from commands.maintenance import flows
from commands.maintenance.notices import notice_text
from commands.maintenance.queries import subscriptions_of
from storage import directory
from storage.models.operations import Maintenance

AGENTS = frozenset({AGENT})
CUSTOMERS = frozenset({CUSTOMER})
IN_CUSTOMER_SPACE = frozenset({IN_CUSTOMER})
WHERE = frozenset({IN_CUSTOMER, IN_STAFF})
_NUMBER = re.compile(r"^MNT-\d{1,9}$", re.IGNORECASE)


def subscribe(ctx: Context, args: Args) -> None:
    """Get maintenance and disruption notices for these services in this space."""
    codes = service_codes(args.words, ctx)
    if not codes:
        raise Refused("mnt.subscribe.usage", usage=args.usage, known=", ".join(s.code for s in ctx.rules.desk.services))
    flows.subscribe(ctx, codes)
    ctx.reply(ctx.t("mnt.subscriptions", services=", ".join(subscriptions_of(ctx.session, ctx.space.room_id))))


def unsubscribe(ctx: Context, args: Args) -> None:
    """Stop the notices of these services in this space."""
    codes = service_codes(args.words, ctx)
    if not codes:
        raise Refused("mnt.subscribe.usage", usage=args.usage, known=", ".join(s.code for s in ctx.rules.desk.services))
    flows.unsubscribe(ctx, codes)
    left = subscriptions_of(ctx.session, ctx.space.room_id)
    ctx.reply(ctx.t("mnt.subscriptions", services=", ".join(left)) if left else ctx.t("mnt.subscriptions.all"))


def subscriptions(ctx: Context, args: Args) -> None:
    """Which services this space gets notices for."""
    args.none()
    have = subscriptions_of(ctx.session, ctx.space.room_id)
    ctx.reply(ctx.t("mnt.subscriptions", services=", ".join(have)) if have else ctx.t("mnt.subscriptions.all"))


def announce_command(ctx: Context, args: Args) -> None:
    """The announcement form, or the fields inline."""
    fields = inline_fields(args.text)
    if not fields:
        ctx.reply(
            ctx.t("mnt.form.intro"),
            card=mnt_cards.announce_form(services=[(s.name, s.code) for s in ctx.rules.desk.services], lang=ctx.lang),
        )
        return
    flows.announce(ctx, fields)


def announce_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """The announcement form's submit: one maintenance per form."""
    return flows.announce(ctx, inputs).number


def _find(ctx: Context, number: str) -> Maintenance:
    if not _NUMBER.match(number.strip()):
        raise Refused("mnt.not_found", number=escape_markdown(number[:20]))
    found = ctx.session.scalar(select(Maintenance).where(Maintenance.number == number.strip().upper()))
    if found is None:
        raise Refused("mnt.not_found", number=number.strip().upper())
    return found


def reschedule(ctx: Context, args: Args) -> None:
    """Move a maintenance; its audience is told, the reminder moves with it."""
    words = args.words
    if len(words) != 3:
        raise Refused("mnt.reschedule.usage", usage=args.usage)
    maintenance = _find(ctx, words[0])
    if maintenance.status != "announced":
        raise Refused("mnt.not_changeable", number=maintenance.number)
    start, end = flows.instant(ctx, words[1], "start"), flows.instant(ctx, words[2], "end")
    count = flows.reschedule(ctx, maintenance, start, end)
    ctx.reply(ctx.t("mnt.rescheduled", number=maintenance.number, count=count))


def scope(ctx: Context, args: Args) -> None:
    """Change the services: new audience gets the announcement, dropped audience a cancellation, the rest the change."""
    words = args.words
    if len(words) < 2:
        raise Refused("mnt.scope.usage", usage=args.usage)
    maintenance = _find(ctx, words[0])
    if maintenance.status not in ("announced", "started"):
        raise Refused("mnt.not_changeable", number=maintenance.number)
    added, dropped, kept = flows.change_scope(ctx, maintenance, service_codes(words[1:], ctx))
    ctx.reply(ctx.t("mnt.scoped", number=maintenance.number, added=added, dropped=dropped, kept=kept))


def cancel_command(ctx: Context, args: Args) -> None:
    """Cancel: every pending notice stops; the audience is told once."""
    number, _, reason = args.text.strip().partition(" ")
    maintenance = _find(ctx, number)
    if maintenance.status not in ("announced", "started"):
        raise Refused("mnt.not_changeable", number=maintenance.number)
    if not reason.strip():
        raise Refused("mnt.cancel.reason", usage=args.usage)
    count = flows.cancel_maintenance(ctx, maintenance, reason.strip())
    ctx.reply(ctx.t("mnt.cancelled", number=maintenance.number, count=count))


def maintenance_command(ctx: Context, args: Args) -> None:
    """Upcoming and running maintenance for this space's services, or one maintenance with its history."""
    now = ctx.now()
    if args.text.strip():
        maintenance = _find(ctx, args.text.strip())
        if ctx.space.kind == IN_CUSTOMER and ctx.space.room_id not in maintenance.audience + audience(
            ctx.session, maintenance.services, rules=ctx.rules
        ):
            raise Refused("mnt.not_found", number=maintenance.number)
        lines = [notice_text(maintenance, "view", ctx.lang, status=ctx.t(f"mnt.status.{maintenance.status}"))]
        for entry in directory.timeline(ctx.session, subject_type="maintenance", subject=maintenance.number):
            lines.append(
                ctx.t(
                    "ticket.view.entry",
                    when=i18n.when(entry.at, ctx.lang, AMSTERDAM),
                    who=escape_markdown(entry.actor),
                    what=entry.action,
                )
            )
        ctx.reply("\n".join(lines))
        return
    found = ctx.session.scalars(
        select(Maintenance)
        .where(Maintenance.status.in_(("announced", "started")), Maintenance.ends_at > now)
        .order_by(Maintenance.starts_at)
    ).all()
    if ctx.space.kind == IN_CUSTOMER:
        mine = set(subscriptions_of(ctx.session, ctx.space.room_id))
        found = [m for m in found if not mine or mine & set(m.services)]
    if not found:
        ctx.reply(ctx.t("mnt.none"))
        return
    lines = [ctx.t("mnt.list.title")]
    for m in found:
        lines.append(
            ctx.t(
                "mnt.list.line",
                number=m.number,
                services=", ".join(m.services),
                start=i18n.when(m.starts_at, ctx.lang, AMSTERDAM),
                end=i18n.when(m.ends_at, ctx.lang, AMSTERDAM),
                status=ctx.t(f"mnt.status.{m.status}"),
            )
        )
    ctx.reply("\n".join(lines))
