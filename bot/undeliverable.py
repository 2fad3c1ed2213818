"""Messages Webex will not take for good: a person without a Webex account, one who blocks the
bot, a space the bot was removed from. What follows is the sending family's business (a page
goes to the next engineer, a customer space is marked unreachable), so the outbox records the
failure as a durable timer, due at once, and that timer runs every listener the families gave
the timer registry (`timers.on_undeliverable(fn)`, in their register()) in its own transaction:
a crash between the failure and the reaction loses neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.scheduler import TimerContext, TimerRegistry, schedule
from storage.models.runtime import Timer

KIND = "outbox.undeliverable"


@dataclass(frozen=True)
class Undeliverable:
    """A message Webex refused for good, and why."""

    outbox_id: int
    purpose: str | None
    room_id: str | None
    to_person_email: str | None
    status: int | None
    error: str


Listener = Callable[[TimerContext, Undeliverable], None]


def note(session: Session, failure: Undeliverable, *, now: datetime) -> None:
    """Record the failure (in the transaction that marks the message failed); listeners run next."""
    schedule(
        session,
        kind=KIND,
        ref=f"outbox:{failure.outbox_id}",
        key=f"{KIND}:{failure.outbox_id}",
        due_at=now,
        now=now,
        payload={
            "outbox_id": failure.outbox_id,
            "purpose": failure.purpose,
            "room_id": failure.room_id,
            "to_person_email": failure.to_person_email,
            "status": failure.status,
            "error": failure.error[:500],
        },
    )


def register(timers: TimerRegistry) -> None:
    """Handle the failures `note` records: each runs the listeners given to `timers`, in order."""

    def tell_listeners(tctx: TimerContext, timer: Timer) -> None:
        failure = Undeliverable(**timer.payload)
        for fn in timers.undeliverable_listeners:
            fn(tctx, failure)

    timers.handler(KIND)(tell_listeners)
