"""The /report command: the month asked for, its figures in chat and as a CSV file."""

from __future__ import annotations

from bot import parse
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.router import Args
from commands.report.queries import build
from commands.report.render import csv_file, to_markdown


def report_command(ctx: Context, args: Args) -> None:
    """Per organisation, this month's (or the given month's) tickets and SLA results."""
    month = args.text.strip() or ctx.now().astimezone(AMSTERDAM).strftime("%Y-%m")
    parse.month(month, field="input.field.month")
    reports = build(ctx.session, month=month, now=ctx.now(), rules=ctx.rules)
    # Bulk: a long report waits behind pages and answers, not the other way round.
    ctx.reply(to_markdown(reports, month=month, lang=ctx.lang), bulk=True)
    if reports:
        # The figures as a file to open in a spreadsheet: Webex takes one file per message.
        ctx.reply(ctx.t("report.file", month=month), files=[csv_file(reports, month=month)], bulk=True)
