"""Maintenance: subscriptions, announcements under the 10-business-day notice rule, the notice life cycle.

Audience: customer spaces subscribed to an affected service, and customer spaces with no
subscriptions at all (they get everything, unless DESK_FILE's [notices] says "none"). Each notice (announcement, reminder one business
day before, started, completed, rescheduled, changed, cancelled) is computed for the audience
of that moment and goes through the outbox; the timers are re-planned on every change, so a
moved or cancelled maintenance never sends a stale notice. Planned work (announced, moved or
widened to more services) must also fall inside the maintenance window of every organisation
using an affected service whose SLA profile has one; ad-hoc work is exempt.
"""

from __future__ import annotations

from bot.router import Router
from bot.scheduler import TimerRegistry
from bot.security import AGENT, CUSTOMER, IN_STAFF
from cards import maintenance as mnt_cards
from commands import events
from commands.maintenance import flows
from commands.maintenance.handlers import (
    AGENTS,
    CUSTOMERS,
    IN_CUSTOMER_SPACE,
    WHERE,
    announce_button,
    announce_command,
    cancel_command,
    maintenance_command,
    reschedule,
    scope,
    subscribe,
    subscriptions,
    unsubscribe,
)
from commands.maintenance.notices import on_incident_intake


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions, timers and listeners."""
    events.incident_intake.connect(on_incident_intake, weak=False)
    router.command("subscribe", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/subscribe <service> [<service> …]")(
        subscribe
    )
    router.command(
        "unsubscribe", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/unsubscribe <service> [<service> …]"
    )(unsubscribe)
    router.command("subscriptions", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/subscriptions")(subscriptions)
    router.command(
        "maintenance announce",
        roles=AGENTS,
        spaces=frozenset({IN_STAFF}),
        usage='/maintenance announce [services=M2M,LoRa start="2026-12-10 01:00" end="2026-12-10 05:00" impact="…" adhoc=true reason="…"]',
    )(announce_command)
    router.card_action(
        mnt_cards.Action.ANNOUNCE,
        fields=mnt_cards.ANNOUNCE_FIELDS,
        roles=AGENTS,
        spaces=frozenset({IN_STAFF}),
        once=True,
    )(announce_button)
    timers.handler(flows.NOTICE)(flows.on_notice)
    router.command(
        "maintenance reschedule",
        roles=AGENTS,
        spaces=frozenset({IN_STAFF}),
        usage='/maintenance reschedule <MNT-number> "<start>" "<end>"',
    )(reschedule)
    router.command(
        "maintenance scope",
        roles=AGENTS,
        spaces=frozenset({IN_STAFF}),
        usage="/maintenance scope <MNT-number> <service> [<service> …]",
    )(scope)
    router.command(
        "maintenance cancel",
        roles=AGENTS,
        spaces=frozenset({IN_STAFF}),
        usage="/maintenance cancel <MNT-number> <reason>",
    )(cancel_command)
    router.command("maintenance", roles=frozenset({CUSTOMER, AGENT}), spaces=WHERE, usage="/maintenance [MNT-number]")(
        maintenance_command
    )
