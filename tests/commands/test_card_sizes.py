"""No message the bot sends is too big for Webex, whatever users type into its free-text fields.

Every flow that echoes free text is driven through the sandbox with each field at its longest,
once in plain letters, once in punctuation (which escaping grows) and once in multi-byte text
(é, emoji: six and twelve bytes each in a card's JSON). Afterwards every message the sandbox
received has at most 7,439 bytes of text and of markdown, every card at most 20,000 bytes of
JSON as the SDK sends it and validates against Adaptive Cards 1.3, and no message failed.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import cycle, islice

import pytest
from sqlalchemy import select

from bot import outbox
from bot.text import escape_markdown
from cards.common import MAX_CARD_BYTES, SHORTENED, card_bytes
from cards.disruptions import FIELD_MAX
from cards.intake import intake_form
from cards.maintenance import IMPACT_MAX
from cards.tickets import NAME_MAX, TEXT_MAX, TITLE_MAX, staff_ticket
from commands.admin.handlers import ORG_NAME_MAX
from commands.escalation.handlers import REASON_MAX
from commands.problems.handlers import TITLE_MAX as PROBLEM_TITLE_MAX
from sandbox.demo import (
    ACME_ROOM,
    ADA_EMAIL,
    ANNA_EMAIL,
    BOT_EMAIL,
    BRAM_EMAIL,
    FATIMA_EMAIL,
    POLDER_ROOM,
    SANNE_EMAIL,
    STAFF_ROOM,
)
from storage.models.runtime import InboxEvent, OutboxMessage
from storage.models.tickets import Ticket
from tests.cards.test_cards_valid import _validator
from tests.harness import local, tick

KINDS = {
    "letters": "Lorem ipsum dolor sit amet consectetur ",
    "punctuation": r"*_[]()#-.!|`<>&\"{}~+=:;'\/",
    "multibyte": "é😀ü€ñ🚀",
}


def fill(kind: str, length: int, *, without: str = "") -> str:
    """`length` characters of one kind of text."""
    return "".join(islice(cycle(ch for ch in KINDS[kind] if ch not in without), length))


@pytest.fixture(params=list(KINDS))
def kind(request):
    return request.param


pytestmark = pytest.mark.admins(ADA_EMAIL)


def _say(harness, email: str, room: str, command: str, text: str = "") -> dict:
    """A command with free text typed literally, as long as a message to Webex may be; the bot's last message there."""
    mention = f"<@personEmail:{BOT_EMAIL}> "
    while text and len((mention + command + escape_markdown(text)).encode("utf-8")) > outbox.MAX_MESSAGE_BYTES:
        text = text[: -max(1, len(text) // 50)]
    harness.say(email, room, command + escape_markdown(text))
    harness.run()
    return harness.bot_messages(room)[-1]


def _press(harness, email: str, message: dict, inputs: dict) -> None:
    harness.press(email, message, inputs)
    harness.run()


def _card_message(harness, room: str) -> dict:
    return [m for m in harness.bot_messages(room) if m.get("attachments")][-1]


def _number(db, kind: str) -> str:
    with db.scope() as s:
        return s.scalars(select(Ticket.number).where(Ticket.kind == kind).order_by(Ticket.id.desc())).first()


def _check_everything_sent_fits(harness, db) -> list[dict]:
    """Every bot message in the sandbox within Webex's sizes, every card valid; none failed or waiting. The cards."""
    for _ in range(60):  # notices to whole audiences are paced: give them the seconds they take
        if not harness.sender.drain():
            harness.clock.advance(timedelta(seconds=1))
        if not harness.sender.drain():
            break
    me = harness.runtime.webex.identity().person_id
    sent = [m for m in harness.state.messages.values() if m["personId"] == me]
    cards = []
    for message in sent:
        for field in ("text", "markdown"):
            assert len((message.get(field) or "").encode("utf-8")) <= outbox.MAX_MESSAGE_BYTES, (
                field,
                message.get(field, "")[:80],
            )
        for attachment in message.get("attachments", []):
            content = attachment["content"]
            assert card_bytes(content) <= MAX_CARD_BYTES
            assert [e.message for e in _validator().iter_errors(content)] == []
            cards.append(content)
    with db.scope() as s:
        assert s.scalars(select(OutboxMessage.status).where(OutboxMessage.status != "sent")).all() == []
        # No command broke on its long text (a failed event is one answered with an apology).
        assert s.scalars(select(InboxEvent.error).where(InboxEvent.status == "failed")).all() == []
    return cards


def _shortened(cards: list[dict]) -> int:
    return sum(any(e.get("id") == SHORTENED for e in c["body"]) for c in cards)


@pytest.mark.sweep
def test_tickets_staff_cards_pages_and_warnings(harness, db, kind):
    harness.at(local(2026, 11, 23, 10, 0))
    # A new organisation with the longest name, bound to Acme's space: every staff card, page and warning names it.
    harness.add_member(ACME_ROOM, ADA_EMAIL)
    _say(harness, ADA_EMAIL, ACME_ROOM, "/space unbind")
    asked = _say(
        harness, ADA_EMAIL, ACME_ROOM, "/space bind ", fill(kind, ORG_NAME_MAX, without="<>")
    )  # names refuse < and >
    _press(
        harness,
        ADA_EMAIL,
        asked,
        {**asked["attachments"][0]["content"]["actions"][0]["data"], "sla_profile": "iot", "language": "en"},
    )

    # Intake through the forms, every free-text field at its longest; a P1 request pages the engineer.
    forms = {
        "incident": {
            "title": fill(kind, TITLE_MAX),
            "description": fill(kind, TEXT_MAX),
            "contact_name": fill(kind, NAME_MAX),
            "email": ANNA_EMAIL,
            "phone": "+31 6 1234 5678",
            "service": "M2M",
            "priority": "P1",
            "impact": "120",
        },
        "rfc": {"title": fill(kind, TITLE_MAX), "description": fill(kind, TEXT_MAX), "service": "M2M"},
        # A question or complaint is the ticket's title, up to 4,000 characters.
        "rfi": {"title": fill(kind, TEXT_MAX), "service": "M2M"},
        "complaint": {"title": fill(kind, TEXT_MAX)},
    }
    for ticket_kind, inputs in forms.items():
        asked = _say(harness, ANNA_EMAIL, ACME_ROOM, f"/{ticket_kind}")
        _press(harness, ANNA_EMAIL, asked, {"action": "ticket.create", "kind": ticket_kind, **inputs})
    incident, rfc, rfi = _number(db, "incident"), _number(db, "rfc"), _number(db, "rfi")
    assert incident and rfc and rfi

    # The agent's side: take, respond from the card, ask, set P1 with a reason; the customer's notes and escalation.
    staff_card = _card_message(harness, STAFF_ROOM)
    _press(
        harness, SANNE_EMAIL, staff_card, {"action": "ticket.respond", "ticket": incident, "text": fill(kind, TEXT_MAX)}
    )
    _say(harness, SANNE_EMAIL, STAFF_ROOM, f"/wait {incident} ", fill(kind, TEXT_MAX))
    _say(harness, ANNA_EMAIL, ACME_ROOM, f"/note {incident} ", fill(kind, TEXT_MAX))
    _press(
        harness,
        SANNE_EMAIL,
        staff_card,
        {"action": "ticket.priority", "ticket": incident, "priority": "P1", "reason": fill(kind, TITLE_MAX)},
    )
    _say(harness, ANNA_EMAIL, ACME_ROOM, f"/escalate {incident} ", fill(kind, REASON_MAX))
    # SLA warnings and breaches on the cards of the staff space, repeated pages.
    for minutes in (30, 60, 120, 240, 480):
        tick(harness, local(2026, 11, 23, 10, 0) + timedelta(minutes=minutes))
    # Resolve with the longest cause and resolution; "not solved" with the longest reason; then solved and closed.
    asked = _say(harness, SANNE_EMAIL, STAFF_ROOM, f"/resolve {incident}")
    _press(
        harness,
        SANNE_EMAIL,
        asked,
        {
            "action": "ticket.resolve",
            "ticket": incident,
            "cause": fill(kind, TEXT_MAX),
            "resolution": fill(kind, TEXT_MAX),
            "customer_domain": "false",
        },
    )
    _press(
        harness,
        ANNA_EMAIL,
        _card_message(harness, ACME_ROOM),
        {"action": "ticket.not_solved", "ticket": incident, "reason": fill(kind, TITLE_MAX)},
    )
    asked = _say(harness, SANNE_EMAIL, STAFF_ROOM, f"/resolve {incident}")
    _press(
        harness,
        SANNE_EMAIL,
        asked,
        {
            "action": "ticket.resolve",
            "ticket": incident,
            "cause": fill(kind, TEXT_MAX),
            "resolution": fill(kind, TEXT_MAX),
            "customer_domain": "false",
        },
    )
    _say(harness, ANNA_EMAIL, ACME_ROOM, f"/confirm {incident}")
    _say(harness, SANNE_EMAIL, STAFF_ROOM, f"/rfo {incident} ", fill(kind, TEXT_MAX))
    _say(harness, SANNE_EMAIL, STAFF_ROOM, f"/close {rfc} ", fill(kind, TEXT_MAX))
    _say(harness, SANNE_EMAIL, STAFF_ROOM, f"/close {rfi} ", fill(kind, TEXT_MAX))
    # Views that list what was typed: the ticket with its timeline, the queue, the customer's tickets.
    _say(harness, SANNE_EMAIL, STAFF_ROOM, f"/ticket {incident}")
    _say(harness, SANNE_EMAIL, STAFF_ROOM, "/queue")
    _say(harness, ANNA_EMAIL, ACME_ROOM, "/tickets")
    # Too late to reopen: the follow-up form, prefilled with the reason.
    tick(harness, local(2026, 12, 7, 10, 0))
    _say(harness, ANNA_EMAIL, ACME_ROOM, f"/reopen {rfi} ", fill(kind, TEXT_MAX))

    cards = _check_everything_sent_fits(harness, db)
    assert len(cards) >= 15


@pytest.mark.sweep
def test_maintenance_disruptions_and_problems(harness, db, kind):
    harness.at(local(2026, 11, 23, 10, 0))
    _say(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M ", fill(kind, 50))
    _say(harness, BRAM_EMAIL, POLDER_ROOM, "/incident service=M2M ", fill(kind, 50))
    first, second = (f"INC-{n}" for n in (1001, 1002))

    # An ad-hoc maintenance with the longest impact and reason; an incident during it is reported anyway.
    asked = _say(harness, SANNE_EMAIL, STAFF_ROOM, "/maintenance announce")
    _press(
        harness,
        SANNE_EMAIL,
        asked,
        {
            "action": "maintenance.announce",
            "services": "M2M",
            "start": "2026-11-23 12:00",
            "end": "2026-11-23 14:00",
            "impact": fill(kind, IMPACT_MAX),
            "adhoc": "true",
            "reason": fill(kind, IMPACT_MAX),
        },
    )
    tick(harness, local(2026, 11, 23, 12, 30))
    asked = _say(harness, ANNA_EMAIL, ACME_ROOM, "/incident")
    _press(
        harness,
        ANNA_EMAIL,
        asked,
        {
            "action": "ticket.create",
            "kind": "incident",
            "service": "M2M",
            "title": fill(kind, TITLE_MAX),
            "description": fill(kind, TEXT_MAX),
            "contact_name": "Anna",
            "email": ANNA_EMAIL,
        },
    )
    during = harness.bot_messages(ACME_ROOM)[-1]
    assert during["attachments"][0]["content"]["actions"][0]["data"]["despite_maintenance"] == "MNT-1001"
    _press(harness, ANNA_EMAIL, during, during["attachments"][0]["content"]["actions"][0]["data"])
    _say(harness, ANNA_EMAIL, ACME_ROOM, "/maintenance MNT-1001")
    _say(harness, SANNE_EMAIL, STAFF_ROOM, "/maintenance cancel MNT-1001 ", fill(kind, TEXT_MAX))

    # A disruption opened, updated and closed through its forms, every field at its longest.
    fields = {"impact": fill(kind, FIELD_MAX), "actions": fill(kind, FIELD_MAX), "next_steps": fill(kind, FIELD_MAX)}
    asked = _say(harness, SANNE_EMAIL, STAFF_ROOM, "/disruption open")
    _press(
        harness,
        SANNE_EMAIL,
        asked,
        {
            **asked["attachments"][0]["content"]["actions"][0]["data"],
            "services": "M2M",
            "severity": "P2",
            "next_update": "14:30",
            **fields,
        },
    )
    _say(harness, SANNE_EMAIL, STAFF_ROOM, f"/disruption link DIS-1001 {first} {second}")
    asked = _say(harness, SANNE_EMAIL, STAFF_ROOM, "/disruption update DIS-1001")
    _press(
        harness,
        SANNE_EMAIL,
        asked,
        {**asked["attachments"][0]["content"]["actions"][0]["data"], "next_update": "15:30", **fields},
    )
    asked = _say(harness, SANNE_EMAIL, STAFF_ROOM, "/disruption close DIS-1001")
    _press(
        harness,
        SANNE_EMAIL,
        asked,
        {
            **asked["attachments"][0]["content"]["actions"][0]["data"],
            "summary": fill(kind, FIELD_MAX),
            "cause": fill(kind, FIELD_MAX),
        },
    )
    _say(harness, SANNE_EMAIL, STAFF_ROOM, "/disruption DIS-1001")

    # A problem with the longest title, an update and a closure with the longest text.
    _say(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem open ", fill(kind, PROBLEM_TITLE_MAX) + f" {first} {second}")
    _say(harness, SANNE_EMAIL, STAFF_ROOM, "/problem update PRB-1001 customer ", fill(kind, TEXT_MAX))
    _say(harness, SANNE_EMAIL, STAFF_ROOM, "/problem close PRB-1001 fixed ", fill(kind, TEXT_MAX))

    cards = _check_everything_sent_fits(harness, db)
    notices = [c for c in cards if any(a["data"]["action"] == "disruption.affected" for a in c.get("actions", []))]
    assert len(notices) >= 4  # opened and updated, in both spaces
    if kind == "multibyte":
        assert _shortened(notices) == len(
            notices
        )  # 6,000 characters of emoji do not fit a card: shortened, the whole text above it


def test_the_longest_texts_a_form_takes_make_cards_that_fit_and_say_where_the_rest_is(kind):
    """A question or complaint of 4,000 characters is a ticket's title on the staff card; a form is prefilled with 4,000."""
    staff = staff_ticket(
        number="RFI-1001",
        org=fill(kind, ORG_NAME_MAX),
        kind_label="RFI",
        priority_label="—",
        service="M2M",
        title=fill(kind, TEXT_MAX),
        event="staff.event.note",
        event_values={"who": fill(kind, NAME_MAX), "text": fill(kind, 300)},
        lang="en",
    )
    form = intake_form(
        "incident",
        lang="nl",
        services=[("M2M", "M2M")],
        prefill={
            "title": fill(kind, TITLE_MAX),
            "description": fill(kind, TEXT_MAX),
            "contact_name": fill(kind, NAME_MAX),
        },
    )
    for card in (staff, form):
        assert card_bytes(card) <= MAX_CARD_BYTES
        assert [e.message for e in _validator().iter_errors(card)] == []
    if kind == "multibyte":  # 48 kB of emoji as sent: shortened, saying so
        assert staff["body"][-1]["id"] == SHORTENED
        assert staff["body"][-1]["text"] == "Shortened to fit a card (…). The whole text: /ticket RFI-1001"
        assert form["body"][1]["id"] == SHORTENED
        description = next(f for f in form["body"] if f.get("id") == "description")["value"]
        assert description.endswith("…") and fill(kind, TEXT_MAX).startswith(description[:-1])


def test_a_question_of_4000_characters_is_registered(harness, db):
    asked = _say(harness, ANNA_EMAIL, ACME_ROOM, "/rfi")
    _press(
        harness,
        ANNA_EMAIL,
        asked,
        {"action": "ticket.create", "kind": "rfi", "service": "M2M", "title": fill("letters", TEXT_MAX)},
    )
    assert _number(db, "rfi") == "RFI-1001"
