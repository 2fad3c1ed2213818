"""Detection: several organisations' incidents on one service in a short time make a proposal to the staff."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import i18n, outbox
from cards import disruptions as dis_cards
from commands import events
from commands.common.threads import staff_lang
from storage.models.operations import DisruptionProposal
from storage.models.tickets import Ticket

DETECT_WINDOW = timedelta(minutes=30)
DETECT_COUNT, DETECT_ORGS = 3, 2
PROPOSAL_NAMES = 20


def detect(session: Session, ticket: Ticket, now: datetime) -> None:
    """3+ incidents on one service from 2+ organisations within 30 minutes → propose a disruption to the staff."""
    service = ticket.service
    if ticket.kind != "incident" or not service:
        return
    earlier = session.scalars(
        select(DisruptionProposal).where(
            DisruptionProposal.service == service, DisruptionProposal.created_at > now - DETECT_WINDOW
        )
    ).all()
    if any(p.status == "proposed" for p in earlier):
        return  # the staff have not answered the last proposal yet; during a storm that is every incident
    recent = session.execute(
        select(Ticket.id, Ticket.org_id, Ticket.details).where(
            Ticket.kind == "incident",
            Ticket.service == service,
            Ticket.opened_at > now - DETECT_WINDOW,
            Ticket.opened_at <= now,
        )
    ).all()
    recent = [t for t in recent if not (t.details or {}).get("disruption")]
    if len(recent) < DETECT_COUNT or len({t.org_id for t in recent}) < DETECT_ORGS:
        return
    ids = sorted(t.id for t in recent)
    if any(set(ids) <= set(p.ticket_ids) for p in earlier):
        return
    proposal = DisruptionProposal(service=service, ticket_ids=ids, status="proposed", created_at=now)
    session.add(proposal)
    session.flush()
    room_id, lang = staff_lang(session)
    if room_id is None:
        return
    found = list(session.scalars(select(Ticket.number).where(Ticket.id.in_(ids)).order_by(Ticket.id)))
    # A storm can link hundreds of incidents: the message names the first ones (the form carries them all).
    numbers = ", ".join(found[:PROPOSAL_NAMES]) + (
        f", … (+{len(found) - PROPOSAL_NAMES})" if len(found) > PROPOSAL_NAMES else ""
    )
    count, orgs = len(ids), len({t.org_id for t in recent})
    markdown = i18n.t("dis.proposal", lang, count=count, service=service, orgs=orgs, tickets=numbers)
    card = dis_cards.proposal(
        count=count, service=service, orgs=orgs, tickets=numbers, proposal_id=proposal.id, lang=lang
    )
    outbox.enqueue(
        session,
        now=now,
        room_id=room_id,
        markdown=markdown,
        purpose=f"disruption:proposal:{proposal.id}",
        attachments=[{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    )


def proposals_answered(session: Session, ticket_ids: list[int]) -> None:
    """A disruption was opened with these tickets: every proposal they cover is answered."""
    for proposal in session.scalars(select(DisruptionProposal).where(DisruptionProposal.status == "proposed")):
        if set(proposal.ticket_ids) <= set(ticket_ids):
            proposal.status = "opened"


def proposal_dismissed(proposal: DisruptionProposal) -> None:
    """ "Not related": the proposal is set aside."""
    proposal.status = "dismissed"


def on_ticket_opened(sender: events.Sender, *, ticket: Ticket, now: datetime) -> None:
    """A ticket was registered: detection looks for a disruption."""
    detect(sender.session, ticket, now)
