"""SLA clocks in chat: the 75/90/breach warnings, and the listeners that keep every clock of a ticket
in step with its events (commands.events).

Everything runs on durable timers. After any change to a ticket, `refresh()` cancels the
ticket's pending clock timers and schedules them again from what the SLA engine says now, so
a timer made stale by a priority change, a pause or a reopening never fires. Each warning is
sent once per ticket, target, point and budget (recorded on the ticket). When a clock has
passed several warning points at once (a reopening, a priority change, timers that were due
while no worker ran), only the furthest is posted: the others would only say less of the same.

The 2-2-2 method and the wait for the customer are in reminders.py, P1 aftercare in aftercare.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import i18n, outbox
from bot.clock import AMSTERDAM
from bot.scheduler import TimerContext, cancel, schedule
from cards import tickets as ticket_cards
from commands.clocks.aftercare import after_close, plan_aftercare, resolved
from commands.clocks.countdown import hours, update_countdown
from commands.clocks.reminders import end_waiting, plan_waiting, start_222, stop_222
from commands.clocks.shared import AFTERCARE_TARGETS, POINT, attachment, locked, ref
from commands.common.deadlines import history, profile_of
from commands.common.oncall import calling_on
from commands.common.threads import staff_lang
from commands.events import Sender
from rules import Rules, clock_state, sla
from storage import directory
from storage.models.runtime import Timer
from storage.models.tickets import Ticket

POINTS = (0.5, 0.75, 0.9, 1.0)
WARN_AT = (0.75, 0.9, 1.0)


def refresh(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> None:
    """Re-plan the ticket's clock timers from its state now and bring the countdown up to date.

    Of the warning points a clock has already passed only the furthest is planned (at once),
    so a reopening or a priority change that lands past 75%, 90% and the breach posts one
    warning, the breach, and not three at the same minute.
    """
    cancel(session, kind=POINT, ref=ref(ticket), skip_running=True)
    end_waiting(session, ticket)
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
                ref=ref(ticket),
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


def on_point(tctx: TimerContext, timer: Timer) -> None:
    """A budget point is reached: edit the countdown; at 75%, 90% and the breach warn the staff once.

    When the clock stands past further warning points too (their timers were due while no
    worker ran, and are claimed one after the other now), the furthest is posted and the points
    it passes count as warned: the staff read one warning, not three at the same minute.
    """
    session, now = tctx.session, tctx.now
    ticket = locked(session, timer.payload["ticket_id"])
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
        attachments=[attachment(card)],
        purpose=f"ticket:{ticket.number}:warning",
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
