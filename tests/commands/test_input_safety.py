"""What people type is echoed inert, and oversized input is refused with the limit stated."""

import pytest
from sqlalchemy import func, select

from sandbox.demo import ACME_ROOM, ADA_EMAIL, ANNA_EMAIL, BRAM_EMAIL, POLDER_ROOM, STAFF_ROOM
from storage.models.directory import Organisation
from storage.models.tickets import Ticket
from tests.harness import ask

pytestmark = pytest.mark.admins(ADA_EMAIL)


def _said(harness, email, room, text):
    harness.say(email, room, text)
    harness.run()
    return harness.bot_messages(room)[-1]["markdown"]


@pytest.mark.parametrize(
    "typed",
    [
        "<@all>",
        "<@personEmail:ada@iot-desk.example>",
        "[x](javascript:alert(1))",
        "<b>bold</b>",
        "**loud**",
        "a\x07\x1bb",
    ],
)
def test_unknown_commands_echo_inert(harness, typed):
    reply = _said(harness, ANNA_EMAIL, ACME_ROOM, typed)
    assert reply.startswith("I don't know the command **")
    assert (
        "<@" not in reply and "](" not in reply and "<b>" not in reply and "\x07" not in reply and "\x1b" not in reply
    )


def test_a_mention_in_an_email_argument_is_inert(harness):
    reply = _said(harness, ADA_EMAIL, STAFF_ROOM, "/role grant <@all> agent")
    assert reply == r"**&lt;@all\>** is not an email address."


def test_an_oversized_card_input_is_refused_with_the_limit(harness, db):
    harness.add_member(ACME_ROOM, ADA_EMAIL)
    harness.say(ADA_EMAIL, ACME_ROOM, "/space unbind")
    harness.run()
    asked_text = _said(harness, ADA_EMAIL, ACME_ROOM, "/space bind Delta")
    asked = harness.bot_messages(ACME_ROOM)[-1]
    assert asked_text.startswith("There is no organisation **Delta** yet.")
    harness.press(
        ADA_EMAIL, asked, {"action": "space.bind.confirm", "org": "D" * 10_000, "sla_profile": "iot", "language": "en"}
    )
    harness.run()
    assert (
        harness.bot_messages(ACME_ROOM)[-1]["markdown"]
        == "An organisation name can be at most 100 characters; this one has 10000."
    )
    with db.scope() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 2  # the two demo organisations only


def test_forged_card_values_are_refused(harness, db):
    harness.add_member(ACME_ROOM, ADA_EMAIL)
    _said(harness, ADA_EMAIL, ACME_ROOM, "/space unbind")
    _said(harness, ADA_EMAIL, ACME_ROOM, "/space bind Delta")
    asked = harness.bot_messages(ACME_ROOM)[-1]
    harness.press(
        ADA_EMAIL, asked, {"action": "space.bind.confirm", "org": "Delta", "sla_profile": "platinum", "language": "en"}
    )
    harness.run()
    assert (
        harness.bot_messages(ACME_ROOM)[-1]["markdown"]
        == "There is no SLA profile **platinum**; choose one of: een, iot, partner."
    )
    harness.press(
        ADA_EMAIL, asked, {"action": "space.bind.confirm", "org": "Delta", "sla_profile": "iot", "language": "<@all>"}
    )
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"] == r"I don't speak **&lt;@all\>**; choose one of: en, nl."
    with db.scope() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 2


def test_a_customer_of_one_org_learns_nothing_of_another(harness):
    """Until tickets exist, what an org has is its spaces: a customer sees only their own."""
    info = _said(harness, BRAM_EMAIL, POLDER_ROOM, "/space info")
    assert "Polder Energy" in info and "Acme" not in info
    help_text = _said(harness, BRAM_EMAIL, POLDER_ROOM, "/help")
    assert "/space bind" not in help_text and "/roles" not in help_text
    assert (
        _said(harness, BRAM_EMAIL, POLDER_ROOM, "/roles")
        == "`/roles` works only in: a 1:1 space with me, the staff space."
    )


def test_a_contact_address_that_could_bend_a_mention_is_shown_not_mentioned(harness):
    # The question mentions the ticket's contact; an address with markup characters must not
    # become a mention of someone else (Ada, shown as "x", if "|x" ended up inside the tag).
    _said(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M email=ada@iot-desk.example|x Modems offline")
    _said(harness, "sanne@iot-desk.example", STAFF_ROOM, "/wait INC-1001 Which APN?")
    question = harness.bot_messages(ACME_ROOM)[-1]
    assert question["markdown"].startswith(r"ada@iot\-desk\.example\|x, Sanne Bakker asks about **INC-1001**:")
    assert "mentionedPeople" not in question


# Direction controls and zero-width characters (Unicode's format characters) that turn text around or hide letters.
HIDDEN = ("\u202e", "\u202c", "\u200b", "\u2066", "\ufeff")


def _all_text(message) -> str:
    """Everything a message shows: its markdown and its card's JSON (texts, facts, values)."""
    import json

    return message["markdown"] + "".join(
        json.dumps(a["content"], ensure_ascii=False) for a in message.get("attachments", [])
    )


def test_invisible_characters_are_dropped_wherever_the_bot_repeats_them(harness, db):
    # Once: a title that reads "Modems offline" backwards (U+202E), with a zero-width space, in the
    # customer's thread, the staff alert, the engineer's page card and /ticket; and in refusals.
    typed = "Modems \u202eenilffo\u202c in \u200bUtr\ufeffecht \u2066x\u2069"
    _said(harness, ANNA_EMAIL, ACME_ROOM, f"/incident service=M2M priority=P1 phone=+31612345678 {typed}")
    root = next(m for m in harness.bot_messages(ACME_ROOM) if "registered" in m["markdown"])
    staff = harness.bot_messages(STAFF_ROOM)[-1]
    page = next(m for m in harness.direct_messages("erik@iot-desk.example") if m.get("attachments"))
    assert root["markdown"].splitlines()[0] == "**INC-1001** — incident registered: Modems enilffo in Utrecht x"
    for message in (root, staff, page, harness.bot_messages(ACME_ROOM)[-1]):
        assert not any(ch in _all_text(message) for ch in HIDDEN), message["markdown"]
    assert "Modems enilffo in Utrecht x" in _all_text(staff) and "Modems enilffo in Utrecht x" in _all_text(page)
    with db.read() as s:
        assert s.scalars(select(Ticket.title)).one() == "Modems enilffo in Utrecht x"
    form = ask(harness, ANNA_EMAIL, ACME_ROOM, "/incident Modems \u202eenilffo")
    assert {f.get("id"): f.get("value") for f in form["attachments"][0]["content"]["body"]}["title"] == "Modems enilffo"
    assert (
        _said(harness, ANNA_EMAIL, ACME_ROOM, "/sla P\u202e9\u200b")
        == "**P9** is not something with an SLA: use P1, P2, P3, RFC, RFI or complaint.\n\nUsage: `/sla P2 2026-01-09 17:00 | /sla INC-1001`"
    )
    _said(harness, ANNA_EMAIL, ACME_ROOM, "/language nl")
    assert _said(harness, ANNA_EMAIL, ACME_ROOM, "/he\u200blp\u202e now").startswith(
        "Het commando **/help** ken ik niet."
    )


def test_a_title_of_invisible_characters_is_no_title(harness, db):
    reply = _said(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M \u200b\u202e\u2060")
    assert reply == "Nothing was registered:\n- Give a title."
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_customers_web_address_is_no_link_in_staff_alerts_and_page_cards(harness):
    # Once a tap on the staff alert or the engineer's page (at night, on a phone) opened it.
    _said(
        harness,
        ANNA_EMAIL,
        ACME_ROOM,
        "/incident service=M2M priority=P1 phone=+31612345678 Log in at https://evil.example/reset",
    )
    staff = harness.bot_messages(STAFF_ROOM)[-1]
    page = next(m for m in harness.direct_messages("erik@iot-desk.example") if m.get("attachments"))
    for message in (staff, page):
        assert r"https\[:\]//evil\[\.\]example/reset" in message["markdown"]
        assert "https[:]//evil[.]example/reset" in _all_text(message)
        assert "https://evil" not in _all_text(message) and "evil.example" not in message["html"]
        assert "<a " not in message["html"]
    _said(harness, ANNA_EMAIL, ACME_ROOM, "/note INC-1001 Or try www.evil.example/login")
    note = harness.bot_messages(STAFF_ROOM)[-1]
    assert r"www\[\.\]evil\[\.\]example/login" in note["markdown"] and "<a " not in note["html"]
    assert "www[.]evil[.]example/login" in _all_text(note)
