"""What the maintenance commands read: subscriptions, organisations whose window planned work misses (never commits)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.common.audience import audience
from rules import Rules
from rules.calendar import Calendar
from storage import directory
from storage.models.operations import Subscription


def subscriptions_of(session: Session, room_id: str) -> list[str]:
    """The services a space subscribed to (empty: all)."""
    return list(
        session.scalars(
            select(Subscription.service).where(Subscription.room_id == room_id).order_by(Subscription.service)
        )
    )


def outside_windows(
    session: Session, services: list[str], start: datetime, end: datetime, *, rules: Rules
) -> list[tuple[str, str]]:
    """(organisation, window calendar) for each organisation using `services` whose profile has a
    maintenance window that work from `start` to `end` does not fall inside, by name."""
    found: dict[str, str] = {}
    # Every space using the services counts, also one the bot cannot post in now: its customers still use them.
    for room_id in audience(session, services, reachable_only=False, rules=rules):
        _, org = directory.space_and_org(session, room_id=room_id)
        if org is None or org.name in found:
            continue
        window = rules.profile(org.sla_profile).maintenance_window
        if window is not None and not inside(rules.calendar(window), start, end):
            found[org.name] = window
    return sorted(found.items())


def inside(window: Calendar, start: datetime, end: datetime) -> bool:
    """True when every instant from `start` to `end` lies inside the window's hours."""
    return window.business_time_between(start, end) == end.astimezone(UTC) - start.astimezone(UTC)
