"""Watchers: the addresses an intake names to "also inform" hear of their ticket in a 1:1 message
from the bot: its registration, its resolution and its closure.

A message goes by e-mail (`toPersonEmail`) through the outbox like any other. An address Webex
cannot reach (no Webex account, the bot blocked) fails for good there; the failure is noted
once on the ticket's timeline, and that note is what keeps the address from being sent anything
more about the ticket: it is never retried.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import i18n, outbox
from bot.context import Context
from bot.scheduler import TimerContext
from bot.text import escape_markdown
from bot.undeliverable import Undeliverable
from commands.events import Sender
from storage import directory
from storage import tickets as store
from storage.models.directory import AuditEntry
from storage.models.tickets import Ticket, TicketNumber

PURPOSE = "watcher"
UNREACHABLE = "watcher unreachable"
# What ticket.resolution may hold, in the order a message lists it.
_OUTCOME = ("cause", "resolution", "outcome")


def watchers_of(ticket: Ticket) -> list[str]:
    """The addresses to inform, as the intake stored them (without whoever opened the ticket: the
    thread is theirs)."""
    found = []
    for email in (ticket.details or {}).get("watchers") or []:
        email = str(email).lower()
        if email != ticket.opened_by.lower() and email not in found:
            found.append(email)
    return found


def registered(session: Session, ticket: Ticket, now: datetime, *, by: str) -> None:
    """The ticket is registered (`by`: who reported it, as shown)."""

    def body(lang: str, org: str) -> list[str]:
        lines = [
            i18n.t(
                "watcher.registered",
                lang,
                number=ticket.number,
                kind=i18n.t(f"ticket.kind.{ticket.kind}", lang),
                org=org,
                who=escape_markdown(by),
                title=escape_markdown(ticket.title),
            )
        ]
        if ticket.service:
            lines.append(i18n.t("ticket.line.service", lang, service=ticket.service))
        if ticket.kind == "incident":
            lines.append(i18n.t("ticket.line.priority", lang, priority=ticket.priority or "—"))
        return [*lines, "", i18n.t("watcher.why", lang)]

    _tell(session, ticket, now, body)


def resolved(session: Session, ticket: Ticket, now: datetime) -> None:
    """The ticket was resolved, or closed with its outcome at once (an RFC, an RFI)."""
    if ticket.status == "closed":
        closed(session, ticket, now)
        return

    def body(lang: str, org: str) -> list[str]:
        return [
            i18n.t("watcher.resolved", lang, number=ticket.number, org=org, title=escape_markdown(ticket.title)),
            *_outcome(ticket, lang),
            "",
            i18n.t("watcher.resolved.confirm", lang),
        ]

    _tell(session, ticket, now, body)


def closed(session: Session, ticket: Ticket, now: datetime, *, how: str | None = None) -> None:
    """The ticket is closed; `how`: confirmed or no_answer (None: with its outcome, an RFC or RFI)."""

    def body(lang: str, org: str) -> list[str]:
        lines = [
            i18n.t("watcher.closed", lang, number=ticket.number, org=org, title=escape_markdown(ticket.title)),
            *_outcome(ticket, lang),
        ]
        return [*lines, "", i18n.t(f"watcher.closed.{how}", lang)] if how else lines

    _tell(session, ticket, now, body)


def _outcome(ticket: Ticket, lang: str) -> list[str]:
    record = ticket.resolution or {}
    return [
        i18n.t(f"watcher.line.{key}", lang, text=escape_markdown(str(record[key])))
        for key in _OUTCOME
        if record.get(key)
    ]


def _tell(session: Session, ticket: Ticket, now: datetime, body: Callable[[str, str], list[str]]) -> None:
    """One 1:1 message to each watcher Webex has not refused, in the watcher's language (else the
    customer space's)."""
    watchers = watchers_of(ticket)
    if not watchers:
        return
    skip = unreachable(session, ticket)
    org = directory.org_by_id(session, org_id=ticket.org_id)
    org_name = escape_markdown(org.name) if org is not None else "?"
    space_lang = directory.space_language(session, room_id=ticket.room_id) or i18n.DEFAULT_LANGUAGE
    for email in watchers:
        if email in skip:
            continue
        person = directory.person(session, email=email)
        lang = person.language if person is not None and person.language else space_lang
        outbox.enqueue(
            session,
            now=now,
            to_person_email=email,
            markdown="\n".join(body(lang, org_name)),
            purpose=f"ticket:{ticket.number}:{PURPOSE}",
        )


def unreachable(session: Session, ticket: Ticket) -> set[str]:
    """The watchers of `ticket` Webex refused, as its timeline notes them (under any of its numbers)."""
    rows = session.scalars(
        select(AuditEntry.new)
        .join(TicketNumber, TicketNumber.number == AuditEntry.subject)
        .where(
            TicketNumber.ticket_id == ticket.id, AuditEntry.subject_type == "ticket", AuditEntry.action == UNREACHABLE
        )
    )
    return {str(new.get("email")) for new in rows if new}


def on_undeliverable(tctx: TimerContext, failure: Undeliverable) -> None:
    """Webex refused a watcher's message for good: noted once on the ticket's timeline; the address
    gets nothing more about it."""
    kind, _, rest = (failure.purpose or "").partition(":")
    number, _, what = rest.rpartition(":")
    if kind != "ticket" or what != PURPOSE or not failure.to_person_email:
        return
    session = tctx.session
    # The ticket's row is the lock: two failures for one address (its registration and its
    # resolution, both sent before the first failed) handled at once note it once.
    ticket = store.find(session, number=number, org_id=None, for_update=True)
    if ticket is None:
        return
    email = failure.to_person_email.lower()
    if email in unreachable(session, ticket):
        return
    reason = failure.error.split(": ", 1)[-1][:160]
    directory.audit(
        session,
        at=tctx.now,
        actor="system",
        room_id=None,
        subject_type="ticket",
        subject=ticket.number,
        action=UNREACHABLE,
        new={"text": f"{email}: {reason}", "email": email},
    )


# -- listeners of the tickets' events ----------------------------------------------------------------------


def on_ticket_opened(ctx: Context, *, ticket: Ticket, now: datetime) -> None:
    """A ticket was registered: its watchers hear who reported it."""
    registered(ctx.session, ticket, now, by=ctx.actor.display_name or ctx.actor.email)


def on_ticket_resolved(sender: Sender, *, ticket: Ticket, now: datetime) -> None:
    """A ticket was resolved (or closed with its outcome at once): its watchers hear the outcome."""
    resolved(sender.session, ticket, now)


def on_ticket_closed(sender: Sender, *, ticket: Ticket, now: datetime, how: str) -> None:
    """A resolution was confirmed, or 2-2-2 closed the ticket: its watchers hear. A complaint closed
    by agreement is not told them: the agreement is between the desk and the customer."""
    if how != "agreed":
        closed(sender.session, ticket, now, how=how)
