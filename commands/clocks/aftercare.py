"""P1 aftercare: the RFO and RCA count from the first resolution; the problem managers are reminded
a business day before each deadline and at its breach."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot import i18n, outbox
from bot.clock import AMSTERDAM
from bot.scheduler import TimerContext, cancel, schedule
from commands.clocks.countdown import update_countdown
from commands.clocks.reminders import end_waiting, stop_222
from commands.clocks.shared import AFTERCARE, AFTERCARE_TARGETS, POINT, locked, ref
from commands.common.deadlines import history, profile_of
from commands.common.threads import staff_lang
from rules import Rules, clock_state
from rules.calendar import Calendar
from storage.models.runtime import Timer
from storage.models.tickets import Ticket


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
    cancel(session, kind=POINT, ref=ref(ticket), skip_running=True)
    stop_222(session, ticket)
    end_waiting(session, ticket)
    update_countdown(session, ticket, now, rules=rules)
    plan_aftercare(session, ticket, now, rules=rules)


def plan_aftercare(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> None:
    """Reminders one business day before each open follow-up deadline and at its breach."""
    cancel(session, kind=AFTERCARE, ref=ref(ticket), skip_running=True)
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
                    ref=ref(ticket),
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
    ticket = locked(session, timer.payload["ticket_id"])
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
