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

import re
from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import i18n, outbox, parse
from rules.calendar import Calendar
from rules import Rules
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.router import Args, Router
from bot.scheduler import TimerContext, cancel, schedule, TimerRegistry
from bot.security import AGENT, CUSTOMER, IN_CUSTOMER, IN_STAFF
from bot.text import escape_markdown
from cards import maintenance as mnt_cards
from commands.common.office_hours import office_hours
from storage import directory
from storage import tickets as store
from storage.models import Maintenance, SpaceRecord, Subscription

NOTICE_DAYS = 10
NOTICE = "maintenance.notice"
AGENTS = frozenset({AGENT})
CUSTOMERS = frozenset({CUSTOMER})
IN_CUSTOMER_SPACE = frozenset({IN_CUSTOMER})
WHERE = frozenset({IN_CUSTOMER, IN_STAFF})
_NUMBER = re.compile(r"^MNT-\d{1,9}$", re.IGNORECASE)


# -- subscriptions ------------------------------------------------------------------------------------


def service_codes(words: list[str], ctx: Context) -> list[str]:
    codes = []
    for word in words:
        for part in word.split(","):
            if not part:
                continue
            service = ctx.rules.desk.service(part)
            if service is None:
                raise Refused("mnt.unknown_service", service=escape_markdown(part[:40]),
                              known=", ".join(s.code for s in ctx.rules.desk.services))
            if service.code not in codes:
                codes.append(service.code)
    return codes


def subscriptions_of(session: Session, room_id: str) -> list[str]:
    """The services a space subscribed to (empty: all)."""
    return list(session.scalars(select(Subscription.service).where(Subscription.room_id == room_id).order_by(Subscription.service)))


def subscribe(ctx: Context, args: Args) -> None:
    """Get maintenance and disruption notices for these services in this space."""
    codes = service_codes(args.words, ctx)
    if not codes:
        raise Refused("mnt.subscribe.usage", usage=args.usage, known=", ".join(s.code for s in ctx.rules.desk.services))
    have = set(subscriptions_of(ctx.session, ctx.space.room_id))
    for code in codes:
        if code not in have:
            ctx.session.add(Subscription(room_id=ctx.space.room_id, service=code))
    directory.audit(ctx.session, at=ctx.now(), actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="space",
                    subject=ctx.space.room_id, action="subscribed", new={"services": codes})
    ctx.session.flush()
    ctx.reply(ctx.t("mnt.subscriptions", services=", ".join(subscriptions_of(ctx.session, ctx.space.room_id))))


def unsubscribe(ctx: Context, args: Args) -> None:
    """Stop the notices of these services in this space."""
    codes = service_codes(args.words, ctx)
    if not codes:
        raise Refused("mnt.subscribe.usage", usage=args.usage, known=", ".join(s.code for s in ctx.rules.desk.services))
    ctx.session.execute(delete(Subscription).where(Subscription.room_id == ctx.space.room_id, Subscription.service.in_(codes)))
    directory.audit(ctx.session, at=ctx.now(), actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="space",
                    subject=ctx.space.room_id, action="unsubscribed", old={"services": codes})
    left = subscriptions_of(ctx.session, ctx.space.room_id)
    ctx.reply(ctx.t("mnt.subscriptions", services=", ".join(left)) if left else ctx.t("mnt.subscriptions.all"))


def subscriptions(ctx: Context, args: Args) -> None:
    """Which services this space gets notices for."""
    args.none()
    have = subscriptions_of(ctx.session, ctx.space.room_id)
    ctx.reply(ctx.t("mnt.subscriptions", services=", ".join(have)) if have else ctx.t("mnt.subscriptions.all"))


def audience(session: Session, services: list[str], *, reachable_only: bool = True, rules: Rules) -> list[str]:
    """Customer spaces that get notices about `services`: subscribers, and spaces without subscriptions;
    not those the bot cannot post in now (removed from, or refused there) unless `reachable_only` is off."""
    query = select(SpaceRecord.room_id).where(SpaceRecord.kind == "customer")
    if reachable_only:
        query = query.where(SpaceRecord.state == directory.ACTIVE)
    spaces = session.scalars(query.order_by(SpaceRecord.room_id)).all()
    subs: dict[str, set[str]] = {}
    for room_id, service in session.execute(select(Subscription.room_id, Subscription.service)):
        subs.setdefault(room_id, set()).add(service)
    everything = rules.desk.unsubscribed_notices == "all"
    return [r for r in spaces if (r not in subs and everything) or subs.get(r, set()) & set(services)]


# -- announcing -----------------------------------------------------------------------------------------


def earliest_planned_start(now: datetime, *, rules: Rules) -> datetime:
    """The first instant planned work may start: 10 business days after now."""
    return rules.office_calendar().add_business_days(now, NOTICE_DAYS)


def outside_windows(session: Session, services: list[str], start: datetime, end: datetime, *, rules: Rules) -> list[tuple[str, str]]:
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
    return window.business_time_between(start, end) == end.astimezone(timezone.utc) - start.astimezone(timezone.utc)


def _check_windows(ctx: Context, services: list[str], start: datetime, end: datetime) -> None:
    """Refuse planned work outside the maintenance window of an organisation that uses the services."""
    conflicts = outside_windows(ctx.session, services, start, end, rules=ctx.rules)
    if conflicts:
        lines = [ctx.t("mnt.error.window.line", org=escape_markdown(org), window=office_hours(ctx.rules.calendar(window), ctx.lang))
                 for org, window in conflicts]
        raise Refused("mnt.error.window", start=i18n.when(start, ctx.lang, AMSTERDAM), end=i18n.when(end, ctx.lang, AMSTERDAM),
                      orgs="\n".join(lines))


def _instant(ctx: Context, text: str, field: str) -> datetime:
    return parse.local_instant(text, field=f"input.field.{field}", today=ctx.now().astimezone(AMSTERDAM).date())


def announce(ctx: Context, inputs: dict[str, Any]) -> Maintenance:
    """Check the announcement, register it and tell its audience (ad-hoc at once; planned: ≥ 10 business days ahead)."""
    raw_services = inputs.get("services", "")
    words = raw_services if isinstance(raw_services, list) else str(raw_services).replace(",", " ").split()
    services = service_codes(words, ctx)
    if not services:
        raise Refused("mnt.error.services")
    start = _instant(ctx, str(inputs.get("start", "")), "start")
    end = _instant(ctx, str(inputs.get("end", "")), "end")
    impact = str(inputs.get("impact", "")).strip()
    adhoc = str(inputs.get("adhoc", "false")).lower() == "true"
    reason = str(inputs.get("reason", "")).strip() or None
    now = ctx.now()
    if not impact:
        raise Refused("mnt.error.impact")
    if len(impact) > mnt_cards.IMPACT_MAX or (reason and len(reason) > mnt_cards.IMPACT_MAX):
        raise Refused("form.error.too_long", field=ctx.t("mnt.field.impact"), limit=mnt_cards.IMPACT_MAX, length=max(len(impact), len(reason or "")))
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
    maintenance = Maintenance(number=number, services=services, starts_at=start, ends_at=end, impact=impact, planned=not adhoc,
                              reason=reason, status="announced", audience=[], created_by=ctx.actor.email, created_at=now)
    ctx.session.add(maintenance)
    ctx.session.flush()
    directory.audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="maintenance", subject=number,
                    action="announced", new={"services": services, "start": start.isoformat(), "end": end.isoformat(), "planned": not adhoc})
    rooms = audience(ctx.session, services, rules=ctx.rules)
    _notify(ctx.session, maintenance, rooms, "announced", now)
    maintenance.audience = rooms
    _plan(ctx.session, maintenance, now, rules=ctx.rules)
    ctx.reply(ctx.t("mnt.announced", number=number, count=len(rooms)))
    return maintenance


def announce_command(ctx: Context, args: Args) -> None:
    """The announcement form, or the fields inline."""
    fields = inline_fields(args.text)
    if not fields:
        ctx.reply(ctx.t("mnt.form.intro"), card=mnt_cards.announce_form(services=[(s.name, s.code) for s in ctx.rules.desk.services],
                                                                        lang=ctx.lang))
        return
    announce(ctx, fields)


def announce_button(ctx: Context, inputs: dict[str, Any]) -> str:
    """The announcement form's submit: one maintenance per form."""
    return announce(ctx, inputs).number


def inline_fields(text: str) -> dict[str, str]:
    import shlex

    try:
        words = shlex.split(text)
    except ValueError:
        raise Refused("mnt.error.quotes") from None
    fields = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise Refused("mnt.error.field", word=escape_markdown(word[:40]))
        fields[key.lower()] = value
    return fields


# -- notices ---------------------------------------------------------------------------------------------


def _text(session: Session, maintenance: Maintenance, kind: str, lang: str, **extra: object) -> str:
    services = ", ".join(maintenance.services)
    start, end = i18n.when(maintenance.starts_at, lang, AMSTERDAM), i18n.when(maintenance.ends_at, lang, AMSTERDAM)
    lines = [i18n.t(f"mnt.notice.{kind}", lang, number=maintenance.number, services=services, start=start, end=end, **extra)]
    if kind in ("announced", "reminder", "rescheduled", "changed"):
        lines.append(i18n.t("mnt.notice.impact", lang, impact=escape_markdown(maintenance.impact)))
        if not maintenance.planned and maintenance.reason:
            lines.append(i18n.t("mnt.notice.adhoc", lang, reason=escape_markdown(maintenance.reason)))
    return "\n".join(lines)


def _notify(session: Session, maintenance: Maintenance, rooms: list[str], kind: str, now: datetime, **extra: object) -> None:
    for room_id in rooms:
        lang = directory.space_language(session, room_id=room_id) or i18n.DEFAULT_LANGUAGE
        outbox.enqueue(session, now=now, room_id=room_id, markdown=_text(session, maintenance, kind, lang, **extra),
                       purpose=f"maintenance:{maintenance.number}:{kind}", bulk=True)


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
        schedule(session, kind=NOTICE, ref=ref, due_at=when, now=now, payload={"maintenance_id": maintenance.id, "notice": kind})


def on_notice(tctx: TimerContext, timer: Any) -> None:
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
    directory.audit(session, at=now, actor="system", room_id=None, subject_type="maintenance", subject=maintenance.number, action=kind)
    _notify(session, maintenance, audience(session, maintenance.services, rules=tctx.rules), kind, now)


# -- changes ---------------------------------------------------------------------------------------------


def _find(ctx: Context, number: str) -> Maintenance:
    if not _NUMBER.match(number.strip()):
        raise Refused("mnt.not_found", number=escape_markdown(number[:20]))
    found = ctx.session.scalar(select(Maintenance).where(Maintenance.number == number.strip().upper()))
    if found is None:
        raise Refused("mnt.not_found", number=number.strip().upper())
    return found


def reschedule(ctx: Context, args: Args) -> None:
    """Move a maintenance; its audience is told, the reminder moves with it."""
    words = args.words
    if len(words) != 3:
        raise Refused("mnt.reschedule.usage", usage=args.usage)
    maintenance = _find(ctx, words[0])
    if maintenance.status != "announced":
        raise Refused("mnt.not_changeable", number=maintenance.number)
    start, end = _instant(ctx, words[1], "start"), _instant(ctx, words[2], "end")
    now = ctx.now()
    if start < now:
        raise Refused("mnt.error.past", start=i18n.when(start, ctx.lang, AMSTERDAM))
    if end <= start:
        raise Refused("mnt.error.order")
    if maintenance.planned and start < earliest_planned_start(now, rules=ctx.rules) and start < maintenance.starts_at:
        raise Refused("mnt.error.notice", days=NOTICE_DAYS, earliest=i18n.when(earliest_planned_start(now, rules=ctx.rules), ctx.lang, AMSTERDAM))
    if maintenance.planned:
        _check_windows(ctx, maintenance.services, start, end)
    old = {"start": maintenance.starts_at.isoformat(), "end": maintenance.ends_at.isoformat()}
    maintenance.starts_at, maintenance.ends_at = start, end
    directory.audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="maintenance",
                    subject=maintenance.number, action="rescheduled", old=old, new={"start": start.isoformat(), "end": end.isoformat()})
    rooms = audience(ctx.session, maintenance.services, rules=ctx.rules)
    _notify(ctx.session, maintenance, rooms, "rescheduled", now)
    _plan(ctx.session, maintenance, now, rules=ctx.rules)
    ctx.reply(ctx.t("mnt.rescheduled", number=maintenance.number, count=len(rooms)))


def scope(ctx: Context, args: Args) -> None:
    """Change the services: new audience gets the announcement, dropped audience a cancellation, the rest the change."""
    words = args.words
    if len(words) < 2:
        raise Refused("mnt.scope.usage", usage=args.usage)
    maintenance = _find(ctx, words[0])
    if maintenance.status not in ("announced", "started"):
        raise Refused("mnt.not_changeable", number=maintenance.number)
    services = service_codes(words[1:], ctx)
    if maintenance.planned:
        _check_windows(ctx, services, maintenance.starts_at, maintenance.ends_at)
    now = ctx.now()
    before = audience(ctx.session, maintenance.services, rules=ctx.rules)
    old = list(maintenance.services)
    maintenance.services = services
    after = audience(ctx.session, services, rules=ctx.rules)
    directory.audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="maintenance",
                    subject=maintenance.number, action="scope changed", old={"services": old}, new={"services": services})
    added = [r for r in after if r not in before]
    dropped = [r for r in before if r not in after]
    kept = [r for r in after if r in before]
    _notify(ctx.session, maintenance, added, "announced", now)
    _notify(ctx.session, maintenance, dropped, "cancelled_for_you", now)
    _notify(ctx.session, maintenance, kept, "changed", now)
    maintenance.audience = sorted(set(maintenance.audience) | set(added))
    ctx.reply(ctx.t("mnt.scoped", number=maintenance.number, added=len(added), dropped=len(dropped), kept=len(kept)))


def cancel_command(ctx: Context, args: Args) -> None:
    """Cancel: every pending notice stops; the audience is told once."""
    number, _, reason = args.text.strip().partition(" ")
    maintenance = _find(ctx, number)
    if maintenance.status not in ("announced", "started"):
        raise Refused("mnt.not_changeable", number=maintenance.number)
    if not reason.strip():
        raise Refused("mnt.cancel.reason", usage=args.usage)
    now = ctx.now()
    maintenance.status = "cancelled"
    directory.audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="maintenance",
                    subject=maintenance.number, action="cancelled", new={"reason": reason.strip()})
    _plan(ctx.session, maintenance, now, rules=ctx.rules)
    rooms = audience(ctx.session, maintenance.services, rules=ctx.rules)
    _notify(ctx.session, maintenance, rooms, "cancelled", now, reason=escape_markdown(reason.strip()))
    ctx.reply(ctx.t("mnt.cancelled", number=maintenance.number, count=len(rooms)))


# -- views and intake ----------------------------------------------------------------------------------------


def active_for(session: Session, service: str | None, now: datetime) -> Maintenance | None:
    """A started, not yet completed maintenance on `service`."""
    if not service:
        return None
    for maintenance in session.scalars(select(Maintenance).where(Maintenance.status == "started", Maintenance.starts_at <= now,
                                                                 Maintenance.ends_at > now)):
        if service in maintenance.services:
            return maintenance
    return None


def during_maintenance_card(ctx: Context, maintenance: Maintenance, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The answer to an incident about a service under maintenance: the notice and "report anyway"."""
    notice = _text(ctx.session, maintenance, "during", ctx.lang)
    resubmit = {**{k: v for k, v in inputs.items() if isinstance(v, (str, int))}, "action": "ticket.create", "kind": "incident",
                "despite_maintenance": maintenance.number}
    return notice, mnt_cards.during_maintenance(
        number=maintenance.number, services=", ".join(maintenance.services), start=i18n.when(maintenance.starts_at, ctx.lang, AMSTERDAM),
        end=i18n.when(maintenance.ends_at, ctx.lang, AMSTERDAM), resubmit=resubmit, lang=ctx.lang)


def maintenance_command(ctx: Context, args: Args) -> None:
    """Upcoming and running maintenance for this space's services, or one maintenance with its history."""
    now = ctx.now()
    if args.text.strip():
        maintenance = _find(ctx, args.text.strip())
        if ctx.space.kind == IN_CUSTOMER and ctx.space.room_id not in maintenance.audience + audience(ctx.session, maintenance.services, rules=ctx.rules):
            raise Refused("mnt.not_found", number=maintenance.number)
        lines = [_text(ctx.session, maintenance, "view", ctx.lang, status=ctx.t(f"mnt.status.{maintenance.status}"))]
        for entry in directory.timeline(ctx.session, subject_type="maintenance", subject=maintenance.number):
            lines.append(ctx.t("ticket.view.entry", when=i18n.when(entry.at, ctx.lang, AMSTERDAM), who=escape_markdown(entry.actor),
                               what=entry.action))
        ctx.reply("\n".join(lines))
        return
    found = ctx.session.scalars(select(Maintenance).where(Maintenance.status.in_(("announced", "started")), Maintenance.ends_at > now)
                                .order_by(Maintenance.starts_at)).all()
    if ctx.space.kind == IN_CUSTOMER:
        mine = set(subscriptions_of(ctx.session, ctx.space.room_id))
        found = [m for m in found if not mine or mine & set(m.services)]
    if not found:
        ctx.reply(ctx.t("mnt.none"))
        return
    lines = [ctx.t("mnt.list.title")]
    for m in found:
        lines.append(ctx.t("mnt.list.line", number=m.number, services=", ".join(m.services), start=i18n.when(m.starts_at, ctx.lang, AMSTERDAM),
                           end=i18n.when(m.ends_at, ctx.lang, AMSTERDAM), status=ctx.t(f"mnt.status.{m.status}")))
    ctx.reply("\n".join(lines))


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions and timers."""
    router.command("subscribe", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/subscribe <service> [<service> …]")(subscribe)
    router.command("unsubscribe", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/unsubscribe <service> [<service> …]")(unsubscribe)
    router.command("subscriptions", roles=CUSTOMERS, spaces=IN_CUSTOMER_SPACE, usage="/subscriptions")(subscriptions)
    router.command("maintenance announce", roles=AGENTS, spaces=frozenset({IN_STAFF}),
                   usage='/maintenance announce [services=M2M,LoRa start="2026-12-10 01:00" end="2026-12-10 05:00" impact="…" adhoc=true reason="…"]')(announce_command)
    router.card_action(mnt_cards.Action.ANNOUNCE, fields=mnt_cards.ANNOUNCE_FIELDS, roles=AGENTS, spaces=frozenset({IN_STAFF}), once=True)(announce_button)
    timers.handler(NOTICE)(on_notice)
    router.command("maintenance reschedule", roles=AGENTS, spaces=frozenset({IN_STAFF}),
                   usage='/maintenance reschedule <MNT-number> "<start>" "<end>"')(reschedule)
    router.command("maintenance scope", roles=AGENTS, spaces=frozenset({IN_STAFF}), usage="/maintenance scope <MNT-number> <service> [<service> …]")(scope)
    router.command("maintenance cancel", roles=AGENTS, spaces=frozenset({IN_STAFF}), usage="/maintenance cancel <MNT-number> <reason>")(cancel_command)
    router.command("maintenance", roles=frozenset({CUSTOMER, AGENT}), spaces=WHERE, usage="/maintenance [MNT-number]")(maintenance_command)
