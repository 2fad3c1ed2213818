"""SLA clocks in chat: the 75/90/breach warnings, the 2-2-2 method, P1 aftercare, and reminders of
a customer's answer that does not come.

Everything runs on durable timers. After any change to a ticket, `refresh()` cancels the
ticket's pending clock timers and schedules them again from what the SLA engine says now, so
a timer made stale by a priority change, a pause or a reopening never fires. Each warning is
sent once per ticket, target, point and budget (recorded on the ticket). When a clock has
passed several warning points at once (a reopening, a priority change, timers that were due
while no worker ran), only the furthest is posted: the others would only say less of the same.

A P1's RFO and RCA count from its first resolution (`resolved()`): their reminders are planned
then, and a rejected resolution does not restart them. The listeners at the end follow the
tickets' events (commands.events).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot import i18n, outbox
from bot.clock import AMSTERDAM
from bot.scheduler import TimerContext, cancel, schedule
from bot.text import mention
from cards import tickets as ticket_cards
from commands import events
from commands.clocks import queries
from commands.clocks.countdown import hours, update_countdown
from commands.common.deadlines import history, profile_of
from commands.common.oncall import calling_on
from commands.common.threads import customer_lang, staff_lang
from commands.events import Sender
from rules import Rules, clock_state, sla
from rules.calendar import Calendar
from storage import directory
from storage import tickets as store
from storage.db import is_postgres
from storage.models.runtime import Timer
from storage.models.tickets import Ticket

POINTS = (0.5, 0.75, 0.9, 1.0)
WARN_AT = (0.75, 0.9, 1.0)
# A P1's deliverables after the resolution: reminded a business day before and at their
# deadline (plan_aftercare), not at 75% and 90% of their budget like the ticket's own targets.
AFTERCARE_TARGETS = ("rfo", "rca_target", "rca")
POINT = "sla.point"
REMIND = "ticket.222"
AFTERCARE = "ticket.aftercare"
WAITING = "ticket.waiting"
TWO_DAYS = 2
STEPS = ("reminder1", "reminder2", "close")


def _ref(ticket: Ticket) -> str:
    return f"ticket:{ticket.id}"


def refresh(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> None:
    """Re-plan the ticket's clock timers from its state now and bring the countdown up to date.

    Of the warning points a clock has already passed only the furthest is planned (at once),
    so a reopening or a priority change that lands past 75%, 90% and the breach posts one
    warning, the breach, and not three at the same minute.
    """
    cancel(session, kind=POINT, ref=_ref(ticket), skip_running=True)
    _end_waiting(session, ticket)
    if ticket.status != "closed" and ticket.root_outbox_id is not None:
        planned = [
            p
            for p in clock_state.points(history(session, ticket), profile_of(session, ticket, rules=rules), now, POINTS)
            if p[0] not in AFTERCARE_TARGETS
        ]
        passed: dict[str, float] = {}
        for target, fraction, instant in planned:
            if fraction in WARN_AT and instant <= now:
                passed[target] = max(fraction, passed.get(target, 0.0))
        for target, fraction, instant in planned:
            if instant <= now and fraction != passed.get(target):
                continue  # a passed 50% point needs no edit of its own; a passed warning is outdone by a further one
            if fraction in WARN_AT and _warned(ticket, target, fraction):
                continue
            schedule(
                session,
                kind=POINT,
                ref=_ref(ticket),
                due_at=max(instant, now),
                now=now,
                payload={"ticket_id": ticket.id, "target": target, "fraction": fraction},
            )
    if ticket.root_outbox_id is not None:
        update_countdown(session, ticket, now, rules=rules)


def _warn_key(ticket: Ticket, target: str, fraction: float) -> str:
    # Per budget: a new priority, or a longer lead time, has points of its own to warn at.
    budget = ticket.priority or ticket.kind
    if target == sla.RECOVERY and ticket.lead_time and ticket.kind in sla.EXTENDABLE:
        budget += f"+{ticket.lead_time}"
    return f"{target}:{int(fraction * 100)}:{budget}"


def _warned(ticket: Ticket, target: str, fraction: float) -> bool:
    return _warn_key(ticket, target, fraction) in (ticket.clock or {}).get("warned", [])


def _locked(session: Session, ticket_id: int) -> Ticket | None:
    """The ticket of a clock timer, locked and read afresh.

    The commands that change a ticket cancel its clock timers without waiting for one another
    worker is running (`skip_running`): that timer's handler waits here for the ticket instead,
    and reads it as the command left it, so it neither deadlocks with the command nor acts on
    what the command just changed.
    """
    return session.get(Ticket, ticket_id, with_for_update=is_postgres(session), populate_existing=True)


def on_point(tctx: TimerContext, timer: Timer) -> None:
    """A budget point is reached: edit the countdown; at 75%, 90% and the breach warn the staff once.

    When the clock stands past further warning points too (their timers were due while no
    worker ran, and are claimed one after the other now), the furthest is posted and the points
    it passes count as warned: the staff read one warning, not three at the same minute.
    """
    session, now = tctx.session, tctx.now
    ticket = _locked(session, timer.payload["ticket_id"])
    if ticket is None or ticket.status == "closed":
        return
    target, fraction = timer.payload["target"], float(timer.payload["fraction"])
    if fraction in WARN_AT and not _warned(ticket, target, fraction):
        status = next(
            (
                t
                for t in clock_state.deadlines(
                    history(session, ticket), profile_of(session, ticket, rules=tctx.rules), now
                )
                if t.target == target
            ),
            None,
        )
        # Only when the clock really stands there now (the timer is re-planned on every change).
        reached = [p for p in WARN_AT if (status.fraction or 0) >= p - 1e-9] if status is not None else []
        if status is not None and status.met_at is None and not status.paused and fraction in reached:
            furthest = reached[-1]
            if not _warned(ticket, target, furthest):
                _warn_staff(session, ticket, target, furthest, status, now, rules=tctx.rules)
            clock = dict(ticket.clock or {})
            warned = list(clock.get("warned", []))
            warned += [key for key in (_warn_key(ticket, target, p) for p in reached) if key not in warned]
            clock["warned"] = warned
            ticket.clock = clock
    update_countdown(session, ticket, now, rules=tctx.rules)


def _warn_staff(
    session: Session,
    ticket: Ticket,
    target: str,
    fraction: float,
    status: clock_state.TargetStatus,
    now: datetime,
    *,
    rules: Rules,
) -> None:
    room_id, lang = staff_lang(session)
    if room_id is None or status.due is None:  # a warning point is a fraction of a target with a deadline
        return
    org = directory.org_by_id(session, org_id=ticket.org_id)
    name = i18n.t(f"sla.target.{target}", lang)
    due = i18n.when(status.due, lang, AMSTERDAM)
    if fraction >= 1.0:
        text = i18n.t(
            "clock.warn.breach_best_effort" if status.best_effort else "clock.warn.breach",
            lang,
            number=ticket.number,
            target=name,
            due=due,
        )
    else:
        text = i18n.t(
            "clock.warn.point",
            lang,
            number=ticket.number,
            target=name,
            percent=int(fraction * 100),
            due=due,
            left=hours(status.left),
        )
    card = ticket_cards.warning_card(number=ticket.number, org=org.name if org else "?", text=text, lang=lang)
    outbox.enqueue(
        session,
        now=now,
        room_id=room_id,
        markdown=calling_on(session, ticket, now, text, lang, rules=rules),
        attachments=[_attachment(card)],
        purpose=f"ticket:{ticket.number}:warning",
    )


def _attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}


# -- the 2-2-2 method ------------------------------------------------------------------------------------


def start_222(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> None:
    """Resolved: ask "Solved / Not solved?" with a card and plan the first reminder. A complaint is
    closed in joint consultation: its card asks "Agreed / Not agreed?" and the reminders go to the staff."""
    lang = customer_lang(session, ticket)
    agreement = ticket.kind == "complaint"
    card = ticket_cards.confirm_card(number=ticket.number, lang=lang, agreement=agreement)
    if directory.reachable(session, room_id=ticket.room_id):
        key = "ticket.customer.please_agree" if agreement else "ticket.customer.please_confirm"
        outbox.enqueue(
            session,
            now=now,
            room_id=ticket.room_id,
            markdown=i18n.t(key, lang, number=ticket.number),
            attachments=[_attachment(card)],
            parent_outbox_id=ticket.root_outbox_id,
            purpose=f"ticket:{ticket.number}:confirm",
        )
    _plan_step(session, ticket, now, step=0, start=now, rules=rules)


def _plan_step(session: Session, ticket: Ticket, now: datetime, *, step: int, start: datetime, rules: Rules) -> None:
    office = rules.office_calendar()
    due = office.add_business_days(start, TWO_DAYS)
    schedule(
        session, kind=REMIND, ref=_ref(ticket), due_at=due, now=now, payload={"ticket_id": ticket.id, "step": step}
    )


def stop_222(session: Session, ticket: Ticket) -> None:
    """The customer answered (or the ticket moved on): no more reminders."""
    cancel(session, kind=REMIND, ref=_ref(ticket), skip_running=True)


def on_reminder(tctx: TimerContext, timer: Timer) -> None:
    """No answer for 2 business days: remind, remind again, then close (auto-closure); a complaint:
    remind the staff, and again every 2 business days."""
    session, now = tctx.session, tctx.now
    ticket = _locked(session, timer.payload["ticket_id"])
    if ticket is None or ticket.status != "resolved":
        return
    if ticket.kind == "complaint":
        _remind_staff_to_agree(session, ticket, timer, now, rules=tctx.rules)
        return
    step = int(timer.payload["step"])
    lang = customer_lang(session, ticket)
    reachable = directory.reachable(session, room_id=ticket.room_id)
    if STEPS[step] == "close":
        store.change(
            session,
            ticket,
            actor="system",
            room_id=ticket.room_id,
            now=now,
            action="auto-closed",
            status="closed",
            closed_at=now,
        )
        if reachable:
            outbox.enqueue(
                session,
                now=now,
                room_id=ticket.room_id,
                parent_outbox_id=ticket.root_outbox_id,
                markdown=i18n.t("clock.222.closed", lang, number=ticket.number),
                purpose=f"ticket:{ticket.number}",
            )
        events.ticket_closed.send(tctx, ticket=ticket, now=now, how="no_answer")
        return
    if reachable:
        outbox.enqueue(
            session,
            now=now,
            room_id=ticket.room_id,
            parent_outbox_id=ticket.root_outbox_id,
            markdown=i18n.t(f"clock.222.{STEPS[step]}", lang, number=ticket.number),
            purpose=f"ticket:{ticket.number}",
        )
    store.note(session, ticket, actor="system", room_id=ticket.room_id, now=now, action=STEPS[step], text="")
    _plan_step(session, ticket, now, step=step + 1, start=now, rules=tctx.rules)


def _remind_staff_to_agree(session: Session, ticket: Ticket, timer: Timer, now: datetime, *, rules: Rules) -> None:
    """A complaint's proposed outcome has no answer: the staff are reminded, mentioning who must act,
    and again every 2 business days; nothing closes it but an agreement (SPEC §6).

    After an outage the reminders missed are not repeated: one says how long it has been."""
    office = rules.office_calendar()
    days = int(timer.payload.get("days", TWO_DAYS * (int(timer.payload["step"]) + 1)))
    days, following = _catch_up(office, timer.due_at, now, days)
    room_id, lang = staff_lang(session)
    resolved_at = ticket.resolved_at  # set whenever the ticket is resolved, which on_reminder checked
    if room_id is not None and resolved_at is not None:
        who = ticket.assignee or queries.resolved_by(session, ticket)
        lines = [
            i18n.t(
                "clock.agreement", lang, number=ticket.number, since=i18n.when(resolved_at, lang, AMSTERDAM), days=days
            )
        ]
        if who:
            lines.append(i18n.t("staff.must_act", lang, who=mention(who)))
        outbox.enqueue(
            session, now=now, room_id=room_id, markdown="\n".join(lines), purpose=f"ticket:{ticket.number}:agreement"
        )
    schedule(
        session,
        kind=REMIND,
        ref=_ref(ticket),
        due_at=following,
        now=now,
        payload={"ticket_id": ticket.id, "step": 0, "days": days + TWO_DAYS},
    )


def _catch_up(office: Calendar, due_at: datetime, now: datetime, days: int) -> tuple[int, datetime]:
    """A reminder every 2 business days that was due at `due_at` and runs at `now`: how many business
    days it stands for, and when the next one is due (later than now)."""
    following = office.add_business_days(due_at, TWO_DAYS)
    while following <= now:
        days, following = days + TWO_DAYS, office.add_business_days(following, TWO_DAYS)
    return days, following


# -- waiting for the customer ------------------------------------------------------------------------------


def plan_waiting(session: Session, ticket: Ticket, now: datetime, *, asked_by: str, rules: Rules) -> None:
    """The ticket starts waiting for the customer: the staff is reminded after 2 business days without an answer.

    While the clocks are paused no SLA warning comes, so without this reminder a forgotten
    question would keep a ticket open unseen for as long as nobody looks. A second question
    during the wait changes nothing: the wait goes on from the first.
    """
    clock = dict(ticket.clock or {})
    if "waiting" in clock:
        return
    office = rules.office_calendar()
    schedule(
        session,
        kind=WAITING,
        ref=_ref(ticket),
        due_at=office.add_business_days(now, TWO_DAYS),
        now=now,
        payload={"ticket_id": ticket.id, "since": now.isoformat(), "days": TWO_DAYS, "asked_by": asked_by},
    )
    clock["waiting"] = {"since": now.isoformat()}
    ticket.clock = clock


def _end_waiting(session: Session, ticket: Ticket) -> None:
    """The wait ended (an answer, a resolution, a closure): its reminder is cancelled."""
    if ticket.status == "awaiting_customer" or "waiting" not in (ticket.clock or {}):
        return
    cancel(session, kind=WAITING, ref=_ref(ticket), skip_running=True)
    clock = dict(ticket.clock)
    del clock["waiting"]
    ticket.clock = clock


def on_waiting(tctx: TimerContext, timer: Timer) -> None:
    """No answer for 2 business days: remind the staff, mentioning who must act, and again every 2 business days.

    Every 2 business days, not once: one line in a busy staff space scrolls away, and the
    paused clock would never warn. After an outage the reminders missed are not repeated.
    """
    session, now = tctx.session, tctx.now
    ticket = _locked(session, timer.payload["ticket_id"])
    if ticket is None or ticket.status != "awaiting_customer":
        return
    office = tctx.rules.office_calendar()
    days, following = _catch_up(office, timer.due_at, now, int(timer.payload["days"]))
    room_id, lang = staff_lang(session)
    if room_id is not None:
        since = datetime.fromisoformat(timer.payload["since"])
        who = ticket.assignee or timer.payload["asked_by"]
        markdown = "\n".join(
            [
                i18n.t("clock.waiting", lang, number=ticket.number, since=i18n.when(since, lang, AMSTERDAM), days=days),
                i18n.t("staff.must_act", lang, who=mention(who)),
            ]
        )
        outbox.enqueue(session, now=now, room_id=room_id, markdown=markdown, purpose=f"ticket:{ticket.number}:waiting")
    schedule(
        session,
        kind=WAITING,
        ref=_ref(ticket),
        due_at=following,
        now=now,
        payload={**timer.payload, "days": days + TWO_DAYS},
    )


# -- after the resolution: P1 aftercare ------------------------------------------------------------------


def resolved(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> None:
    """A ticket is resolved: the first resolution is when the service was restored, and a P1's
    RFO and RCA count from it (a rejected resolution and the next one leave it); their
    reminders for the problem managers are planned now, not at the closure that 2-2-2 may
    bring six business days later."""
    if ticket.restored_at is None:
        ticket.restored_at = now
    plan_aftercare(session, ticket, now, rules=rules)


def after_close(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> None:
    """A ticket closed: stop its clocks; a P1's RFO/RCA reminders stay as planned at its resolution."""
    cancel(session, kind=POINT, ref=_ref(ticket), skip_running=True)
    stop_222(session, ticket)
    _end_waiting(session, ticket)
    update_countdown(session, ticket, now, rules=rules)
    plan_aftercare(session, ticket, now, rules=rules)


def plan_aftercare(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> None:
    """Reminders one business day before each open follow-up deadline and at its breach."""
    cancel(session, kind=AFTERCARE, ref=_ref(ticket), skip_running=True)
    if ticket.kind != "incident" or ticket.priority != "P1" or ticket.restored_at is None:
        return
    office = rules.office_calendar()
    for target in clock_state.deadlines(history(session, ticket), profile_of(session, ticket, rules=rules), now):
        if target.target not in AFTERCARE_TARGETS or target.due is None or target.met_at is not None:
            continue
        before = _business_day_before(office, target.due)
        for when, moment in ((before, "before"), (target.due, "breach")):
            if when >= now:
                schedule(
                    session,
                    kind=AFTERCARE,
                    ref=_ref(ticket),
                    due_at=when,
                    now=now,
                    payload={"ticket_id": ticket.id, "target": target.target, "moment": moment},
                )


def _business_day_before(office: Calendar, due: datetime) -> datetime:
    """The same local time one business day earlier (a deadline at 18:00 → the previous business day 18:00)."""
    day = due.astimezone(office.zone).date() - timedelta(days=1)
    while not office.is_business_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, due.astimezone(office.zone).time()).replace(tzinfo=office.zone)


def on_aftercare(tctx: TimerContext, timer: Timer) -> None:
    """Remind the problem managers in the staff space of an RFO/RCA due tomorrow, or breached."""
    session, now = tctx.session, tctx.now
    ticket = _locked(session, timer.payload["ticket_id"])
    if ticket is None:
        return
    target = timer.payload["target"]
    status = next(
        (
            t
            for t in clock_state.deadlines(history(session, ticket), profile_of(session, ticket, rules=tctx.rules), now)
            if t.target == target
        ),
        None,
    )
    if status is None or status.met_at is not None or status.due is None:
        return
    room_id, lang = staff_lang(session)
    if room_id is None:
        return
    key = "clock.aftercare.before" if timer.payload["moment"] == "before" else "clock.aftercare.breach"
    outbox.enqueue(
        session,
        now=now,
        room_id=room_id,
        purpose=f"ticket:{ticket.number}:aftercare",
        markdown=i18n.t(
            key,
            lang,
            number=ticket.number,
            target=i18n.t(f"sla.target.{target}", lang),
            due=i18n.when(status.due, lang, AMSTERDAM),
        ),
    )


# -- listeners of the tickets' events ----------------------------------------------------------------------


def on_ticket_changed(sender: Sender, *, ticket: Ticket, now: datetime, **_: object) -> None:
    """A ticket was opened or changed: its clocks are re-planned and its countdown brought up to date."""
    refresh(sender.session, ticket, now, rules=sender.rules)


def on_ticket_awaiting(sender: Sender, *, ticket: Ticket, now: datetime, asked_by: str) -> None:
    """The desk asked the customer: the staff is reminded if no answer comes; the clocks pause."""
    plan_waiting(sender.session, ticket, now, asked_by=asked_by, rules=sender.rules)
    refresh(sender.session, ticket, now, rules=sender.rules)


def on_ticket_resolved(sender: Sender, *, ticket: Ticket, now: datetime) -> None:
    """Resolved: aftercare counts from now; 2-2-2 starts, or (an RFC, an RFI closed at once) every clock stops."""
    resolved(sender.session, ticket, now, rules=sender.rules)
    if ticket.status == "closed":
        after_close(sender.session, ticket, now, rules=sender.rules)
    else:
        refresh(sender.session, ticket, now, rules=sender.rules)
        start_222(sender.session, ticket, now, rules=sender.rules)


def on_ticket_closed(sender: Sender, *, ticket: Ticket, now: datetime, how: str) -> None:
    """Closed: every clock stops."""
    after_close(sender.session, ticket, now, rules=sender.rules)


def on_ticket_reopened(sender: Sender, *, ticket: Ticket, now: datetime) -> None:
    """Reopened: no more 2-2-2 reminders; aftercare and the clocks run again."""
    stop_222(sender.session, ticket)
    plan_aftercare(sender.session, ticket, now, rules=sender.rules)
    refresh(sender.session, ticket, now, rules=sender.rules)


def on_follow_up_delivered(sender: Sender, *, ticket: Ticket, now: datetime) -> None:
    """An RFO or RCA was delivered: its reminders stop and the countdown shows it met."""
    plan_aftercare(sender.session, ticket, now, rules=sender.rules)
    update_countdown(sender.session, ticket, now, rules=sender.rules)
