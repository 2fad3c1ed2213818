"""Finding the ticket a command is about, posting in its thread, and the language of each space."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot import i18n, logs
from bot.context import Context
from bot.errors import Refused
from bot.events import MessageEvent
from bot.router import Args
from bot.security import IN_CUSTOMER, IN_STAFF
from bot.text import escape_markdown
from cards import tickets as ticket_cards
from storage import directory
from storage import tickets as store
from storage.models.tickets import Ticket

WHERE_TICKETS_ARE = frozenset({IN_CUSTOMER, IN_STAFF})


def find_ticket(ctx: Context, number: str | None, *, for_update: bool = True) -> Ticket:
    """The ticket named, or the one whose thread this is; other organisations' tickets look missing."""
    # In a customer space only that organisation's tickets exist; the staff space sees all.
    org_id = None if ctx.space.kind == IN_STAFF else ctx.space.org_id
    if number:
        ticket = store.find(ctx.session, number=number, org_id=org_id, for_update=for_update)
        if ticket is None:
            raise Refused("ticket.not_found", number=store.normalise_number(number) or escape_markdown(number[:20]))
        logs.note(ticket=ticket.number)
        return ticket
    event = ctx.event
    root = event.parent_id if isinstance(event, MessageEvent) else None
    ticket = store.by_thread(ctx.session, root_message_id=root) if root else None
    if ticket is None or (org_id is not None and ticket.org_id != org_id):
        raise Refused("ticket.which")
    return ticket


def number_and_rest(ctx: Context, args: Args, *, need_rest: str | None = None) -> tuple[str | None, str]:
    """'INC-1001 some text' → ('INC-1001', 'some text'); the number may be left out in a ticket's thread."""
    text = args.text.strip()
    first, _, rest = text.partition(" ")
    if store.normalise_number(first):
        number, rest = first, rest.strip()
    else:
        number, rest = None, text
    if need_rest and not rest:
        raise Refused("ticket.missing", what=ctx.t(f"ticket.what.{need_rest}"), usage=args.usage)
    if len(rest) > ticket_cards.TEXT_MAX:
        raise Refused(
            "form.error.too_long",
            field=ctx.t(f"form.field.{need_rest or 'text'}"),
            limit=ticket_cards.TEXT_MAX,
            length=len(rest),
        )
    return number, rest


def post_in_thread(
    ctx: Context, ticket: Ticket, markdown: str, *, card: dict[str, Any] | None = None, must_reach: bool = False
) -> None:
    """A message (with a card, if given) in the ticket's thread in the customer space. While the bot
    cannot post there it is left out; when the message is what the command is for (`must_reach`),
    the command is refused."""
    if not directory.reachable(ctx.session, room_id=ticket.room_id):
        if must_reach:
            raise Refused("space.cannot_reach", number=ticket.number)
        return
    ctx.send(
        room_id=ticket.room_id,
        markdown=markdown,
        card=card,
        parent_outbox_id=ticket.root_outbox_id,
        purpose=f"ticket:{ticket.number}",
    )


def any_ticket(ctx: Context, number: str) -> Ticket:
    """The ticket named, of any organisation (a page card or a typed acknowledgement names it), locked."""
    ticket = (
        store.find(ctx.session, number=number, org_id=None, for_update=True) if store.normalise_number(number) else None
    )
    if ticket is None:
        raise Refused("ticket.not_found", number=store.normalise_number(number) or escape_markdown(number[:20]))
    return ticket


def customer_lang(session: Session, ticket: Ticket) -> str:
    """The language of the ticket's customer space."""
    return room_lang(session, ticket.room_id)


def room_lang(session: Session, room_id: str) -> str:
    """The language the bot speaks in a group space."""
    return directory.space_language(session, room_id=room_id) or i18n.DEFAULT_LANGUAGE


def staff_lang(session: Session) -> tuple[str | None, str]:
    """(room id, language) of the staff space, if there is one."""
    spaces = directory.staff_spaces(session)
    if not spaces:
        return None, i18n.DEFAULT_LANGUAGE
    return spaces[0].room_id, spaces[0].language or i18n.DEFAULT_LANGUAGE
