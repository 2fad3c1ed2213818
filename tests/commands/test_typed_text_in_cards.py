"""What users typed reaches the cards of a real flow as typed: shown as typed on a phone, carried as typed in button data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.text import LOOKALIKE_ASTERISK, escape_markdown
from sandbox.demo import ACME_ROOM, ADA_EMAIL, ANNA_EMAIL, ERIK_EMAIL, STAFF_ROOM
from storage.models.directory import Organisation
from tests.cards import phone
from tests.harness import ask

TITLE = "Down since 10.00 - all sites"
ORG = "Acme B.V. (NL) - *north* [2]"


pytestmark = pytest.mark.admins(ADA_EMAIL)


def _facts(card: dict) -> dict[str, str]:
    return {
        phone.shown(f["title"]): phone.shown(f["value"])
        for e in card["body"]
        if e["type"] == "FactSet"
        for f in e["facts"]
    }


def test_a_title_with_dots_and_dashes_shows_as_typed_on_the_staff_card_and_the_page(harness):
    asked = ask(harness, ANNA_EMAIL, ACME_ROOM, "/incident")
    harness.press(
        ANNA_EMAIL,
        asked,
        {
            "action": "ticket.create",
            "kind": "incident",
            "service": "M2M",
            "title": TITLE,
            "contact_name": "Anna",
            "email": ANNA_EMAIL,
            "phone": "+31 6 1234 5678",
            "priority": "P1",
        },
    )
    harness.run()
    staff = [m for m in harness.bot_messages(STAFF_ROOM) if m.get("attachments")][-1]
    assert _facts(staff["attachments"][0]["content"])["title"] == TITLE
    assert staff["markdown"] == (
        "P1 requested on INC-1001: the customer was told to call: Down since 10\\.00 \\- all sites\n"
        "Action: <@personEmail:erik@iot-desk.example>"
    )
    page = [m for m in harness.direct_messages(ERIK_EMAIL) if m.get("attachments")][-1]["attachments"][0]["content"]
    assert [phone.shown(e["text"]) for e in page["body"] if e["type"] == "TextBlock"] == ["P1 · INC-1001", TITLE]


def test_a_new_organisation_is_created_with_its_name_as_typed(harness, db):
    harness.add_member(ACME_ROOM, ADA_EMAIL)
    ask(harness, ADA_EMAIL, ACME_ROOM, "/space unbind")
    asked = ask(harness, ADA_EMAIL, ACME_ROOM, f"/space bind {escape_markdown(ORG)}")  # typed literally in Webex
    card = asked["attachments"][0]["content"]
    # The pair of asterisks shows as ∗north∗: nothing invisible stops a phone reading it as emphasis.
    assert any(
        ORG.replace("*", LOOKALIKE_ASTERISK) in phone.shown(e["text"]) for e in card["body"] if e["type"] == "TextBlock"
    )
    assert phone.markup(card["body"][1]["text"]) == {"strong"}  # the name in bold, as the catalogue text has it
    confirm = card["actions"][0]["data"]
    assert confirm["org"] == ORG  # the button carries the name, not an escaped copy of it
    harness.press(ADA_EMAIL, asked, {**confirm, "sla_profile": "iot", "language": "en"})
    harness.run()
    with db.scope() as s:
        assert ORG in s.scalars(select(Organisation.name)).all()
