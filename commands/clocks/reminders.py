"""The 2-2-2 method and the wait for the customer's answer, on durable timers.

A resolved ticket asks the customer "Solved / Not solved?" and closes itself after two reminders
without an answer; a complaint reminds the staff instead. A ticket waiting for the customer
reminds the staff every 2 business days.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import i18n, outbox
from bot.clock import AMSTERDAM
from bot.scheduler import TimerContext, cancel, schedule
from bot.text import mention
from cards import tickets as ticket_cards
from commands import events
from commands.clocks import queries
from commands.clocks.shared import REMIND, TWO_DAYS, WAITING, attachment, locked, ref
from commands.common.threads import customer_lang, staff_lang
from rules import Rules
from rules.calendar import Calendar
from storage import directory
from storage import tickets as store
from storage.models.runtime import Timer
from storage.models.tickets import Ticket

STEPS = ("reminder1", "reminder2", "close")


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
            attachments=[attachment(card)],
            parent_outbox_id=ticket.root_outbox_id,
            purpose=f"ticket:{ticket.number}:confirm",
        )
    _plan_step(session, ticket, now, step=0, start=now, rules=rules)


def _plan_step(session: Session, ticket: Ticket, now: datetime, *, step: int, start: datetime, rules: Rules) -> None:
    office = rules.office_calendar()
    due = office.add_business_days(start, TWO_DAYS)
    schedule(session, kind=REMIND, ref=ref(ticket), due_at=due, now=now, payload={"ticket_id": ticket.id, "step": step})


def stop_222(session: Session, ticket: Ticket) -> None:
    """The customer answered (or the ticket moved on): no more reminders."""
    cancel(session, kind=REMIND, ref=ref(ticket), skip_running=True)


def on_reminder(tctx: TimerContext, timer: Timer) -> None:
    """No answer for 2 business days: remind, remind again, then close (auto-closure); a complaint:
    remind the staff, and again every 2 business days."""
    session, now = tctx.session, tctx.now
    ticket = locked(session, timer.payload["ticket_id"])
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
        ref=ref(ticket),
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
        ref=ref(ticket),
        due_at=office.add_business_days(now, TWO_DAYS),
        now=now,
        payload={"ticket_id": ticket.id, "since": now.isoformat(), "days": TWO_DAYS, "asked_by": asked_by},
    )
    clock["waiting"] = {"since": now.isoformat()}
    ticket.clock = clock


def end_waiting(session: Session, ticket: Ticket) -> None:
    """The wait ended (an answer, a resolution, a closure): its reminder is cancelled."""
    if ticket.status == "awaiting_customer" or "waiting" not in (ticket.clock or {}):
        return
    cancel(session, kind=WAITING, ref=ref(ticket), skip_running=True)
    clock = dict(ticket.clock)
    del clock["waiting"]
    ticket.clock = clock


def on_waiting(tctx: TimerContext, timer: Timer) -> None:
    """No answer for 2 business days: remind the staff, mentioning who must act, and again every 2 business days.

    Every 2 business days, not once: one line in a busy staff space scrolls away, and the
    paused clock would never warn. After an outage the reminders missed are not repeated.
    """
    session, now = tctx.session, tctx.now
    ticket = locked(session, timer.payload["ticket_id"])
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
        ref=ref(ticket),
        due_at=following,
        now=now,
        payload={**timer.payload, "days": days + TWO_DAYS},
    )
