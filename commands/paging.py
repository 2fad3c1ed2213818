"""P1 paging: the on-call rota, pages with Acknowledge / Decline, re-pages and the rota's end.

A P1 request or confirmation pages whoever is on call at that instant in a 1:1 space. Every
step is a durable timer: no answer within the team's interval → page again; after the
team's number of pages → the next engineer; rota exhausted → the staff space is alerted.
Acknowledge stops all of it, once: the ticket row is the lock, so of two engineers pressing
at the same moment one wins and the other is told. Paging also stops when the ticket no longer
needs it (resolved, closed, no P1 any more): the engineers paged are told, a page card pressed
later answers with the ticket's state, and a page timer due meanwhile checks the ticket first.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import i18n, outbox, parse
from rules.calendar import Calendar
from rules import Rules
from bot.clock import AMSTERDAM
from bot.context import Context
from bot.errors import Refused
from bot.router import Args, Router
from bot.scheduler import TimerContext, cancel, schedule, TimerRegistry
from bot.security import AGENT, CUSTOMER, ENGINEER, IN_DIRECT, IN_STAFF, STAFF_ROLES
from bot.text import escape_markdown, mention
from bot.undeliverable import Undeliverable
from cards import paging as page_cards
from cards.paging import Action
from commands import clocks
from storage import directory
from storage import tickets as store
from storage.db import is_postgres
from storage.models import OnCallShift, OnCallTeam, Page, Ticket

PAGE_TIMEOUT = "page.timeout"
STAFF_OR_DIRECT = frozenset({IN_STAFF, IN_DIRECT})
ENGINEERS = frozenset({ENGINEER, AGENT})
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_TEAM = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def _ref(ticket: Ticket) -> str:
    return f"ticket:{ticket.id}"


# -- the rota ------------------------------------------------------------------------------------------


def get_team(session: Session, name: str | None = None, *, rules: Rules) -> OnCallTeam | None:
    """A team by name (the desk's paging team when None)."""
    return session.get(OnCallTeam, (name or rules.desk.paging_team).lower())


def order_at(session: Session, team: OnCallTeam, now: datetime) -> list[str]:
    """Who is paged, in order, at `now`: the engineer of the current shift first, then the rota."""
    shifts = session.scalars(
        select(OnCallShift).where(OnCallShift.team == team.name, OnCallShift.starts_at <= now).order_by(OnCallShift.starts_at.desc(),
                                                                                                       OnCallShift.id.desc())
    )
    current = next((s.email for s in shifts if s.ends_at is None or s.ends_at > now), None)
    order = [current] if current else []
    return order + [e for e in team.rota if e not in order]


def must_act(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> str | None:
    """Who a staff alert about `ticket` calls on: its assignee, else the engineer on call now (None: nobody)."""
    if ticket.assignee:
        return ticket.assignee
    team = get_team(session, rules=rules)
    order = order_at(session, team, now) if team is not None else []
    # Nobody Webex could not deliver this ticket's page to: mentioning them notifies no one.
    unreachable = set(session.scalars(select(Page.email).where(Page.ticket_id == ticket.id, Page.status == "undeliverable")))
    return next((email for email in order if email not in unreachable), None)


def calling_on(session: Session, ticket: Ticket, now: datetime, markdown: str, lang: str, *, who: str | None = None, rules: Rules) -> str:
    """A staff alert with a line that mentions who must act (`who`, else must_act): Webex notifies
    a person only when mentioned."""
    who = who or must_act(session, ticket, now, rules=rules)
    return markdown if who is None else "\n".join([markdown, i18n.t("staff.must_act", lang, who=mention(who))])


# -- paging --------------------------------------------------------------------------------------------


def needs_paging(ticket: Ticket) -> bool:
    """A P1, confirmed or requested, that is neither resolved nor closed: someone must be on it."""
    return ticket.status not in ("resolved", "closed") and "P1" in (ticket.priority, ticket.requested_priority)


def start_paging(session: Session, ticket: Ticket, now: datetime, *, rules: Rules) -> None:
    """Page the on-call engineer about a P1, unless paging runs already or was acknowledged."""
    if ticket.paging in ("active", "acknowledged") or not needs_paging(ticket):
        return
    team = get_team(session, rules=rules)
    order = order_at(session, team, now) if team is not None else []
    if not order:
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
    cancel(session, kind=PAGE_TIMEOUT, ref=_ref(ticket), skip_running=True)
    store.change(session, ticket, actor="system", room_id=None, now=now, action="paging stopped", paging="stopped")
    for email in paged:
        lang = _language_of(session, email)
        # Someone woken by the page may be getting up for it: they hear at once that they need not.
        outbox.enqueue(session, now=now, to_person_email=email, purpose=f"page:{ticket.number}:stopped", urgent=True,
                       markdown=i18n.t("page.stand_down", lang, number=ticket.number, why=why_not_paged(ticket, lang)))
    return True


def why_not_paged(ticket: Ticket, lang: str) -> str:
    """Why a ticket needs no page (any more), in `lang`: its state."""
    if ticket.status in ("resolved", "closed"):
        return i18n.t(f"page.why.{ticket.status}", lang)
    return i18n.t("page.why.priority", lang, priority=ticket.priority or "—")


def _language_of(session: Session, email: str) -> str:
    person = directory.person(session, email=email)
    return person.language if person is not None and person.language else i18n.DEFAULT_LANGUAGE


def _send_page(session: Session, ticket: Ticket, team: OnCallTeam, *, position: int, attempt: int, now: datetime) -> Page:
    email = ticket.clock["paging_order"][position]
    page = Page(ticket_id=ticket.id, team=team.name, email=email, position=position, attempt=attempt, sent_at=now, status="pending")
    session.add(page)
    session.flush()
    lang = _language_of(session, email)
    org = directory.org_by_id(session, org_id=ticket.org_id)
    details = ticket.details or {}
    impact = details.get("impact")
    since = _since(ticket.opened_at, now, lang)
    # Who to call back (a P1 request carries a phone number).
    contact = " · ".join(str(v) for v in (details.get("contact_name"), details.get("phone")) if v) or "—"
    card = page_cards.page_card(number=ticket.number, org=org.name if org else "?", service=ticket.service,
                                impact=str(impact) if impact is not None else "—", contact=contact, since=since, title=ticket.title,
                                page_id=page.id, lang=lang)
    markdown = i18n.t("page.fallback", lang, number=ticket.number, org=escape_markdown(org.name if org else "?"),
                      title=escape_markdown(ticket.title, links=False), attempt=attempt)
    outbox.enqueue(session, now=now, to_person_email=email, markdown=markdown, purpose=f"page:{page.id}", urgent=True,
                   attachments=[{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}])
    schedule(session, kind=PAGE_TIMEOUT, ref=_ref(ticket), due_at=now + timedelta(minutes=team.repage_minutes), now=now,
             payload={"page_id": page.id})
    return page


def _since(start: datetime, now: datetime, lang: str) -> str:
    minutes = max(0, int((now - start).total_seconds() // 60))
    return i18n.t("page.card.since_value", lang, time=start.astimezone(AMSTERDAM).strftime("%H:%M"),
                  ago=f"{minutes // 60}:{minutes % 60:02d}")


def _next(session: Session, ticket: Ticket, page: Page, now: datetime, *, rules: Rules) -> None:
    """After an unanswered or declined page: the same engineer again, the next one, or the staff."""
    team = session.get(OnCallTeam, page.team)
    order = ticket.clock.get("paging_order", [])
    if page.status == "unanswered" and page.attempt < team.pages_per_engineer:
        _send_page(session, ticket, team, position=page.position, attempt=page.attempt + 1, now=now)
    elif page.position + 1 < len(order):
        _send_page(session, ticket, team, position=page.position + 1, attempt=1, now=now)
    else:
        ticket.paging = "exhausted"
        _alert_staff(session, ticket, now, "page.staff.exhausted", rules=rules)


def _alert_staff(session: Session, ticket: Ticket, now: datetime, key: str, *, who: str | None = None, rules: Rules, **values: object) -> None:
    room_id, lang = clocks.staff_lang(session)
    if room_id is not None:
        markdown = calling_on(session, ticket, now, i18n.t(key, lang, number=ticket.number, **values), lang, who=who, rules=rules)
        outbox.enqueue(session, now=now, room_id=room_id, markdown=markdown, purpose=f"page:{ticket.number}", urgent=True)


def on_timeout(tctx: TimerContext, timer: Any) -> None:
    """No answer within the interval: page again, unless the ticket no longer needs it.

    The ticket's row is taken first: a resolve, a lower priority or an acknowledgement that
    another worker is committing at this moment is seen here, and nobody is paged for it."""
    session, now = tctx.session, tctx.now
    page = session.get(Page, timer.payload["page_id"])
    if page is None:
        return
    ticket = _locked(session, page.ticket_id)
    session.refresh(page)
    if page.status != "pending" or ticket.paging != "active":
        return
    if not needs_paging(ticket):
        stop_paging(session, ticket, now)
        return
    page.status = "unanswered"
    _next(session, ticket, page, now, rules=tctx.rules)


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
    session.refresh(page)
    if page.status != "pending" or ticket.paging != "active":
        return
    if not needs_paging(ticket):
        stop_paging(session, ticket, now)
        return
    page.status, page.answered_at = "undeliverable", now
    cancel(session, kind=PAGE_TIMEOUT, ref=_ref(ticket), skip_running=True)
    store.note(session, ticket, actor="system", room_id=None, now=now, action="page undeliverable",
               text=f"{page.email}: {failure.error}")
    order = ticket.clock.get("paging_order", [])
    following = order[page.position + 1] if page.position + 1 < len(order) else None
    # The engineer paged next is the one to call on, not the one Webex cannot reach.
    _alert_staff(session, ticket, now, "page.staff.undeliverable", who=following or ticket.assignee,
                 engineer=escape_markdown(page.email), reason=escape_markdown(_reason(failure)), rules=tctx.rules)
    _next(session, ticket, page, now, rules=tctx.rules)


def _reason(failure: Undeliverable) -> str:
    """What Webex said, short: its status and message."""
    detail = failure.error.split(": ", 1)[-1]
    return detail[:160]


def _locked(session: Session, ticket_id: int) -> Ticket:
    # populate_existing: the row as it is once locked, not as this session may have read it before.
    return session.get(Ticket, ticket_id, with_for_update=is_postgres(session), populate_existing=True)


def acknowledge(ctx: Context, ticket_number: str, page_id: int | None) -> None:
    """Acknowledge: stop every page of the ticket, record the first response, tell customer and staff."""
    ticket = _ticket(ctx, ticket_number)
    now = ctx.now()
    _refuse_when_not_needed(ctx, ticket)
    if ticket.paging == "acknowledged":
        ctx.reply(ctx.t("page.already", number=ticket.number, who=escape_markdown(ticket.acknowledged_by or "?"),
                        time=ticket.acknowledged_at.astimezone(AMSTERDAM).strftime("%H:%M")))
        return
    if ticket.paging not in ("active", "exhausted"):
        raise Refused("page.not_paging", number=ticket.number)
    for page in ctx.session.scalars(select(Page).where(Page.ticket_id == ticket.id, Page.status == "pending")):
        page.status = "acknowledged" if page.id == page_id and page.email == ctx.actor.email else "stopped"
        page.answered_at = now
    cancel(ctx.session, kind=PAGE_TIMEOUT, ref=_ref(ticket), skip_running=True)
    who = ctx.actor.display_name or ctx.actor.email
    changes: dict[str, Any] = {"paging": "acknowledged", "acknowledged_by": who, "acknowledged_at": now}
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    if ticket.status == "new":
        changes["status"] = "in_progress"
    store.change(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="page acknowledged", **changes)
    # Who acknowledged, by address: out of office hours they may decide the requested priority.
    ticket.clock = {**(ticket.clock or {}), "acknowledged_email": ctx.actor.email}
    time = now.astimezone(AMSTERDAM).strftime("%H:%M")
    lang = clocks.customer_lang(ctx.session, ticket)
    # The customer and the staff hear at once that someone is on it: before any bulk sending.
    if directory.reachable(ctx.session, room_id=ticket.room_id):
        outbox.enqueue(ctx.session, now=now, room_id=ticket.room_id, parent_outbox_id=ticket.root_outbox_id,
                       purpose=f"ticket:{ticket.number}", urgent=True,
                       markdown=i18n.t("page.customer.working", lang, number=ticket.number, who=escape_markdown(who), time=time))
    room_id, staff_language = clocks.staff_lang(ctx.session)
    if room_id is not None:
        outbox.enqueue(ctx.session, now=now, room_id=room_id, purpose=f"ticket:{ticket.number}", urgent=True,
                       markdown=i18n.t("page.staff.working", staff_language, number=ticket.number, who=escape_markdown(who), time=time))
    clocks.refresh(ctx.session, ticket, now, rules=ctx.rules)
    thanks = ctx.t("page.acknowledged", number=ticket.number)
    requested = ticket.requested_priority
    if requested and requested != ticket.priority and not _office(rules=ctx.rules).is_business_time(now):
        # No agent is there to confirm the request: the engineer on it decides, from this answer.
        ctx.reply("\n".join([thanks, ctx.t("page.decide.fallback", number=ticket.number, requested=requested)]),
                  card=page_cards.decision_card(number=ticket.number, priority=ticket.priority or "P3", requested=requested,
                                                lang=ctx.lang))
    else:
        ctx.reply(thanks)


def _office(*, rules: Rules) -> Calendar:
    return rules.office_calendar()


def decides_on_call(ctx: Context, ticket: Ticket, now: datetime) -> bool:
    """Whether the actor sets the priority of `ticket` as its on-call engineer: out of office hours,
    the engineer who acknowledged its page confirms or lowers a requested P1 (SPEC §3: the guide's
    stand-by handles P1 at night). False for agents and customers (they set and ask as before); any
    other engineer is refused, told who may."""
    if ctx.actor.has_any(frozenset({AGENT})) or ENGINEER not in ctx.actor.roles:
        return False
    out_of_hours = not _office(rules=ctx.rules).is_business_time(now)
    if out_of_hours and (ticket.clock or {}).get("acknowledged_email") == ctx.actor.email:
        return True
    if CUSTOMER in ctx.actor.roles:
        return False  # in their organisation's space they ask, as its other members do
    if not out_of_hours:
        raise Refused("page.decide.office_hours", number=ticket.number)
    if ticket.acknowledged_by is None:
        raise Refused("page.decide.not_acknowledged", number=ticket.number)
    raise Refused("page.decide.someone_else", number=ticket.number, who=escape_markdown(ticket.acknowledged_by))


def decline(ctx: Context, ticket_number: str, page_id: int | None) -> None:
    """Decline: the next engineer is paged at once."""
    ticket = _ticket(ctx, ticket_number)
    _refuse_when_not_needed(ctx, ticket)
    page = ctx.session.get(Page, page_id) if page_id else None
    if ticket.paging != "active" or page is None or page.ticket_id != ticket.id or page.status != "pending" or page.email != ctx.actor.email:
        raise Refused("page.not_yours", number=ticket.number)
    now = ctx.now()
    page.status, page.answered_at = "declined", now
    cancel(ctx.session, kind=PAGE_TIMEOUT, ref=_ref(ticket), skip_running=True)
    store.note(ctx.session, ticket, actor=ctx.actor.email, room_id=ctx.space.room_id, now=now, action="page declined", text="")
    _next(ctx.session, ticket, page, now, rules=ctx.rules)
    ctx.reply(ctx.t("page.declined", number=ticket.number))


def _refuse_when_not_needed(ctx: Context, ticket: Ticket) -> None:
    """A page answered after the ticket stopped needing it: say the ticket's state, change nothing."""
    if ticket.paging is not None and not needs_paging(ticket):
        raise Refused("page.not_needed", number=ticket.number, why=why_not_paged(ticket, ctx.lang))


def _ticket(ctx: Context, number: str) -> Ticket:
    ticket = store.find(ctx.session, number=number, org_id=None, for_update=True) if store.normalise_number(number) else None
    if ticket is None:
        raise Refused("ticket.not_found", number=store.normalise_number(number) or escape_markdown(number[:20]))
    return ticket


def _page_id(inputs: dict[str, Any]) -> int | None:
    return parse.row_id(inputs.get("page"))


def ack_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Acknowledge, from the page card."""
    acknowledge(ctx, str(inputs.get("ticket", "")), _page_id(inputs))


def decline_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Decline, from the page card."""
    decline(ctx, str(inputs.get("ticket", "")), _page_id(inputs))


def priority_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Confirm P1 / Lower to P2 / Keep P3, on the acknowledgement out of office hours: the same as /priority."""
    from commands.tickets import set_priority

    ticket = _ticket(ctx, str(inputs.get("ticket", "")))
    reason = str(inputs.get("reason", "")).strip() or i18n.t("page.decide.default_reason", clocks.customer_lang(ctx.session, ticket))
    set_priority(ctx, ticket, str(inputs.get("priority", "")), reason)


def view_button(ctx: Context, inputs: dict[str, Any]) -> None:
    """Open ticket, from the page card: its details and targets, here."""
    from commands.tickets import ticket_view

    ctx.reply(ticket_view(ctx, _ticket(ctx, str(inputs.get("ticket", "")))))


def ack_command(ctx: Context, args: Args) -> None:
    """Acknowledge a page by typing (when the card is out of reach)."""
    number = args.text.strip()
    if not store.normalise_number(number):
        raise Refused("ticket.which")
    acknowledge(ctx, number, None)


def page_log(session: Session, ticket: Ticket) -> list[Page]:
    """Every page of a ticket, oldest first."""
    return list(session.scalars(select(Page).where(Page.ticket_id == ticket.id).order_by(Page.id)))


# -- /oncall ---------------------------------------------------------------------------------------------


def oncall(ctx: Context, args: Args) -> None:
    """Who is on call now, and who is next."""
    team = get_team(ctx.session, args.text.strip().lower() or None, rules=ctx.rules)
    if team is None:
        raise Refused("oncall.no_team", team=escape_markdown(args.text.strip() or ctx.rules.desk.paging_team))
    order = order_at(ctx.session, team, ctx.now())
    if not order:
        raise Refused("oncall.empty", team=team.name)
    ctx.reply(ctx.t("oncall.now", team=team.name, now=escape_markdown(order[0]), next=escape_markdown(order[1]) if len(order) > 1 else "—",
                    minutes=team.repage_minutes, pages=team.pages_per_engineer))


def oncall_set(ctx: Context, args: Args) -> None:
    """Set a team's rota, in paging order, and optionally how patiently it is paged."""
    words = args.words
    options = {w.split("=", 1)[0].lower(): w.split("=", 1)[1] for w in words if "=" in w}
    words = [w for w in words if "=" not in w]
    if len(words) < 2 or set(options) - {"repage", "pages"}:
        raise Refused("oncall.set.usage", usage=args.usage)
    name, emails = words[0].lower(), [w.lower() for w in words[1:]]
    if not _TEAM.match(name):
        raise Refused("oncall.bad_team", team=escape_markdown(words[0][:40]))
    bad = [e for e in emails if not _EMAIL.match(e)]
    if bad or len(emails) > 20 or len(set(emails)) != len(emails):
        raise Refused("oncall.bad_emails", emails=escape_markdown(", ".join(bad) or ", ".join(emails)))
    _require_webex_accounts(ctx, emails)
    try:
        repage = int(options.get("repage", ctx.rules.desk.repage_minutes))
        pages = int(options.get("pages", ctx.rules.desk.pages_per_engineer))
    except ValueError:
        raise Refused("oncall.bad_patience") from None
    if not (1 <= repage <= 120 and 1 <= pages <= 10):
        raise Refused("oncall.bad_patience")
    team = ctx.session.get(OnCallTeam, name)
    old = {"rota": list(team.rota), "repage": team.repage_minutes, "pages": team.pages_per_engineer} if team else {}
    if team is None:
        team = OnCallTeam(name=name, rota=emails, repage_minutes=repage, pages_per_engineer=pages)
        ctx.session.add(team)
    else:
        team.rota = emails
        if "repage" in options:
            team.repage_minutes = repage
        if "pages" in options:
            team.pages_per_engineer = pages
    directory.audit(ctx.session, at=ctx.now(), actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="oncall", subject=name,
                    action="rota set", old=old or None,
                    new={"rota": emails, "repage": team.repage_minutes, "pages": team.pages_per_engineer})
    ctx.reply(ctx.t("oncall.set.done", team=name, rota=escape_markdown(", ".join(emails)), minutes=team.repage_minutes,
                    pages=team.pages_per_engineer))


def _require_webex_accounts(ctx: Context, emails: list[str]) -> None:
    """Refuse addresses Webex has no person for: a page to them could never be delivered."""
    unknown = [e for e in emails if ctx.runtime.webex.find_person(e) is None]
    if unknown:
        raise Refused("oncall.unknown_people", emails=escape_markdown(", ".join(unknown)))


def oncall_swap(ctx: Context, args: Args) -> None:
    """`email` takes over now (until the next planned shift starts)."""
    words = args.words
    if not words or not _EMAIL.match(words[0]):
        raise Refused("oncall.swap.usage", usage=args.usage)
    team = get_team(ctx.session, words[1].lower() if len(words) > 1 else None, rules=ctx.rules)
    if team is None:
        raise Refused("oncall.no_team", team=escape_markdown(words[1] if len(words) > 1 else ctx.rules.desk.paging_team))
    _require_webex_accounts(ctx, [words[0].lower()])
    now = ctx.now()
    upcoming = ctx.session.scalars(select(OnCallShift).where(OnCallShift.team == team.name, OnCallShift.starts_at > now)
                                   .order_by(OnCallShift.starts_at)).first()
    ctx.session.add(OnCallShift(team=team.name, email=words[0].lower(), starts_at=now, ends_at=upcoming.starts_at if upcoming else None,
                                created_by=ctx.actor.email))
    directory.audit(ctx.session, at=now, actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="oncall", subject=team.name,
                    action="swap", new={"email": words[0].lower()})
    ctx.reply(ctx.t("oncall.swap.done", team=team.name, email=escape_markdown(words[0].lower())))


def oncall_shift(ctx: Context, args: Args) -> None:
    """Plan a shift: from and to as 2026-12-24T18:00 (Amsterdam time)."""
    words = args.words
    if len(words) != 4 or not _EMAIL.match(words[3]):
        raise Refused("oncall.shift.usage", usage=args.usage)
    team = get_team(ctx.session, words[0].lower(), rules=ctx.rules)
    if team is None:
        raise Refused("oncall.no_team", team=escape_markdown(words[0][:40]))
    today = ctx.now().astimezone(AMSTERDAM).date()
    start = parse.local_instant(words[1], field="input.field.start", today=today)
    end = parse.local_instant(words[2], field="input.field.end", today=today)
    if end <= start:
        raise Refused("oncall.shift.order")
    _require_webex_accounts(ctx, [words[3].lower()])
    ctx.session.add(OnCallShift(team=team.name, email=words[3].lower(), starts_at=start, ends_at=end, created_by=ctx.actor.email))
    directory.audit(ctx.session, at=ctx.now(), actor=ctx.actor.email, room_id=ctx.space.room_id, subject_type="oncall", subject=team.name,
                    action="shift", new={"email": words[3].lower(), "from": start.isoformat(), "to": end.isoformat()})
    ctx.reply(ctx.t("oncall.shift.done", team=team.name, email=escape_markdown(words[3].lower()),
                    start=i18n.when(start, ctx.lang, AMSTERDAM), end=i18n.when(end, ctx.lang, AMSTERDAM)))


def register(router: Router, timers: TimerRegistry) -> None:
    """Register this family's commands, card actions and timers."""
    timers.handler(PAGE_TIMEOUT)(on_timeout)
    timers.on_undeliverable(on_undeliverable)
    router.card_action(Action.ACK, fields=page_cards.PAGE_FIELDS, roles=ENGINEERS, spaces=STAFF_OR_DIRECT, unlimited=True)(ack_button)
    router.card_action(Action.DECLINE, fields=page_cards.PAGE_FIELDS, roles=ENGINEERS, spaces=STAFF_OR_DIRECT, unlimited=True)(decline_button)
    router.card_action(Action.PRIORITY, fields=page_cards.DECISION_FIELDS, roles=ENGINEERS, spaces=STAFF_OR_DIRECT, unlimited=True)(priority_button)
    router.card_action(Action.VIEW, fields=page_cards.VIEW_FIELDS, roles=ENGINEERS, spaces=STAFF_OR_DIRECT)(view_button)
    router.command("ack", roles=ENGINEERS, spaces=STAFF_OR_DIRECT, usage="/ack <number>", unlimited=True)(ack_command)
    router.command("oncall", roles=STAFF_ROLES, spaces=STAFF_OR_DIRECT, usage="/oncall [team]")(oncall)
    router.command("oncall set", roles=frozenset({AGENT}), spaces=STAFF_OR_DIRECT,
                   usage="/oncall set <team> <email> [<email> …] [repage=<minutes>] [pages=<per engineer>]")(oncall_set)
    router.command("oncall swap", roles=ENGINEERS, spaces=STAFF_OR_DIRECT, usage="/oncall swap <email> [team]")(oncall_swap)
    router.command("oncall shift", roles=frozenset({AGENT}), spaces=STAFF_OR_DIRECT, usage="/oncall shift <team> <from> <to> <email>")(oncall_shift)
