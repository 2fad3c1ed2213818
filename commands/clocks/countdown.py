"""The countdown message in a ticket's thread: one line per target, edited as the clocks run."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot import i18n, outbox
from bot.clock import AMSTERDAM
from commands.common.deadlines import extended_note, history, profile_of
from commands.common.threads import customer_lang
from rules import Rules, clock_state
from storage import directory
from storage.models.runtime import OutboxMessage
from storage.models.tickets import Ticket

MAX_EDITS = 10  # Webex allows ten edits of a message


def countdown_text(session: Session, ticket: Ticket, now: datetime, lang: str, *, rules: Rules) -> str:
    """One line per target: due local time and what is left, or its state."""
    lines = [i18n.t("clock.title", lang, number=ticket.number, status=i18n.t(f"ticket.status.{ticket.status}", lang))]
    for target in clock_state.deadlines(history(session, ticket), profile_of(session, ticket, rules=rules), now):
        if target.due is None:
            continue
        name = i18n.t(f"sla.target.{target.target}", lang)
        due = i18n.when(target.due, lang, AMSTERDAM)
        if target.state == "met":
            lines.append(i18n.t("clock.met", lang, target=name, due=due))
        elif target.state in ("breached", "late"):
            key = "clock.late" if target.best_effort else "clock.breached"
            lines.append(i18n.t(key, lang, target=name, due=due))
        else:
            left = hours(target.left)
            unit = i18n.t(
                "clock.unit.elapsed" if target.budget and target.budget.elapsed else "clock.unit.office", lang
            )
            key = "clock.paused" if target.paused else ("clock.best_effort" if target.best_effort else "clock.running")
            lines.append(i18n.t(key, lang, target=name, due=due, left=left, unit=unit))
        if target.extended:
            lines[-1] += " " + extended_note(target, lang)
    if ticket.status == "awaiting_customer":
        lines.append(i18n.t("clock.how_to_answer", lang, number=ticket.number))
    return "\n".join(lines)


def hours(delta: timedelta | None) -> str:
    """A duration as h:mm."""
    minutes = int((delta or timedelta(0)).total_seconds() // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def update_countdown(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> None:
    """Post the countdown in the ticket's thread, or edit it; a fresh one after ten edits (none while
    the bot cannot post in the customer space: the next refresh after that catches up)."""
    if not directory.reachable(session, room_id=ticket.room_id):
        return
    clock = dict(ticket.clock or {})
    state = dict(clock.get("countdown") or {})
    markdown = countdown_text(session, ticket, now, customer_lang(session, ticket), rules=rules)
    current = session.get(OutboxMessage, state["outbox_id"]) if state.get("outbox_id") else None
    if current is not None and state.get("text") == markdown:
        return
    if current is not None and state.get("edits", 0) < MAX_EDITS:
        outbox.enqueue_update(session, now=now, target=current, markdown=markdown)
        state["edits"] = state.get("edits", 0) + 1
    else:
        row = outbox.enqueue(
            session,
            now=now,
            room_id=ticket.room_id,
            markdown=markdown,
            parent_outbox_id=ticket.root_outbox_id,
            purpose=f"ticket:{ticket.number}:countdown",
        )
        state = {"outbox_id": row.id, "edits": 0}
    state["text"] = markdown
    clock["countdown"] = state
    ticket.clock = clock


# -- rescheduling ------------------------------------------------------------------------------------
