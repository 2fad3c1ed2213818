"""The /help, /contact and /ping commands."""

from __future__ import annotations

from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused, UnknownCommand
from bot.router import Args
from bot.text import escape_markdown
from commands.help.flows import render_contact


def help_command(ctx: Context, args: Args) -> None:
    """List the commands the asking person may use here (from the registry), or explain one."""
    if args.text.strip():
        ctx.reply(_one_command(ctx, args.text))
        return
    lines = [ctx.t("help.title")]
    for command in ctx.runtime.router.visible_to(ctx.actor.roles, ctx.space.kind):
        lines.append(ctx.t("help.line", usage=command.usage, summary=ctx.t(command.summary_key)))
    if ctx.space.room_type == "group":
        lines.append("")
        lines.append(ctx.t("help.footer", bot=ctx.runtime.webex.identity().display_name or "Bot"))
    ctx.reply("\n".join(lines))


def _one_command(ctx: Context, text: str) -> str:
    found = ctx.runtime.router.match(text)
    if found is None:
        raise UnknownCommand(command=escape_markdown(text.strip().split()[0][:40]))
    command, _ = found
    if command.roles and not ctx.actor.has_any(command.roles):
        raise Refused("help.needs_role", command=command.name, role=" or ".join(sorted(command.roles)))
    return ctx.t("help.one", usage=command.usage, summary=ctx.t(command.summary_key))


def contact(ctx: Context, args: Args) -> None:
    """The desk's phone, e-mail and portal, this organisation's own office hours, closed days and
    maintenance window, the out-of-hours rule and the escalation matrix."""
    args.none()
    profile = ctx.rules.profile(ctx.space.sla_profile) if ctx.space.sla_profile else None
    year = ctx.now().astimezone(AMSTERDAM).year
    ctx.reply(render_contact(ctx.rules.desk, ctx.lang, profile=profile, year=year, rules=ctx.rules))


def ping(ctx: Context, args: Args) -> None:
    """Answer with the version and the time in Amsterdam."""
    local = ctx.now().astimezone(AMSTERDAM)
    ctx.reply(ctx.t("ping.reply", version=ctx.runtime.version, time=local.strftime("%H:%M %Z, %a %d %b %Y")))
