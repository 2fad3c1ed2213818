"""Generic disruptions: broadcast with promised update times, detection, linked tickets, closure, RCA.

Every notice carries impact, actions taken, next steps and the time of the next update, and
goes through the outbox to each audience space (subscribers of an affected service, spaces
without subscriptions, and spaces with a linked ticket), so a broadcast to thousands of
spaces respects Webex's rate limits and per-space order. The staff is reminded ten minutes
before a promised update and alerted when it is overdue; an update in time cancels both. A
P1-level disruption has a root cause analysis (and only those do): the staff are reminded on its
target day and at its deadline until it is delivered to every space that received the notices.
"""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from bot.security import CUSTOMER, IN_CUSTOMER
from cards import disruptions as dis_cards
from cards.disruptions import Action
from commands import events
from commands.disruptions import reminders
from commands.disruptions.detection import on_ticket_opened
from commands.disruptions.handlers import (
    AGENTS,
    RCA_ROLES,
    STAFF_ONLY,
    affected,
    close_button,
    close_command,
    link_command,
    list_command,
    mine,
    open_button,
    open_command,
    proposal_dismiss,
    proposal_open,
    rca_command,
    show_command,
    unlink_command,
    update_button,
    update_command,
)


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions, timers and listeners."""
    events.ticket_opened.connect(on_ticket_opened, weak=False)
    timers.handler(reminders.DUE)(reminders.on_due)
    timers.handler(reminders.RCA)(reminders.on_rca)
    router.card_action(
        Action.PROPOSAL_OPEN, fields=dis_cards.PROPOSAL_FIELDS, roles=AGENTS, spaces=STAFF_ONLY, once=True
    )(proposal_open)
    router.card_action(
        Action.PROPOSAL_DISMISS, fields=dis_cards.PROPOSAL_FIELDS, roles=AGENTS, spaces=STAFF_ONLY, once=True
    )(proposal_dismiss)
    router.command(
        "disruption open",
        roles=AGENTS,
        spaces=STAFF_ONLY,
        usage='/disruption open [services=M2M severity=P2 impact="…" actions="…" next_steps="…" next_update=14:30]',
    )(open_command)
    router.card_action(Action.OPEN, fields=dis_cards.OPEN_FIELDS, roles=AGENTS, spaces=STAFF_ONLY, once=True)(
        open_button
    )
    router.command(
        "disruption update",
        roles=AGENTS,
        spaces=STAFF_ONLY,
        usage='/disruption update <DIS-number> [impact="…" actions="…" next_steps="…" next_update=15:30]',
    )(update_command)
    router.card_action(Action.UPDATE, fields=dis_cards.UPDATE_FIELDS, roles=AGENTS, spaces=STAFF_ONLY, once=True)(
        update_button
    )
    router.command(
        "disruption close",
        roles=AGENTS,
        spaces=STAFF_ONLY,
        usage='/disruption close <DIS-number> [summary="…" cause="…" rca=true]',
    )(close_command)
    router.card_action(Action.CLOSE, fields=dis_cards.CLOSE_FIELDS, roles=AGENTS, spaces=STAFF_ONLY, once=True)(
        close_button
    )
    router.command(
        "disruption rca", roles=RCA_ROLES, spaces=STAFF_ONLY, usage="/disruption rca <DIS-number> <link or text>"
    )(rca_command)
    router.command(
        "disruption link", roles=AGENTS, spaces=STAFF_ONLY, usage="/disruption link <DIS-number> <ticket> [<ticket> …]"
    )(link_command)
    router.command(
        "disruption unlink",
        roles=AGENTS,
        spaces=STAFF_ONLY,
        usage="/disruption unlink <DIS-number> <ticket> [<ticket> …]",
    )(unlink_command)
    router.card_action(
        Action.AFFECTED,
        fields=dis_cards.NOTICE_FIELDS,
        roles=frozenset({CUSTOMER}),
        spaces=frozenset({IN_CUSTOMER}),
        once=True,
    )(affected)
    router.card_action(
        Action.MINE, fields=dis_cards.NOTICE_FIELDS, roles=frozenset({CUSTOMER}), spaces=frozenset({IN_CUSTOMER})
    )(mine)
    router.command("disruptions", roles=AGENTS, spaces=STAFF_ONLY, usage="/disruptions")(list_command)
    router.command("disruption", roles=AGENTS, spaces=STAFF_ONLY, usage="/disruption <DIS-number>")(show_command)
