"""Escalation along the desk's matrix: one level at a time, 24/7, always with a reason.

Customers and agents escalate (`/escalate`), agents lower the level (`/deescalate`). Each
step gives the customer the level's contact (phone as a tel: link), alerts the staff space,
and messages the level's Webex contact directly when the matrix names one. Escalating is not
a priority change.
"""

from __future__ import annotations

from bot import i18n, outbox
from bot.context import Context
from bot.errors import Refused
from bot.text import escape_markdown
from commands.common import timeline
from commands.common.threads import customer_lang, post_in_thread, staff_lang
from rules import desk
from storage.models.tickets import Ticket


def escalate(ctx: Context, ticket: Ticket, reason: str, *, step: int) -> None:
    """Move the ticket one level up (step=1) or down (step=-1) the escalation matrix."""
    if ticket.status in ("resolved", "closed"):
        raise Refused("escalate.not_open", number=ticket.number)
    levels = ctx.rules.desk.escalation
    new = ticket.escalation_level + step
    if step > 0 and new > len(levels):
        raise Refused("escalate.top", number=ticket.number, level=len(levels))
    if step < 0 and ticket.escalation_level == 0:
        raise Refused("deescalate.none", number=ticket.number)
    now = ctx.now()
    old = ticket.escalation_level
    timeline.change(
        ctx,
        ticket,
        now=now,
        action="escalated" if step > 0 else "de-escalated",
        escalation_level=new,
    )
    timeline.note(ctx, ticket, now=now, action="reason", text=reason)
    lang = customer_lang(ctx.session, ticket)
    room_id, staff_language = staff_lang(ctx.session)
    if new == 0:
        post_in_thread(
            ctx, ticket, i18n.t("deescalate.customer.none", lang, number=ticket.number, reason=escape_markdown(reason))
        )
        if room_id:
            ctx.send(
                room_id=room_id,
                markdown=i18n.t(
                    "deescalate.staff",
                    staff_language,
                    number=ticket.number,
                    old=old,
                    new=new,
                    who=escape_markdown(ctx.actor.email),
                    reason=escape_markdown(reason, links=False),
                ),
            )
        if ctx.space.room_id != ticket.room_id:
            ctx.reply(ctx.t("deescalate.done", number=ticket.number, level=new))
        return
    level = levels[new - 1]
    contact = desk.tel_link(level.phone) + (i18n.t("escalate.pin", lang, pin=level.pin) if level.pin else "")
    key = "escalate.customer" if step > 0 else "deescalate.customer"
    post_in_thread(
        ctx,
        ticket,
        i18n.t(
            key,
            lang,
            number=ticket.number,
            level=new,
            role=level.role,
            name=level.name,
            contact=contact,
            reason=escape_markdown(reason),
        ),
    )
    if room_id:
        ctx.send(
            room_id=room_id,
            markdown=i18n.t(
                "escalate.staff" if step > 0 else "deescalate.staff",
                staff_language,
                number=ticket.number,
                old=old,
                new=new,
                who=escape_markdown(ctx.actor.email),
                reason=escape_markdown(reason, links=False),
            ),
        )
    if step > 0 and level.email:
        outbox.enqueue(
            ctx.session,
            now=now,
            to_person_email=level.email,
            purpose=f"escalation:{ticket.number}",
            markdown=i18n.t(
                "escalate.direct",
                i18n.DEFAULT_LANGUAGE,
                number=ticket.number,
                level=new,
                title=escape_markdown(ticket.title, links=False),
                reason=escape_markdown(reason, links=False),
            ),
        )
    if ctx.space.room_id == ticket.room_id:
        return  # asked in the customer space: the thread message is the answer
    if step > 0:
        ctx.reply(ctx.t("escalate.done", number=ticket.number, level=new, role=level.role))
    else:
        ctx.reply(ctx.t("deescalate.done", number=ticket.number, level=new))
