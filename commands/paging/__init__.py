"""P1 paging: the on-call rota (rota.py), pages with Acknowledge / Decline, re-pages and the rota's
end (flows.py), the answers to a page (answers.py). Paging follows the tickets' events: a P1 requested or set pages, a resolution or
a lower priority stops it."""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from bot.security import AGENT, ENGINEER, IN_DIRECT, IN_STAFF, STAFF_ROLES
from cards import paging as page_cards
from cards.paging import Action
from commands import events
from commands.paging import flows, handlers, rota

STAFF_OR_DIRECT = frozenset({IN_STAFF, IN_DIRECT})
ENGINEERS = frozenset({ENGINEER, AGENT})


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions, timers and listeners."""
    timers.handler(flows.PAGE_TIMEOUT)(flows.on_timeout)
    timers.on_undeliverable(flows.on_undeliverable)
    router.card_action(
        Action.ACK, fields=page_cards.PAGE_FIELDS, roles=ENGINEERS, spaces=STAFF_OR_DIRECT, unlimited=True
    )(handlers.ack_button)
    router.card_action(
        Action.DECLINE, fields=page_cards.PAGE_FIELDS, roles=ENGINEERS, spaces=STAFF_OR_DIRECT, unlimited=True
    )(handlers.decline_button)
    router.command("ack", roles=ENGINEERS, spaces=STAFF_OR_DIRECT, usage="/ack <number>", unlimited=True)(
        handlers.ack_command
    )
    router.command("oncall", roles=STAFF_ROLES, spaces=STAFF_OR_DIRECT, usage="/oncall [team]")(rota.oncall)
    router.command(
        "oncall set",
        roles=frozenset({AGENT}),
        spaces=STAFF_OR_DIRECT,
        usage="/oncall set <team> <email> [<email> …] [repage=<minutes>] [pages=<per engineer>]",
    )(rota.oncall_set)
    router.command("oncall swap", roles=ENGINEERS, spaces=STAFF_OR_DIRECT, usage="/oncall swap <email> [team]")(
        rota.oncall_swap
    )
    router.command(
        "oncall shift",
        roles=frozenset({AGENT}),
        spaces=STAFF_OR_DIRECT,
        usage="/oncall shift <team> <from> <to> <email>",
    )(rota.oncall_shift)
    events.ticket_opened.connect(flows.on_ticket_opened, weak=False)
    events.priority_requested.connect(flows.on_priority_requested, weak=False)
    events.priority_changed.connect(flows.on_priority_changed, weak=False)
    events.ticket_resolved.connect(flows.on_ticket_resolved, weak=False)
