"""Paging commands and page-card buttons: parse, authorise, call a flow, reply."""

from __future__ import annotations

from typing import Any

from bot import parse
from bot.context import Context
from bot.errors import Refused
from bot.router import Args
from commands.paging import answers
from storage import tickets as store


def _page_id(inputs: dict[str, Any]) -> int | None:
    return parse.row_id(inputs.get("page"))


def ack_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Acknowledge, from the page card."""
    answers.acknowledge(ctx, str(inputs.get("ticket", "")), _page_id(inputs))


def decline_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Decline, from the page card."""
    answers.decline(ctx, str(inputs.get("ticket", "")), _page_id(inputs))


def ack_command(ctx: Context, args: Args) -> None:
    """Acknowledge a page by typing (when the card is out of reach)."""
    number = args.text.strip()
    if not store.normalise_number(number):
        raise Refused("ticket.which")
    answers.acknowledge(ctx, number, None)
