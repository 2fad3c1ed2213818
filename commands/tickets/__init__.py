"""Tickets from chat: intake, the lifecycle, the customer's and the staff's views.

Handlers (handlers.py) parse and authorise; the flows (intake.py, lifecycle.py, priority.py,
customer.py, views.py) are shared by text commands and card buttons. Every flow changes the
ticket through storage.tickets, so each step is on the timeline, talks to the customer in the
ticket's thread, and tells clocks, paging, watchers and disruptions what happened through
commands.events.
"""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from bot.security import AGENT, CUSTOMER, ENGINEER, IN_CUSTOMER, IN_DIRECT, IN_STAFF
from cards import intake as intake_cards
from cards import paging as page_cards
from cards import tickets as ticket_cards
from cards.tickets import Action
from commands import events
from commands.common.threads import WHERE_TICKETS_ARE
from commands.tickets import handlers as h
from commands.tickets import intake, lifecycle
from commands.tickets.shared import AFTERCARE_ROLES, AGENTS, CUSTOMERS, CUSTOMERS_OR_AGENTS, IN_CUSTOMER_SPACE, KINDS

# Who answers a page: the engineers on call, and agents.
_ENGINEERS = frozenset({ENGINEER, AGENT})
_STAFF_OR_DIRECT = frozenset({IN_STAFF, IN_DIRECT})


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions and listeners."""
    for kind in KINDS:
        router.command(
            kind,
            roles=CUSTOMERS_OR_AGENTS,
            spaces=IN_CUSTOMER_SPACE,
            usage=f"/{kind} [title | field=value …]",
            summary=f"cmd.{kind}",
            unlimited=h.asks_for_p1,
        )(h.intake_command(kind))
    router.card_action(
        Action.CREATE, fields=intake_cards.INTAKE_FIELDS, roles=CUSTOMERS_OR_AGENTS, spaces=IN_CUSTOMER_SPACE, once=True
    )(h.create_from_card)
    router.command("tickets", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/tickets")(h.tickets_command)
    router.command("queue", roles=AGENTS, spaces=frozenset({IN_STAFF}), usage="/queue")(h.queue_command)
    router.command("ticket", roles=CUSTOMERS_OR_AGENTS, spaces=WHERE_TICKETS_ARE, usage="/ticket <number>")(
        h.ticket_command
    )
    router.command("take", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/take <number>")(h.take_command)
    router.command("respond", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/respond <number> <text>")(
        h.respond_command
    )
    router.command("wait", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/wait <number> <question>")(h.wait_command)
    router.command("resolve", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/resolve <number>")(h.resolve_command)
    router.command("close", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/close <number> <outcome>")(h.close_command)
    router.command(
        "priority",
        roles=frozenset({CUSTOMER, AGENT, ENGINEER}),
        spaces=frozenset({IN_CUSTOMER, IN_STAFF, IN_DIRECT}),
        usage="/priority <number> P1|P2|P3 <reason>",
        unlimited=h.raises_to_p1,
    )(h.priority_command)
    router.command("convert", roles=AGENTS, spaces=WHERE_TICKETS_ARE, usage="/convert <RFI-number> incident")(
        h.convert_command
    )
    router.command("note", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/note <number> <text>")(h.note_command)
    router.command("confirm", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/confirm <number>")(h.confirm_command)
    router.command("reopen", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/reopen <number> <reason>")(
        h.reopen_command
    )
    router.thread_reply(h.reply_in_thread)
    router.card_action(Action.TAKE, fields=ticket_cards.TICKET_FIELDS, roles=AGENTS, spaces=WHERE_TICKETS_ARE)(
        h.take_button
    )
    router.card_action(Action.RESPOND, fields=ticket_cards.RESPOND_FIELDS, roles=AGENTS, spaces=WHERE_TICKETS_ARE)(
        h.respond_button
    )
    router.card_action(
        Action.PRIORITY,
        fields=ticket_cards.PRIORITY_FIELDS,
        roles=AGENTS,
        spaces=WHERE_TICKETS_ARE,
        unlimited=lambda inputs: str(inputs.get("priority", "")).strip().upper() == "P1",
    )(h.priority_button)
    router.card_action(
        Action.RESOLVE, fields=ticket_cards.RESOLVE_FIELDS, roles=AGENTS, spaces=WHERE_TICKETS_ARE, once=True
    )(h.resolve_button)
    router.card_action(
        Action.ANSWER,
        fields=ticket_cards.ANSWER_FIELDS,
        roles=CUSTOMERS,
        spaces=IN_CUSTOMER_SPACE,
        once=True,
        already="ticket.answer.already",
    )(h.answer_button)
    router.card_action(
        Action.SOLVED, fields=ticket_cards.TICKET_FIELDS, roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, unlimited=True
    )(h.solved_button)
    router.card_action(
        Action.NOT_SOLVED,
        fields=ticket_cards.NOT_SOLVED_FIELDS,
        roles=CUSTOMERS,
        spaces=IN_CUSTOMER_SPACE,
        unlimited=True,
    )(h.not_solved_button)
    router.card_action(
        Action.ASK_IN,
        fields=ticket_cards.ASK_IN_FIELDS,
        roles=CUSTOMERS,
        spaces=IN_CUSTOMER_SPACE,
        once=True,
        already="ticket.ask_in.already",
    )(h.ask_in_button)
    router.command("rfo", roles=AFTERCARE_ROLES, spaces=WHERE_TICKETS_ARE, usage="/rfo <number> <link or text>")(
        h.rfo_command
    )
    router.command("rca", roles=AFTERCARE_ROLES, spaces=WHERE_TICKETS_ARE, usage="/rca <number> <link or text>")(
        h.rca_command
    )
    # The page card's decision and "Open ticket" act on the ticket: they belong here, not to paging.
    router.card_action(
        page_cards.Action.PRIORITY,
        fields=page_cards.DECISION_FIELDS,
        roles=_ENGINEERS,
        spaces=_STAFF_OR_DIRECT,
        unlimited=True,
    )(h.decision_button)
    router.card_action(
        page_cards.Action.VIEW, fields=page_cards.VIEW_FIELDS, roles=_ENGINEERS, spaces=_STAFF_OR_DIRECT
    )(h.view_button)
    events.disruption_closed.connect(lifecycle.on_disruption_closed, weak=False)
    events.disruption_affected.connect(intake.on_disruption_affected, weak=False)
