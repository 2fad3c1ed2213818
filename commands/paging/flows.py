"""P1 paging: pages with Acknowledge / Decline, re-pages and the rota's end.

A P1 request or confirmation pages whoever is on call at that instant in a 1:1 space. Every
step is a durable timer: no answer within the team's interval → page again; after the
team's number of pages → the next engineer; rota exhausted → the staff space is alerted.
Acknowledge stops all of it, once: the ticket row is the lock, so of two engineers pressing
at the same moment one wins and the other is told. Paging also stops when the ticket no longer
needs it (resolved, closed, no P1 any more): the engineers paged are told, a page card pressed
later answers with the ticket's state, and a page timer due meanwhile checks the ticket first.
Paging follows the tickets' events (the listeners at the end); the engineers' answers are in
answers.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import i18n, outbox
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.scheduler import TimerContext, cancel, schedule
from bot.text import escape_markdown
from bot.undeliverable import Undeliverable
from cards import paging as page_cards
from commands.common.oncall import calling_on, get_team, order_at
from commands.common.threads import staff_lang
from commands.events import Sender
from rules import Rules
from storage import directory
from storage import tickets as store
from storage.db import is_postgres
from storage.models.operations import OnCallTeam, Page
from storage.models.runtime import Timer
from storage.models.tickets import Ticket

PAGE_TIMEOUT = "page.timeout"


def timer_ref(ticket: Ticket) -> str:
    """The ref of a ticket's page timer."""
    return f"ticket:{ticket.id}"


def needs_paging(ticket: Ticket) -> bool:
    """A P1, confirmed or requested, that is neither resolved nor closed: someone must be on it."""
    return ticket.status not in ("resolved", "closed") and "P1" in (ticket.priority, ticket.requested_priority)


def start_paging(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> None:
    """Page the on-call engineer about a P1, unless paging runs already or was acknowledged."""
    if ticket.paging in ("active", "acknowledged") or not needs_paging(ticket):
        return
    team = get_team(session, rules=rules)
    order = order_at(session, team, now) if team is not None else []
    if team is None or not order:
        ticket.paging = "exhausted"
        _alert_staff(session, ticket, now, "page.staff.no_rota", rules=rules)
        return
    clock = dict(ticket.clock or {})
    clock["paging_order"] = order
    clock["paging_team"] = team.name
    clock["paging_since"] = now.isoformat()
    ticket.clock = clock
    ticket.paging = "active"
    _send_page(session, ticket, team, position=0, attempt=1, now=now)


def stop_paging(session: Session, ticket: Ticket, now: datetime) -> bool:
    """When the ticket no longer needs paging (resolved or closed, or no P1 any more): every
    pending page and its timer stop, and the engineers paged hear why; True when paging ran.

    A page timer another worker is running at this moment is left to it: its handler waits
    for this transaction's ticket row and then finds paging stopped (on_timeout)."""
    if ticket.paging not in ("active", "exhausted") or needs_paging(ticket):
        return False
    paged: dict[str, None] = {}
    since = (ticket.clock or {}).get("paging_since")
    this_round = select(Page).where(Page.ticket_id == ticket.id, Page.status.in_(("pending", "unanswered")))
    if since:  # engineers paged in an earlier round were told when it ended
        this_round = this_round.where(Page.sent_at >= datetime.fromisoformat(since))
    for page in session.scalars(this_round.order_by(Page.id)):
        if page.status == "pending":
            page.status, page.answered_at = "stopped", now
        paged[page.email] = None
    cancel(session, kind=PAGE_TIMEOUT, ref=timer_ref(ticket), skip_running=True)
    store.change(session, ticket, actor="system", room_id=None, now=now, action="paging stopped", paging="stopped")
    for email in paged:
        lang = _language_of(session, email)
        # Someone woken by the page may be getting up for it: they hear at once that they need not.
        outbox.enqueue(
            session,
            now=now,
            to_person_email=email,
            purpose=f"page:{ticket.number}:stopped",
            urgent=True,
            markdown=i18n.t("page.stand_down", lang, number=ticket.number, why=why_not_paged(ticket, lang)),
        )
    return True


def why_not_paged(ticket: Ticket, lang: str) -> str:
    """Why a ticket needs no page (any more), in `lang`: its state."""
    if ticket.status in ("resolved", "closed"):
        return i18n.t(f"page.why.{ticket.status}", lang)
    return i18n.t("page.why.priority", lang, priority=ticket.priority or "—")


def _language_of(session: Session, email: str) -> str:
    person = directory.person(session, email=email)
    return person.language if person is not None and person.language else i18n.DEFAULT_LANGUAGE


def _send_page(
    session: Session, ticket: Ticket, team: OnCallTeam, *, position: int, attempt: int, now: datetime
) -> Page:
    email = ticket.clock["paging_order"][position]
    page = Page(
        ticket_id=ticket.id,
        team=team.name,
        email=email,
        position=position,
        attempt=attempt,
        sent_at=now,
        status="pending",
    )
    session.add(page)
    session.flush()
    lang = _language_of(session, email)
    org = directory.org_by_id(session, org_id=ticket.org_id)
    details = ticket.details or {}
    impact = details.get("impact")
    since = _since(ticket.opened_at, now, lang)
    # Who to call back (a P1 request carries a phone number).
    contact = " · ".join(str(v) for v in (details.get("contact_name"), details.get("phone")) if v) or "—"
    card = page_cards.page_card(
        number=ticket.number,
        org=org.name if org else "?",
        service=ticket.service,
        impact=str(impact) if impact is not None else "—",
        contact=contact,
        since=since,
        title=ticket.title,
        page_id=page.id,
        lang=lang,
    )
    markdown = i18n.t(
        "page.fallback",
        lang,
        number=ticket.number,
        org=escape_markdown(org.name if org else "?"),
        title=escape_markdown(ticket.title, links=False),
        attempt=attempt,
    )
    outbox.enqueue(
        session,
        now=now,
        to_person_email=email,
        markdown=markdown,
        purpose=f"page:{page.id}",
        urgent=True,
        attachments=[{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    )
    schedule(
        session,
        kind=PAGE_TIMEOUT,
        ref=timer_ref(ticket),
        due_at=now + timedelta(minutes=team.repage_minutes),
        now=now,
        payload={"page_id": page.id},
    )
    return page


def _since(start: datetime, now: datetime, lang: str) -> str:
    minutes = max(0, int((now - start).total_seconds() // 60))
    return i18n.t(
        "page.card.since_value",
        lang,
        time=start.astimezone(AMSTERDAM).strftime("%H:%M"),
        ago=f"{minutes // 60}:{minutes % 60:02d}",
    )


def next_page(session: Session, ticket: Ticket, page: Page, now: datetime, *, rules: Rules) -> None:
    """After an unanswered or declined page: the same engineer again, the next one, or the staff."""
    team = session.get(OnCallTeam, page.team)
    order = ticket.clock.get("paging_order", [])
    if team is not None and page.status == "unanswered" and page.attempt < team.pages_per_engineer:
        _send_page(session, ticket, team, position=page.position, attempt=page.attempt + 1, now=now)
    elif team is not None and page.position + 1 < len(order):
        _send_page(session, ticket, team, position=page.position + 1, attempt=1, now=now)
    else:  # nobody left to page (a team is never deleted, but without it there is nobody either)
        ticket.paging = "exhausted"
        _alert_staff(session, ticket, now, "page.staff.exhausted", rules=rules)


def _alert_staff(
    session: Session, ticket: Ticket, now: datetime, key: str, *, who: str | None = None, rules: Rules, **values: object
) -> None:
    room_id, lang = staff_lang(session)
    if room_id is not None:
        markdown = calling_on(
            session, ticket, now, i18n.t(key, lang, number=ticket.number, **values), lang, who=who, rules=rules
        )
        outbox.enqueue(
            session, now=now, room_id=room_id, markdown=markdown, purpose=f"page:{ticket.number}", urgent=True
        )


def on_timeout(tctx: TimerContext, timer: Timer) -> None:
    """No answer within the interval: page again, unless the ticket no longer needs it.

    The ticket's row is taken first: a resolve, a lower priority or an acknowledgement that
    another worker is committing at this moment is seen here, and nobody is paged for it."""
    session, now = tctx.session, tctx.now
    page = session.get(Page, timer.payload["page_id"])
    if page is None:
        return
    ticket = _locked(session, page.ticket_id)
    if ticket is None:
        return
    session.refresh(page)
    if page.status != "pending" or ticket.paging != "active":
        return
    if not needs_paging(ticket):
        stop_paging(session, ticket, now)
        return
    page.status = "unanswered"
    next_page(session, ticket, page, now, rules=tctx.rules)


def on_undeliverable(tctx: TimerContext, failure: Undeliverable) -> None:
    """Webex would not deliver a page (no account, blocked, the 1:1 gone): the staff are told and
    the next engineer is paged at once, instead of waiting out the re-page interval."""
    kind, _, page_ref = (failure.purpose or "").partition(":")
    if kind != "page" or not page_ref.isdigit():
        return  # not a page (the staff alerts of paging name the ticket)
    session, now = tctx.session, tctx.now
    page = session.get(Page, int(page_ref))
    if page is None or page.status != "pending":
        return
    ticket = _locked(session, page.ticket_id)
    if ticket is None:
        return
    session.refresh(page)
    if page.status != "pending" or ticket.paging != "active":
        return
    if not needs_paging(ticket):
        stop_paging(session, ticket, now)
        return
    page.status, page.answered_at = "undeliverable", now
    cancel(session, kind=PAGE_TIMEOUT, ref=timer_ref(ticket), skip_running=True)
    store.note(
        session,
        ticket,
        actor="system",
        room_id=None,
        now=now,
        action="page undeliverable",
        text=f"{page.email}: {failure.error}",
    )
    order = ticket.clock.get("paging_order", [])
    following = order[page.position + 1] if page.position + 1 < len(order) else None
    # The engineer paged next is the one to call on, not the one Webex cannot reach.
    _alert_staff(
        session,
        ticket,
        now,
        "page.staff.undeliverable",
        who=following or ticket.assignee,
        engineer=escape_markdown(page.email),
        reason=escape_markdown(_reason(failure)),
        rules=tctx.rules,
    )
    next_page(session, ticket, page, now, rules=tctx.rules)


def _reason(failure: Undeliverable) -> str:
    """What Webex said, short: its status and message."""
    detail = failure.error.split(": ", 1)[-1]
    return detail[:160]


def _locked(session: Session, ticket_id: int) -> Ticket | None:
    # populate_existing: the row as it is once locked, not as this session may have read it before.
    return session.get(Ticket, ticket_id, with_for_update=is_postgres(session), populate_existing=True)


# -- listeners of the tickets' events ----------------------------------------------------------------------


def on_ticket_opened(sender: Sender, *, ticket: Ticket, now: datetime) -> None:
    """A ticket opened with a P1 request: the engineer on call is paged."""
    if ticket.requested_priority == "P1":
        start_paging(sender.session, ticket, now, rules=sender.rules)


def on_priority_requested(sender: Sender, *, ticket: Ticket, priority: str, now: datetime) -> None:
    """A customer asked for P1: page; asked for less (withdrew a P1 request): paging stops."""
    if priority == "P1":
        start_paging(sender.session, ticket, now, rules=sender.rules)
    else:
        stop_paging(sender.session, ticket, now)


def on_priority_changed(ctx: Context, *, ticket: Ticket, old: str | None, new: str | None, now: datetime) -> None:
    """An agent or the engineer on call set P1: page; anything else (a kept priority too) stops
    paging, said where it was decided."""
    if old != new and new == "P1":
        start_paging(ctx.session, ticket, now, rules=ctx.rules)
    elif stop_paging(ctx.session, ticket, now):
        ctx.send(room_id=ctx.space.room_id, markdown=ctx.t("page.stopped", number=ticket.number, priority=new))


def on_ticket_resolved(sender: Sender, *, ticket: Ticket, now: datetime) -> None:
    """Resolved (or closed at once): pages stop."""
    stop_paging(sender.session, ticket, now)
