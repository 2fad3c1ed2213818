"""Maintenance: announcing under the notice rule, the notices of each moment and their timers."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot import i18n, outbox, parse
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.scheduler import TimerContext, cancel, schedule
from bot.text import escape_markdown
from cards import maintenance as mnt_cards
from commands.common.audience import audience, service_codes
from commands.common.office_hours import office_hours
from commands.maintenance.notices import notice_text
from commands.maintenance.queries import outside_windows, subscriptions_of
from rules import Rules
from storage import directory
from storage import tickets as store
from storage.models.operations import Maintenance, Subscription
from storage.models.runtime import Timer

NOTICE_DAYS = 10
NOTICE = "maintenance.notice"


def subscribe(ctx: Context, codes: list[str]) -> None:
    """This space gets the notices of these services too."""
    have = set(subscriptions_of(ctx.session, ctx.space.room_id))
    for code in codes:
        if code not in have:
            ctx.session.add(Subscription(room_id=ctx.space.room_id, service=code))
    ctx.audit(
        subject_type="space",
        subject=ctx.space.room_id,
        action="subscribed",
        new={"services": codes},
    )
    ctx.session.flush()


def unsubscribe(ctx: Context, codes: list[str]) -> None:
    """This space stops getting the notices of these services."""
    ctx.session.execute(
        delete(Subscription).where(Subscription.room_id == ctx.space.room_id, Subscription.service.in_(codes))
    )
    ctx.audit(
        subject_type="space",
        subject=ctx.space.room_id,
        action="unsubscribed",
        old={"services": codes},
    )


def earliest_planned_start(now: datetime, *, rules: Rules) -> datetime:
    """The first instant planned work may start: 10 business days after now."""
    return rules.office_calendar().add_business_days(now, NOTICE_DAYS)


def instant(ctx: Context, text: str, field: str) -> datetime:
    """A local date and time a person typed, as an instant."""
    return parse.local_instant(text, field=f"input.field.{field}", today=ctx.now().astimezone(AMSTERDAM).date())


def _check_windows(ctx: Context, services: list[str], start: datetime, end: datetime) -> None:
    """Refuse planned work outside the maintenance window of an organisation that uses the services."""
    conflicts = outside_windows(ctx.session, services, start, end, rules=ctx.rules)
    if conflicts:
        lines = [
            ctx.t(
                "mnt.error.window.line",
                org=escape_markdown(org),
                window=office_hours(ctx.rules.calendar(window), ctx.lang),
            )
            for org, window in conflicts
        ]
        raise Refused(
            "mnt.error.window",
            start=i18n.when(start, ctx.lang, AMSTERDAM),
            end=i18n.when(end, ctx.lang, AMSTERDAM),
            orgs="\n".join(lines),
        )


def announce(ctx: Context, inputs: dict[str, Any]) -> Maintenance:
    """Check the announcement, register it and tell its audience (ad-hoc at once; planned: ≥ 10 business days ahead)."""
    raw_services = inputs.get("services", "")
    words = raw_services if isinstance(raw_services, list) else str(raw_services).replace(",", " ").split()
    services = service_codes(words, ctx)
    if not services:
        raise Refused("mnt.error.services")
    start = instant(ctx, str(inputs.get("start", "")), "start")
    end = instant(ctx, str(inputs.get("end", "")), "end")
    impact = str(inputs.get("impact", "")).strip()
    adhoc = str(inputs.get("adhoc", "false")).lower() == "true"
    reason = str(inputs.get("reason", "")).strip() or None
    now = ctx.now()
    if not impact:
        raise Refused("mnt.error.impact")
    if len(impact) > mnt_cards.IMPACT_MAX or (reason and len(reason) > mnt_cards.IMPACT_MAX):
        raise Refused(
            "form.error.too_long",
            field=ctx.t("mnt.field.impact"),
            limit=mnt_cards.IMPACT_MAX,
            length=max(len(impact), len(reason or "")),
        )
    if start < now:
        raise Refused("mnt.error.past", start=i18n.when(start, ctx.lang, AMSTERDAM))
    if end <= start:
        raise Refused("mnt.error.order")
    if adhoc and not reason:
        raise Refused("mnt.error.reason")
    earliest = earliest_planned_start(now, rules=ctx.rules)
    if not adhoc and start < earliest:
        raise Refused("mnt.error.notice", days=NOTICE_DAYS, earliest=i18n.when(earliest, ctx.lang, AMSTERDAM))
    if not adhoc:
        _check_windows(ctx, services, start, end)
    number = store.next_number(ctx.session, prefix="MNT")
    maintenance = Maintenance(
        number=number,
        services=services,
        starts_at=start,
        ends_at=end,
        impact=impact,
        planned=not adhoc,
        reason=reason,
        status="announced",
        audience=[],
        created_by=ctx.actor.email,
        created_at=now,
    )
    ctx.session.add(maintenance)
    ctx.session.flush()
    ctx.audit(
        subject_type="maintenance",
        subject=number,
        action="announced",
        new={"services": services, "start": start.isoformat(), "end": end.isoformat(), "planned": not adhoc},
        at=now,
    )
    rooms = audience(ctx.session, services, rules=ctx.rules)
    _notify(ctx.session, maintenance, rooms, "announced", now)
    maintenance.audience = rooms
    _plan(ctx.session, maintenance, now, rules=ctx.rules)
    ctx.reply(ctx.t("mnt.announced", number=number, count=len(rooms)))
    return maintenance


def _notify(
    session: Session, maintenance: Maintenance, rooms: list[str], kind: str, now: datetime, **extra: object
) -> None:
    for room_id in rooms:
        lang = directory.space_language(session, room_id=room_id) or i18n.DEFAULT_LANGUAGE
        outbox.enqueue(
            session,
            now=now,
            room_id=room_id,
            markdown=notice_text(maintenance, kind, lang, **extra),
            purpose=f"maintenance:{maintenance.number}:{kind}",
            bulk=True,
        )


def reminder_at(maintenance: Maintenance, *, rules: Rules) -> datetime:
    """One business day before the start, inside office hours (at the opening if the same time is not)."""
    office = rules.office_calendar()
    start = maintenance.starts_at.astimezone(office.zone)
    day = start.date() - timedelta(days=1)
    while not office.is_business_day(day):
        day -= timedelta(days=1)
    same_time = datetime.combine(day, start.time()).replace(tzinfo=office.zone)
    if office.is_business_time(same_time):
        return same_time
    # Night work: remind at the opening of that business day rather than in the night.
    return office.next_business_instant(datetime.combine(day, time(0)).replace(tzinfo=office.zone))


def _plan(session: Session, maintenance: Maintenance, now: datetime, *, rules: Rules) -> None:
    ref = f"maintenance:{maintenance.id}"
    cancel(session, kind=NOTICE, ref=ref)
    if maintenance.status in ("completed", "cancelled"):
        return
    plan = []
    if maintenance.status == "announced":
        reminder = reminder_at(maintenance, rules=rules)
        if reminder > now:
            plan.append(("reminder", reminder))
        plan.append(("started", maintenance.starts_at))
    plan.append(("completed", maintenance.ends_at))
    for kind, when in plan:
        schedule(
            session,
            kind=NOTICE,
            ref=ref,
            due_at=when,
            now=now,
            payload={"maintenance_id": maintenance.id, "notice": kind},
        )


def on_notice(tctx: TimerContext, timer: Timer) -> None:
    """Reminder, started, completed: to the audience of this moment."""
    session, now = tctx.session, tctx.now
    maintenance = session.get(Maintenance, timer.payload["maintenance_id"])
    if maintenance is None or maintenance.status in ("completed", "cancelled"):
        return
    kind = timer.payload["notice"]
    if kind == "started":
        maintenance.status = "started"
    elif kind == "completed":
        maintenance.status = "completed"
    directory.audit(
        session,
        at=now,
        actor="system",
        room_id=None,
        subject_type="maintenance",
        subject=maintenance.number,
        action=kind,
    )
    _notify(session, maintenance, audience(session, maintenance.services, rules=tctx.rules), kind, now)


def reschedule(ctx: Context, maintenance: Maintenance, start: datetime, end: datetime) -> int:
    """Move a maintenance; its audience is told (how many returned), the reminder moves with it."""
    now = ctx.now()
    if start < now:
        raise Refused("mnt.error.past", start=i18n.when(start, ctx.lang, AMSTERDAM))
    if end <= start:
        raise Refused("mnt.error.order")
    if maintenance.planned and start < earliest_planned_start(now, rules=ctx.rules) and start < maintenance.starts_at:
        raise Refused(
            "mnt.error.notice",
            days=NOTICE_DAYS,
            earliest=i18n.when(earliest_planned_start(now, rules=ctx.rules), ctx.lang, AMSTERDAM),
        )
    if maintenance.planned:
        _check_windows(ctx, maintenance.services, start, end)
    old = {"start": maintenance.starts_at.isoformat(), "end": maintenance.ends_at.isoformat()}
    maintenance.starts_at, maintenance.ends_at = start, end
    ctx.audit(
        subject_type="maintenance",
        subject=maintenance.number,
        action="rescheduled",
        old=old,
        new={"start": start.isoformat(), "end": end.isoformat()},
        at=now,
    )
    rooms = audience(ctx.session, maintenance.services, rules=ctx.rules)
    _notify(ctx.session, maintenance, rooms, "rescheduled", now)
    _plan(ctx.session, maintenance, now, rules=ctx.rules)
    return len(rooms)


def change_scope(ctx: Context, maintenance: Maintenance, services: list[str]) -> tuple[int, int, int]:
    """New services: new audience gets the announcement, dropped audience a cancellation, the rest the
    change; (added, dropped, kept) spaces."""
    if maintenance.planned:
        _check_windows(ctx, services, maintenance.starts_at, maintenance.ends_at)
    now = ctx.now()
    before = audience(ctx.session, maintenance.services, rules=ctx.rules)
    old = list(maintenance.services)
    maintenance.services = services
    after = audience(ctx.session, services, rules=ctx.rules)
    ctx.audit(
        subject_type="maintenance",
        subject=maintenance.number,
        action="scope changed",
        old={"services": old},
        new={"services": services},
        at=now,
    )
    added = [r for r in after if r not in before]
    dropped = [r for r in before if r not in after]
    kept = [r for r in after if r in before]
    _notify(ctx.session, maintenance, added, "announced", now)
    _notify(ctx.session, maintenance, dropped, "cancelled_for_you", now)
    _notify(ctx.session, maintenance, kept, "changed", now)
    maintenance.audience = sorted(set(maintenance.audience) | set(added))
    return len(added), len(dropped), len(kept)


def cancel_maintenance(ctx: Context, maintenance: Maintenance, reason: str) -> int:
    """Cancel: every pending notice stops; the audience is told once (how many returned)."""
    now = ctx.now()
    maintenance.status = "cancelled"
    ctx.audit(
        subject_type="maintenance",
        subject=maintenance.number,
        action="cancelled",
        new={"reason": reason},
        at=now,
    )
    _plan(ctx.session, maintenance, now, rules=ctx.rules)
    rooms = audience(ctx.session, maintenance.services, rules=ctx.rules)
    _notify(ctx.session, maintenance, rooms, "cancelled", now, reason=escape_markdown(reason))
    return len(rooms)
