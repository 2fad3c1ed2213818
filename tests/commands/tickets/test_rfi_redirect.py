"""An RFI about an open incident is asked in the incident (SPEC §3; the guide: "to inquire about an
ongoing incident, always use the incident ticket"): nothing is registered, and a button adds the
question to the incident as a note. An RFI about a closed incident refers to it."""

from sqlalchemy import func, select

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BRAM_EMAIL, POLDER_ROOM, SANNE_EMAIL, STAFF_ROOM
from storage import directory
from storage.models.directory import AuditEntry
from storage.models.tickets import Ticket
from tests.harness import answer, ask


def _count(db, model):
    with db.scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def _ticket(db, number):
    with db.scope() as s:
        return s.scalars(select(Ticket).where(Ticket.number == number)).one()


def _timeline(db, number):
    with db.scope() as s:
        return [
            (e.action, (e.new or {}).get("text")) for e in directory.timeline(s, subject_type="ticket", subject=number)
        ]


def _incident(harness, email=ANNA_EMAIL, room=ACME_ROOM, title="Modems offline in Utrecht"):
    answer(harness, email, room, f"/incident service=M2M {title}")


def _rfi_form(harness, inputs, email=ANNA_EMAIL, room=ACME_ROOM):
    asked = ask(harness, email, room, "/rfi")
    harness.press(email, asked, {"action": "ticket.create", "kind": "rfi", "service": "M2M", **inputs})
    harness.run()
    return harness.bot_messages(room)[-1]


def _close(harness, number="INC-1001", email=ANNA_EMAIL, room=ACME_ROOM):
    form = ask(harness, SANNE_EMAIL, STAFF_ROOM, f"/resolve {number}")
    harness.press(
        SANNE_EMAIL, form, {"action": "ticket.resolve", "ticket": number, "cause": "Power", "resolution": "Restored"}
    )
    harness.run()
    answer(harness, email, room, f"/confirm {number}")


def _add(harness, redirect, question=None, email=ANNA_EMAIL, room=ACME_ROOM):
    """Press the button; the question as the card holds it (prefilled), unless the customer changed it."""
    card = redirect["attachments"][0]["content"]
    field = next(f for f in card["body"] if f.get("id") == "question")
    harness.press(
        email, redirect, {**card["actions"][0]["data"], "question": field["value"] if question is None else question}
    )
    harness.run()
    return harness.bot_messages(room)[-1]["markdown"]


def test_the_rfi_form_about_an_open_incident_asks_it_in_the_incident(harness, db):
    _incident(harness)
    before = _count(db, AuditEntry)
    redirect = _rfi_form(harness, {"title": "When will the modems in Utrecht be back?", "reference": "inc-1001"})
    assert redirect["markdown"] == (
        "**INC-1001** is still open: ask your question there, not as a request for information. Nothing was registered. "
        "Press *Add to INC-1001* to add your question to the incident as a note, or write `/note INC-1001 <your question>`."
    )
    card = redirect["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Ask it in INC-1001"
    field = card["body"][1]
    assert (field["id"], field["label"], field["value"]) == (
        "question",
        "Your question",
        "When will the modems in Utrecht be back?",
    )
    assert [(a["title"], a["data"]) for a in card["actions"]] == [
        ("Add to INC-1001", {"action": "ticket.ask_in", "ticket": "INC-1001"})
    ]
    assert _count(db, Ticket) == 1 and _count(db, AuditEntry) == before  # no RFI, no number spent

    # The button adds the question (as the card holds it, edited or not) to the incident as a note.
    root = next(
        m for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("**INC-1001** — incident registered")
    )
    assert _add(harness, redirect) == "Added to **INC-1001**; the service desk has been told."
    assert harness.bot_messages(ACME_ROOM)[-1]["parentId"] == root["id"]
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"] == (
        "Customer note on INC-1001 from Anna de Vries: When will the modems in Utrecht be back?: Modems offline in Utrecht"
    )
    assert _timeline(db, "INC-1001")[-1] == ("note", "When will the modems in Utrecht be back?")
    # A second press adds nothing.
    assert _add(harness, redirect) == "Your question was already added to **INC-1001**; nothing else was changed."
    assert [a for a, _ in _timeline(db, "INC-1001")].count("note") == 1
    assert _count(db, Ticket) == 1


def test_inline_fields_or_a_question_that_names_the_open_incident_are_redirected_too(harness, db):
    _incident(harness)
    for text, question in [
        ("/rfi service=M2M ref=INC-1001 Is it fixed yet?", "Is it fixed yet?"),
        ("/rfi service=M2M Is inc-1001 fixed yet?", "Is inc-1001 fixed yet?"),
    ]:
        redirect = ask(harness, ANNA_EMAIL, ACME_ROOM, text)
        assert redirect["markdown"].startswith("**INC-1001** is still open: ask your question there"), text
        assert redirect["attachments"][0]["content"]["body"][1]["value"] == question
    # Resolved but not yet confirmed is still open: the customer may still say it is not solved.
    form = ask(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve INC-1001")
    harness.press(
        SANNE_EMAIL,
        form,
        {"action": "ticket.resolve", "ticket": "INC-1001", "cause": "Power", "resolution": "Restored"},
    )
    harness.run()
    assert answer(harness, ANNA_EMAIL, ACME_ROOM, "/rfi service=M2M What caused INC-1001?").startswith(
        "**INC-1001** is still open"
    )
    assert _count(db, Ticket) == 1


def test_an_rfi_about_a_closed_incident_refers_to_it(harness, db):
    _incident(harness)
    _close(harness)
    # The question names the closed incident and gives no reference: the RFI refers to it.
    answer(harness, ANNA_EMAIL, ACME_ROOM, "/rfi service=M2M What caused the outage of INC-1001 last week?")
    root = next(m for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("**RFI-1001**"))
    assert root["markdown"].splitlines()[:3] == [
        "**RFI-1001** — request for information registered: What caused the outage of INC\\-1001 last week?",
        "- Service: M2M",
        "- About: INC-1001",
    ]
    assert _ticket(db, "RFI-1001").details == {"reference": "INC-1001"}
    # Given as the reference on the form, it is registered as before.
    _rfi_form(harness, {"title": "Can we have the RFO in Dutch?", "reference": "INC-1001"})
    assert _ticket(db, "RFI-1002").details == {"reference": "INC-1001"}


def test_in_dutch(harness, db):
    answer(harness, BRAM_EMAIL, POLDER_ROOM, "/language nl")
    _incident(harness, BRAM_EMAIL, POLDER_ROOM, "Gateway stil")
    redirect = ask(harness, BRAM_EMAIL, POLDER_ROOM, "/rfi service=LoRa ref=INC-1001 Wanneer werkt de gateway weer?")
    assert redirect["markdown"] == (
        "**INC-1001** is nog open: stel je vraag daar, niet als informatieverzoek. Er is niets geregistreerd. "
        "Kies *Toevoegen aan INC-1001* om je vraag als notitie aan het incident toe te voegen, of schrijf `/note INC-1001 <je vraag>`."
    )
    card = redirect["attachments"][0]["content"]
    assert (card["body"][0]["text"], card["body"][1]["label"], card["actions"][0]["title"]) == (
        "Vraag het in INC-1001",
        "Je vraag",
        "Toevoegen aan INC-1001",
    )
    assert (
        _add(harness, redirect, email=BRAM_EMAIL, room=POLDER_ROOM)
        == "Toegevoegd aan **INC-1001**; de servicedesk is ingelicht."
    )
    assert _add(harness, redirect, email=BRAM_EMAIL, room=POLDER_ROOM) == (
        "Je vraag is al toegevoegd aan **INC-1001**; verder is er niets veranderd."
    )


def test_bad_presses_are_refused_change_nothing_and_leave_the_button_usable(harness, db):
    _incident(harness)
    redirect = ask(harness, ANNA_EMAIL, ACME_ROOM, "/rfi service=M2M ref=INC-1001 Is it fixed yet?")
    before = _count(db, AuditEntry)
    assert _add(harness, redirect, question="  ") == "Missing: the question.\n\nUsage: `/note <number> <text>`"
    assert (
        _add(harness, redirect, question="x" * 4001)
        == "The question can be at most 4000 characters; this one has 4001."
    )
    # Another organisation's customer forging the button for Acme's incident: it does not exist for him.
    form = ask(harness, BRAM_EMAIL, POLDER_ROOM, "/rfi")
    harness.press(BRAM_EMAIL, form, {"action": "ticket.ask_in", "ticket": "INC-1001", "question": "Status?"})
    harness.run()
    assert harness.bot_messages(POLDER_ROOM)[-1]["markdown"] == "There is no ticket **INC-1001**."
    assert _count(db, AuditEntry) == before
    # The incident closed in the meantime: ask it as an RFI about it now.
    _close(harness)
    before = _count(db, AuditEntry)
    assert _add(harness, redirect) == (
        "**INC-1001** is closed now: ask your question about it as a request for information, `/rfi ref=INC-1001 <your question>`."
    )
    assert _count(db, AuditEntry) == before
    answer(harness, ANNA_EMAIL, ACME_ROOM, "/rfi service=M2M ref=INC-1001 Was it the power?")
    assert _ticket(db, "RFI-1001").details == {"reference": "INC-1001"}


def test_what_is_not_an_open_incident_of_the_organisation_is_registered_as_before(harness, db):
    _incident(harness)  # Acme's INC-1001, open
    answer(harness, ANNA_EMAIL, ACME_ROOM, '/rfc service=Things description="1 to 5 GB" Raise data bundle')
    # An RFI about an open RFC is an RFI that refers to it.
    answer(harness, ANNA_EMAIL, ACME_ROOM, "/rfi service=Things ref=RFC-1001 Does this change the price?")
    assert _ticket(db, "RFI-1001").details == {"reference": "RFC-1001"}
    # Another organisation naming Acme's incident in a question learns nothing of it: registered, no reference.
    answer(harness, BRAM_EMAIL, POLDER_ROOM, "/rfi service=M2M Is INC-1001 about us?")
    assert _ticket(db, "RFI-1002").details == {}
    assert not any("still open" in m["markdown"] for m in harness.bot_messages(POLDER_ROOM))
    # Referring to a ticket that does not exist is refused as before.
    before = _count(db, Ticket)
    assert (
        answer(harness, BRAM_EMAIL, POLDER_ROOM, "/rfi service=M2M ref=INC-1001 Status?")
        == "There is no ticket **INC-1001**."
    )
    assert _count(db, Ticket) == before


def test_a_question_of_4000_characters_fits_the_card_and_is_added_whole_when_it_fits(harness, db):
    from tests.commands.test_card_sizes import _check_everything_sent_fits, fill

    _incident(harness)
    for kind in ("punctuation", "multibyte"):
        question = fill(kind, 4000)
        redirect = _rfi_form(harness, {"title": question, "reference": "INC-1001"})
        body = redirect["attachments"][0]["content"]["body"]
        value = body[1]["value"]
        if kind == "multibyte":  # 48 kB of JSON as sent: shortened, and the card says so
            assert value.endswith("…") and question.startswith(value[:-1])
            assert body[-1]["text"] == "Some text was shortened to fit the form (…): check it before you submit."
        else:
            assert value == question
            _add(harness, redirect)
            with db.scope() as s:
                notes = [
                    e.new["text"]
                    for e in directory.timeline(s, subject_type="ticket", subject="INC-1001")
                    if e.action == "note"
                ]
            assert notes == [question]
    _check_everything_sent_fits(harness, db)
