"""Every card that shows what users typed shows it as typed on a phone, and carries it as typed.

The card's JSON is read as a phone reads it (tests/cards/phone.py): TextBlock texts and Fact
titles and values are markdown, input values and button data are plain text.
"""

from __future__ import annotations

import pytest

from bot.text import LOOKALIKE_ASTERISK, inert_links
from cards import admin, disruptions, intake, maintenance, paging, tickets
from tests.cards import phone

SERVICES = [("M2M", "M2M"), ("LoRa", "LoRa")]
SAMPLES = [
    "Down since 10.00 - all sites",
    r"Re: [URGENT] 50% of sites down (NL) - ETA 10.30! #1 | a_b <x> & y; C:\temp\[x] 2*3 ~z~ {{DATE(2026-11-23T09:00:00Z)}}",
    "**x**",
    "_y_",
    "[a](http://e)",
    "- item",
    "1. item",
    "see:\n- one\n2. two",
]
PLAIN = "Plain words"

# Each builder that shows typed text, with every typed field filled by one value.
CARDS = {
    "bind_new_org": lambda v, lang: admin.bind_new_org(name=v, profiles=["iot"], lang=lang),
    "staff_ticket": lambda v, lang: tickets.staff_ticket(
        number="INC-1001",
        org=v,
        kind_label="incident",
        priority_label="P3",
        service="M2M",
        title=v,
        event="staff.event.note",
        event_values={"who": v, "text": v},
        lang=lang,
    ),
    "warning_card": lambda v, lang: tickets.warning_card(
        number="INC-1001", org=v, text="INC-1001: Resolution at 75%", lang=lang
    ),
    "page_card": lambda v, lang: paging.page_card(
        number="INC-1001", org=v, service="M2M", impact="120", contact=v, since="03:12", title=v, page_id=7, lang=lang
    ),
    "notice": lambda v, lang: disruptions.notice(
        kind="opened",
        number="DIS-1001",
        services="M2M",
        severity="P2",
        impact=v,
        actions=v,
        next_steps=v,
        next_update="14:30",
        lang=lang,
    ),
}


# Cards the staff read a customer's words on: alerts and pages show their web addresses as no links.
STAFF_READS = {"staff_ticket", "page_card"}


def _markdown_texts(card: dict) -> list[str]:
    """The card's texts a phone reads as markdown."""
    texts = []
    for element in card["body"]:
        if element["type"] == "TextBlock":
            texts.append(element["text"])
        elif element["type"] == "FactSet":
            texts += [part for fact in element["facts"] for part in (fact["title"], fact["value"])]
    return texts


def _shown(text: str) -> str:
    return phone.shown(text).replace(LOOKALIKE_ASTERISK, "*")


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("typed", SAMPLES, ids=range(len(SAMPLES)))
@pytest.mark.parametrize("name", CARDS)
def test_typed_text_shows_as_typed(name, typed, lang):
    texts, plain_texts = _markdown_texts(CARDS[name](typed, lang)), _markdown_texts(CARDS[name](PLAIN, lang))
    assert any(PLAIN in phone.shown(t) for t in plain_texts)
    # Each text shows what the same card shows with plain words, the typed text in their place: no
    # backslash, nothing lost; and nothing typed turned into markup (the card's own bold and lists stay).
    # Where the staff read a customer's words (not the organisation's name), their web addresses are no links.
    ways = {typed, inert_links(typed)} if name in STAFF_READS else {typed}
    assert len(texts) == len(plain_texts)
    for text, plain in zip(texts, plain_texts, strict=False):
        assert _shown(text) in {phone.shown(plain).replace(PLAIN, way) for way in ways}
    assert [phone.markup(t) for t in texts] == [phone.markup(t) for t in plain_texts]
    if name in STAFF_READS and inert_links(typed) != typed:
        # The title, and on the page card the contact to call back (a note is in a sentence).
        assert [_shown(t) for t in texts].count(inert_links(typed)) == (2 if name == "page_card" else 1)


@pytest.mark.parametrize("typed", SAMPLES, ids=range(len(SAMPLES)))
def test_input_values_and_button_data_carry_what_was_typed_unchanged(typed):
    form = intake.intake_form(
        "incident", lang="en", services=SERVICES, prefill={"title": typed[:200], "description": typed}
    )
    values = {field["id"]: field.get("value") for field in form["body"] if field["type"].startswith("Input.")}
    assert (values["title"], values["description"]) == (typed[:200], typed)
    bind = admin.bind_new_org(name=typed, profiles=["iot"], lang="en")
    assert {a["data"]["org"] for a in bind["actions"]} == {typed}
    during = maintenance.during_maintenance(
        number="MNT-1001",
        services="M2M",
        start="01:00",
        end="05:00",
        lang="en",
        resubmit={"action": "ticket.create", "kind": "incident", "title": typed, "description": typed},
    )
    assert during["actions"][0]["data"]["description"] == typed
