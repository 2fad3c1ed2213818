"""/help and /ping: what the asking person may do here, and whether the bot is alive."""

from __future__ import annotations

from bot.clock import AMSTERDAM
from bot.context import Context
from bot.router import Args, router


@router.command("help", usage="/help", summary="cmd.help")
def help_command(ctx: Context, args: Args) -> None:
    """List the commands the asking person may use, generated from the registry."""
    lines = [ctx.t("help.title")]
    for command in router.visible_to(ctx.actor.roles):
        lines.append(ctx.t("help.line", usage=command.usage, summary=ctx.t(command.summary_key)))
    if ctx.space.room_type == "group":
        lines.append("")
        lines.append(ctx.t("help.footer", bot=ctx.runtime.webex.identity().display_name or "Bot"))
    ctx.reply("\n".join(lines))


@router.command("ping", usage="/ping", summary="cmd.ping")
def ping(ctx: Context, args: Args) -> None:
    """Answer with the version and the time in Amsterdam."""
    local = ctx.now().astimezone(AMSTERDAM)
    ctx.reply(ctx.t("ping.reply", version=ctx.runtime.version, time=local.strftime("%H:%M %Z, %a %d %b %Y")))
