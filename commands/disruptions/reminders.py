"""The staff's reminders of a disruption: ten minutes before its promised update and when that passed
without one, and a P1-level disruption's RCA target day and deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot import i18n, outbox
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.scheduler import TimerContext, cancel, schedule
from commands.common.threads import staff_lang
from commands.disruptions.queries import promised_update
from storage.models.operations import Disruption
from storage.models.runtime import Timer

REMIND_BEFORE = timedelta(minutes=10)
DUE = "disruption.update_due"
RCA = "disruption.rca"


def ref(d: Disruption) -> str:
    """The ref of the disruption's timers."""
    return f"disruption:{d.id}"


def plan_updates(session: Session, d: Disruption, now: datetime) -> None:
    """Plan the reminders of the promised update: ten minutes before it, and when it passed."""
    cancel(session, kind=DUE, ref=ref(d))
    if d.status != "open" or d.next_update_at is None:
        return
    schedule(
        session,
        kind=DUE,
        ref=ref(d),
        due_at=max(now, d.next_update_at - REMIND_BEFORE),
        now=now,
        payload={"disruption_id": d.id, "moment": "soon"},
    )
    schedule(
        session,
        kind=DUE,
        ref=ref(d),
        due_at=d.next_update_at,
        now=now,
        payload={"disruption_id": d.id, "moment": "overdue"},
    )


def on_due(tctx: TimerContext, timer: Timer) -> None:
    """Ten minutes before the promised update, and when it passed without one."""
    session, now = tctx.session, tctx.now
    d = session.get(Disruption, timer.payload["disruption_id"])
    if d is None or d.status != "open":
        return
    room_id, lang = staff_lang(session)
    if room_id is None:
        return
    key = "dis.staff.soon" if timer.payload["moment"] == "soon" else "dis.staff.overdue"
    outbox.enqueue(
        session,
        now=now,
        room_id=room_id,
        purpose=f"disruption:{d.number}:staff",
        markdown=i18n.t(key, lang, number=d.number, time=i18n.when(promised_update(d), lang, AMSTERDAM)),
    )


def plan_rca(ctx: Context, d: Disruption, now: datetime) -> None:
    """A P1-level disruption's RCA: target end of business day 10, deadline end of day 20 (SPEC §5); staff reminders."""

    office = ctx.rules.office_calendar()
    for days, label in ((10, "rca_target"), (20, "rca")):
        due = office.add_business_days(now, days, end_of_day=True)
        schedule(
            ctx.session, kind=RCA, ref=ref(d), due_at=due, now=now, payload={"disruption_id": d.id, "target": label}
        )
    room_id, lang = staff_lang(ctx.session)
    if room_id:
        ctx.send(
            room_id=room_id,
            markdown=i18n.t(
                "dis.staff.rca_planned",
                lang,
                number=d.number,
                target=i18n.when(office.add_business_days(now, 10, end_of_day=True), lang, AMSTERDAM),
                deadline=i18n.when(office.add_business_days(now, 20, end_of_day=True), lang, AMSTERDAM),
            ),
        )


def on_rca(tctx: TimerContext, timer: Timer) -> None:
    """The RCA of a P1-level disruption reached its target day or deadline, and is not delivered yet."""
    d = tctx.session.get(Disruption, timer.payload["disruption_id"])
    room_id, lang = staff_lang(tctx.session)
    if d is None or room_id is None or (d.closure or {}).get("rca_delivered"):
        return
    outbox.enqueue(
        tctx.session,
        now=tctx.now,
        room_id=room_id,
        purpose=f"disruption:{d.number}:rca",
        markdown=i18n.t(f"dis.staff.{timer.payload['target']}", lang, number=d.number),
    )
