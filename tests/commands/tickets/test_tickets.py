"""Tickets end to end through the sandbox: what the customer space and the staff space receive."""

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from bot.text import escape_markdown
from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BRAM_EMAIL, ERIK_EMAIL, POLDER_ROOM, SANNE_EMAIL, STAFF_ROOM
from storage import directory
from storage.models.directory import AuditEntry
from storage.models.tickets import Ticket
from tests.harness import ask as _said
from tests.harness import local


def _lines(message):
    return message["markdown"].splitlines()


def _ticket(db, number):
    with db.scope() as s:
        return s.scalars(select(Ticket).where(Ticket.number == number)).one()


def _count(db, model):
    with db.scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def _root(harness, room):
    """The latest ticket confirmation in a space: the root of its thread."""
    return [
        m
        for m in harness.bot_messages(room)
        if m.get("parentId") is None and "registered" in m["markdown"].split("\n")[0]
    ][-1]


def _countdown(harness, room, number):
    return [m for m in harness.bot_messages(room) if m["markdown"].startswith(f"⏱ **{number}**")][-1]


def _open_incident(
    harness, text="/incident service=M2M devices=120 Modems offline in Utrecht", email=ANNA_EMAIL, room=ACME_ROOM
):
    harness.say(email, room, text)
    harness.run()
    return _root(harness, room)


# -- an incident from intake to closure --------------------------------------------------------------


def test_incident_from_intake_to_closure(harness, db, clock):
    # Monday 23 November 2026, 10:00 in Amsterdam: office hours.
    root = _open_incident(harness)
    assert _lines(root) == [
        "**INC-1001** — incident registered: Modems offline in Utrecht",
        "- Service: M2M",
        "- Priority: P3",
        "**Targets** (Amsterdam time):",
        "- First response: Mon 23 Nov 2026 12:00 — running",
        "- Resolution: Mon 30 Nov 2026 10:00 — running",
        "",
        "An agent will pick this up; you will hear from us in this thread.",
    ]
    assert root.get("parentId") is None
    [staff] = harness.bot_messages(STAFF_ROOM)
    assert staff["markdown"] == "New INC-1001: Modems offline in Utrecht"
    card = staff["attachments"][0]["content"]
    assert [a["title"] for a in card["actions"]] == ["Take", "Respond", "Set priority"]
    ticket = _ticket(db, "INC-1001")
    assert (ticket.status, ticket.priority, ticket.details["impact"], ticket.details["email"]) == (
        "new",
        "P3",
        120,
        ANNA_EMAIL,
    )

    # The agent takes it from the staff card: first response met, the customer hears who.
    clock.advance(timedelta(minutes=20))
    harness.press(SANNE_EMAIL, staff, {"action": "ticket.take", "ticket": "INC-1001"})
    harness.run()
    in_thread = [
        m
        for m in harness.bot_messages(ACME_ROOM)
        if m.get("parentId") == root["id"] and not m["markdown"].startswith("⏱")
    ]
    assert [m["markdown"] for m in in_thread] == ["**INC-1001**: Sanne Bakker is on it."]
    assert _ticket(db, "INC-1001").first_response_at == clock.now()

    # A question pauses the clock. A reply in the thread without a mention never reaches the bot,
    # so the question mentions the contact (Webex notifies her) and she answers on its card.
    clock.advance(timedelta(minutes=10))
    assert _said(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN do the modems use?")["markdown"] == (
        "**INC-1001** waits for the customer; its office-hour clocks are paused."
    )
    question = harness.bot_messages(ACME_ROOM)[-1]
    assert question["markdown"] == (
        "<@personEmail:anna@acme-logistics.example>, Sanne Bakker asks about **INC-1001**:\n\nWhich APN do the modems use?\n\n"
        "Answer on the card, or write `@IoT Service Desk /note INC-1001 <your answer>`. Until then the clock is paused."
    )
    assert (question["parentId"], question["mentionedPeople"]) == (
        root["id"],
        [harness.state.person_by_email(ANNA_EMAIL)["id"]],
    )
    send = question["attachments"][0]["content"]["actions"]
    assert [a["title"] for a in send] == ["Send"]
    clock.advance(timedelta(hours=2))
    harness.press(ANNA_EMAIL, question, {**send[0]["data"], "answer": "iot.acme.example, all of them"})
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"] == "Added to **INC-1001**; the service desk has been told."
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"] == (
        r"Customer note on INC-1001 from Anna de Vries: iot\.acme\.example, all of them: Modems offline in Utrecht"
    )
    ticket = _ticket(db, "INC-1001")
    assert ticket.status == "in_progress"
    # Send again on the same card: told politely that it was answered; nothing else happens.
    harness.press(ANNA_EMAIL, question, {**send[0]["data"], "answer": "iot.acme.example"})
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"] == (
        "Thank you, this question about **INC-1001** was already answered. To add something, write `/note INC-1001 <text>` and mention me."
    )
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"].startswith(
        "Customer note on INC-1001 from Anna de Vries: iot"
    )

    # Resolve with the form; the customer is asked to confirm, and confirms.
    form = _said(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve INC-1001")
    harness.press(
        SANNE_EMAIL,
        form,
        {
            "action": "ticket.resolve",
            "ticket": "INC-1001",
            "cause": "APN misconfigured",
            "resolution": "APN corrected",
            "customer_domain": "true",
        },
    )
    harness.run()
    assert [m["markdown"] for m in harness.bot_messages(ACME_ROOM)[-2:]] == [
        "**INC-1001 is resolved.**\n- Cause: APN misconfigured\n- Resolution: APN corrected",
        "Is **INC-1001** solved for you? `/confirm INC-1001`, or `/reopen INC-1001 <reason>` if not.",
    ]
    resolved_at = clock.now()
    clock.advance(timedelta(hours=1))
    assert _said(harness, ANNA_EMAIL, ACME_ROOM, "/confirm inc-1001")["markdown"] == (
        "**INC-1001** is closed. Thank you. You can reopen it within 5 business days with `/reopen INC-1001 <reason>`."
    )
    ticket = _ticket(db, "INC-1001")
    assert (ticket.status, ticket.resolved_at, ticket.closed_at) == ("closed", resolved_at, clock.now())
    assert ticket.resolution == {"cause": "APN misconfigured", "resolution": "APN corrected", "customer_domain": True}
    with db.scope() as s:
        actions = [e.action for e in directory.timeline(s, subject_type="ticket", subject="INC-1001")]
    assert actions == ["opened", "taken", "waiting", "question", "customer answered", "note", "resolved", "confirmed"]


def test_form_path_prefills_and_validates(harness, db):
    asked = _said(harness, ANNA_EMAIL, ACME_ROOM, "/incident Gateway down")
    assert asked["markdown"] == "Fill in the form to report an incident."
    form = asked["attachments"][0]["content"]
    values = {field["id"]: field.get("value") for field in form["body"] if "id" in field}
    assert (values["title"], values["contact_name"], values["email"], values["priority"]) == (
        "Gateway down",
        "Anna de Vries",
        ANNA_EMAIL,
        "P3",
    )
    # Missing required fields: the form's own error texts, nothing stored.
    harness.press(
        ANNA_EMAIL,
        asked,
        {
            "action": "ticket.create",
            "kind": "incident",
            "title": "",
            "service": "",
            "contact_name": "Anna",
            "email": "not-an-address",
        },
    )
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"] == (
        "Nothing was registered:\n- Choose a service.\n- Give a title.\n- Give a valid e-mail address."
    )
    assert _count(db, Ticket) == 0
    harness.press(
        ANNA_EMAIL,
        asked,
        {
            "action": "ticket.create",
            "kind": "incident",
            "title": "Gateway down",
            "service": "LoRa",
            "contact_name": "Anna",
            "email": ANNA_EMAIL,
            "priority": "P3",
            "roaming": "true",
        },
    )
    harness.run()
    assert _root(harness, ACME_ROOM)["markdown"].startswith("**INC-1001** — incident registered: Gateway down")
    assert "- Resolution: Mon 30 Nov 2026 10:00 — best effort (no SLA with roaming partners)" in _lines(
        _root(harness, ACME_ROOM)
    )


# -- the other kinds -------------------------------------------------------------------------------------


def test_rfc_from_form_to_outcome(harness, db):
    asked = _said(harness, ANNA_EMAIL, ACME_ROOM, "/rfc")
    harness.press(
        ANNA_EMAIL,
        asked,
        {
            "action": "ticket.create",
            "kind": "rfc",
            "rfc_type": "non-standard",
            "service": "Things",
            "title": "Raise data bundle",
            "description": "From 1 GB to 5 GB per SIM",
            "desired_date": "2026-12-01",
        },
    )
    harness.run()
    root = _root(harness, ACME_ROOM)
    assert _lines(root)[:5] == [
        "**RFC-1001** — request for change registered: Raise data bundle",
        "- Service: Things",
        "**Targets** (Amsterdam time):",
        "- First response: Mon 23 Nov 2026 12:00 — running",
        "- Resolution: Mon 30 Nov 2026 10:00 — running",
    ]
    assert _ticket(db, "RFC-1001").details == {"rfc_type": "non-standard", "desired_date": "2026-12-01"}
    assert _said(harness, SANNE_EMAIL, STAFF_ROOM, "/close RFC-1001 Implemented on 1 December")["markdown"] == (
        "**RFC-1001** is closed with its outcome."
    )
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"] == "**RFC-1001** — outcome: Implemented on 1 December"
    assert harness.bot_messages(ACME_ROOM)[-1]["parentId"] == root["id"]
    assert _ticket(db, "RFC-1001").status == "closed"


def _resolve_and_confirm(harness, number="INC-1001"):
    form = _said(harness, SANNE_EMAIL, STAFF_ROOM, f"/resolve {number}")
    harness.press(
        SANNE_EMAIL, form, {"action": "ticket.resolve", "ticket": number, "cause": "Power", "resolution": "Restored"}
    )
    harness.run()
    _said(harness, ANNA_EMAIL, ACME_ROOM, f"/confirm {number}")


def test_rfi_about_a_closed_incident_converted_to_an_incident(harness, db):
    _open_incident(harness)
    _resolve_and_confirm(harness)
    asked = _said(harness, ANNA_EMAIL, ACME_ROOM, "/rfi")
    harness.press(
        ANNA_EMAIL,
        asked,
        {
            "action": "ticket.create",
            "kind": "rfi",
            "service": "M2M",
            "title": "Is the outage in Utrecht over?",
            "reference": "inc-1001",
        },
    )
    harness.run()
    assert _root(harness, ACME_ROOM)["markdown"].startswith("**RFI-1001** — request for information registered")
    assert _ticket(db, "RFI-1001").details == {"reference": "INC-1001"}
    assert (
        _said(harness, SANNE_EMAIL, STAFF_ROOM, "/convert RFI-1001 incident")["markdown"]
        == "RFI-1001 is now **INC-1002** (an incident at P3)."
    )
    assert (
        harness.bot_messages(ACME_ROOM)[-1]["markdown"] == "**INC-1002** (was RFI-1001) is now handled as an incident."
    )
    # The old number still finds it.
    view = _said(harness, ANNA_EMAIL, ACME_ROOM, "/ticket RFI-1001")["markdown"]
    assert view.startswith("**INC-1002** — incident: Is the outage in Utrecht over?")


def test_rfi_referring_to_another_orgs_ticket_is_refused(harness, db):
    _open_incident(harness)
    asked = _said(harness, BRAM_EMAIL, POLDER_ROOM, "/rfi")
    harness.press(
        BRAM_EMAIL,
        asked,
        {"action": "ticket.create", "kind": "rfi", "service": "M2M", "title": "Status?", "reference": "INC-1001"},
    )
    harness.run()
    assert harness.bot_messages(POLDER_ROOM)[-1]["markdown"] == "There is no ticket **INC-1001**."
    assert _count(db, Ticket) == 1


# -- hours, holidays and P1 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "pickup"),
    [
        (local(2026, 11, 28, 11, 0), "Mon 30 Nov 2026 08:00"),  # a Saturday
        (local(2026, 4, 27, 9, 30), "Tue 28 Apr 2026 08:00"),
    ],  # King's Day, a Monday
)
def test_out_of_hours_intake_is_registered_with_the_pickup_time(harness, clock, at, pickup):
    clock.set(at)
    root = _open_incident(harness)
    assert _lines(root)[-1] == (
        f"It is outside office hours: your ticket is registered and we pick it up from {pickup}. "
        "Only P1 incidents are handled now (call [+31 88 1200 043](tel:+31881200043))."
    )
    assert _lines(root)[4] == f"- First response: {pickup[:-5]}10:00 — running"


def test_p1_on_a_sunday_night_asks_for_a_call_and_alerts_the_staff(harness, db, clock):
    clock.set(local(2026, 11, 29, 2, 30))
    root = _open_incident(harness, "/incident service=M2M priority=P1 phone=+31612345678 All modems down nationwide")
    assert _lines(root)[2] == "- Priority: P3 (**P1 requested**, an agent confirms it)"
    assert _lines(root)[-1] == (
        "**A P1 needs a phone call: call the service desk now on [+31 88 1200 043](tel:+31881200043).** "
        "The staff has been alerted."
    )
    alert = harness.bot_messages(STAFF_ROOM)[-1]
    assert alert["markdown"] == (
        "P1 requested on INC-1001: the customer was told to call: All modems down nationwide\nAction: <@personEmail:erik@iot-desk.example>"
    )
    assert alert["mentionedPeople"] == [
        harness.state.person_by_email(ERIK_EMAIL)["id"]
    ]  # on call now: Webex notifies him
    ticket = _ticket(db, "INC-1001")
    assert (ticket.priority, ticket.requested_priority, ticket.paging) == ("P3", "P1", "active")
    [page] = harness.direct_messages(ERIK_EMAIL)
    assert page["markdown"].startswith("P1 page (#1) INC-1001 · Acme Logistics: All modems down nationwide.")


def test_priority_raised_mid_incident_recomputes_from_the_start(harness, db, clock):
    _open_incident(harness)
    clock.advance(timedelta(hours=3))
    assert _said(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P2 more sites affected")["markdown"] == (
        "**INC-1001** is now P2; the customer has been told."
    )
    assert _lines(harness.bot_messages(ACME_ROOM)[-1]) == [
        "**INC-1001**: priority P3 → **P2** (more sites affected). The deadlines count from the opening of the ticket:",
        "- First response: Mon 23 Nov 2026 12:00 — breached",
        "- Resolution: Tue 24 Nov 2026 16:00 — running",
    ]


def test_a_customer_asking_for_p1_is_told_to_call_and_nothing_is_applied(harness, db):
    _open_incident(harness)
    reply = _said(harness, ANNA_EMAIL, ACME_ROOM, "/priority INC-1001 P1 phone=+31612345678 production line stopped")
    assert reply["markdown"] == (
        "Your request for **P1** on **INC-1001** is recorded. **Call the service desk now on "
        "[+31 88 1200 043](tel:+31881200043)**: a P1 is started by phone. An agent confirms the priority."
    )
    ticket = _ticket(db, "INC-1001")
    assert (ticket.priority, ticket.requested_priority) == ("P3", "P1")
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"].startswith("P1 requested on INC-1001")


# -- views ------------------------------------------------------------------------------------------------


def test_tickets_and_queue(harness, clock):
    _open_incident(harness)
    _open_incident(harness, "/incident service=LoRa Gateway silent", email=BRAM_EMAIL, room=POLDER_ROOM)
    clock.advance(timedelta(hours=1))
    assert _lines(_said(harness, ANNA_EMAIL, ACME_ROOM, "/tickets")) == [
        "**Open tickets of Acme Logistics**, most urgent first:",
        "- **INC-1001** P3 · new · Modems offline in Utrecht — First response 1:00 left; Resolution 49:00 left",
    ]
    queue = _lines(_said(harness, SANNE_EMAIL, STAFF_ROOM, "/queue"))
    assert queue[0] == "**Queue**: 2 open, breached first:"
    assert [line.split(" ")[1] for line in queue[1:]] == ["**INC-1001**", "**INC-1002**"]


def test_a_longer_queue_costs_no_more_statements(harness, db):
    # The lists read every ticket's pauses in one query, not one (or two) per ticket.
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *_args: statements.append(1))

    def queue_statements():
        harness.say(SANNE_EMAIL, STAFF_ROOM, "/queue")
        statements.clear()
        harness.inbox.drain()
        return len(statements)

    _open_incident(harness)
    _open_incident(harness, "/incident service=LoRa Gateway silent", email=BRAM_EMAIL, room=POLDER_ROOM)
    _said(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN?")
    short = queue_statements()  # two organisations, two tickets
    for n in range(5):
        _open_incident(harness, f"/incident service=LoRa Gateway {n} silent", email=BRAM_EMAIL, room=POLDER_ROOM)
    _said(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1004 Which gateway?")
    assert queue_statements() == short
    harness.sender.drain()
    queue = _lines(harness.bot_messages(STAFF_ROOM)[-1])
    assert queue[0] == "**Queue**: 7 open, breached first:"
    assert sum("paused" in line for line in queue) == 2


# -- refusals ------------------------------------------------------------------------------------------------


def test_another_orgs_ticket_looks_missing(harness, db):
    _open_incident(harness)
    before = _count(db, AuditEntry)
    for text in ("/ticket INC-1001", "/note INC-1001 hello", "/confirm INC-1001", "/priority INC-1001 P1 urgent"):
        assert _said(harness, BRAM_EMAIL, POLDER_ROOM, text)["markdown"] == "There is no ticket **INC-1001**."
    assert _said(harness, BRAM_EMAIL, POLDER_ROOM, "/ticket INC-9999")["markdown"] == "There is no ticket **INC-9999**."
    assert _count(db, AuditEntry) == before


def test_forged_card_submissions_change_nothing(harness, db):
    _open_incident(harness)
    form = _said(harness, ANNA_EMAIL, ACME_ROOM, "/incident")
    before = _count(db, AuditEntry)
    # A customer forging the staff card's Take button through her own form card.
    harness.press(ANNA_EMAIL, form, {"action": "ticket.take", "ticket": "INC-1001"})
    harness.run()
    assert (
        harness.bot_messages(ACME_ROOM)[-1]["markdown"]
        == "Only someone with the **agent** role can use `/ticket.take`."
    )
    # Unknown action id, a form kind that does not exist, an oversized field.
    for inputs, answer in [
        ({"action": "ticket.destroy"}, "That button is no longer available. Type `/help` to see what you can do here."),
        (
            {"action": "ticket.create", "kind": "outage", "title": "x"},
            "That form is not one I know. Nothing was registered.",
        ),
        (
            {
                "action": "ticket.create",
                "kind": "incident",
                "service": "M2M",
                "title": "T" * 5000,
                "contact_name": "A",
                "email": ANNA_EMAIL,
            },
            "Nothing was registered:\n- The title can be at most 200 characters; this one has 5000.",
        ),
    ]:
        harness.press(ANNA_EMAIL, form, inputs)
        harness.run()
        assert harness.bot_messages(ACME_ROOM)[-1]["markdown"] == answer
    assert _count(db, Ticket) == 1 and _count(db, AuditEntry) == before


def test_agent_commands_are_refused_to_customers(harness, db):
    _open_incident(harness)
    assert (
        _said(harness, ANNA_EMAIL, ACME_ROOM, "/take INC-1001")["markdown"]
        == "Only someone with the **agent** role can use `/take`."
    )
    assert _ticket(db, "INC-1001").status == "new"


def test_bad_lifecycle_steps(harness, db):
    _open_incident(harness)
    assert (
        _said(harness, ANNA_EMAIL, ACME_ROOM, "/confirm INC-1001")["markdown"]
        == "**INC-1001** is not waiting for a confirmation."
    )
    assert (
        _said(harness, ANNA_EMAIL, ACME_ROOM, "/reopen INC-1001 still broken")["markdown"]
        == "**INC-1001** is still open."
    )
    assert _said(harness, SANNE_EMAIL, STAFF_ROOM, "/respond INC-1001")["markdown"].startswith("Missing: the text.")
    assert _said(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P7 why")["markdown"].startswith(
        "Give the priority as P1, P2 or P3"
    )
    assert _said(harness, SANNE_EMAIL, STAFF_ROOM, "/close INC-1001 done")["markdown"] == (
        "**INC-1001** is an incident: resolve it with `/resolve INC-1001`."
    )
    assert _ticket(db, "INC-1001").status == "new"


def test_a_forged_button_for_another_orgs_ticket_is_refused(harness, db):
    _open_incident(harness)
    form = _said(harness, BRAM_EMAIL, POLDER_ROOM, "/incident")
    before = _count(db, AuditEntry)
    for action in ("ticket.solved", "ticket.not_solved"):
        harness.press(BRAM_EMAIL, form, {"action": action, "ticket": "INC-1001", "reason": "x"})
        harness.run()
        assert harness.bot_messages(POLDER_ROOM)[-1]["markdown"] == "There is no ticket **INC-1001**."
    assert _count(db, AuditEntry) == before
    assert _ticket(db, "INC-1001").status == "new"


def test_a_ticket_list_longer_than_one_webex_message_arrives_whole(harness, clock, db):
    from storage import tickets

    with db.scope() as s:
        org = directory.find_org(s, name="Acme Logistics")
        room_id = harness.room(ACME_ROOM)["id"]
        for n in range(120):
            tickets.create(
                s,
                kind="incident",
                org_id=org.id,
                room_id=room_id,
                title=f"Modem {n} offline in Utrecht",
                now=clock.now(),
                actor=ANNA_EMAIL,
                priority="P3",
                service="M2M",
            )
    before = len(harness.bot_messages(ACME_ROOM))
    harness.say(ANNA_EMAIL, ACME_ROOM, "/tickets")
    harness.run()
    answer = harness.bot_messages(ACME_ROOM)[before:]
    assert len(answer) >= 2  # more than Webex takes in one message
    listed = [line for m in answer for line in _lines(m) if line.startswith("- **INC-")]
    assert len(listed) == 120 and len(set(listed)) == 120


# -- questions to the customer -------------------------------------------------------------------------------

JOOST_EMAIL = "joost@acme-logistics.example"


def _question(harness, room=ACME_ROOM):
    return [
        m
        for m in harness.bot_messages(room)
        if m.get("attachments")
        and m["attachments"][0]["content"]["actions"][0]["data"].get("action") == "ticket.answer"
    ][-1]


def _send(harness, question, answer, email=ANNA_EMAIL, room=ACME_ROOM):
    harness.press(email, question, {**question["attachments"][0]["content"]["actions"][0]["data"], "answer": answer})
    harness.run()
    return harness.bot_messages(room)[-1]["markdown"]


def test_a_question_mentions_the_intakes_contact_and_the_countdown_says_how_to_answer(harness, db):
    # Anna reports it; Joost is the contact she gave.
    harness.state.add_person(JOOST_EMAIL, "Joost Smit", org="Acme Logistics")
    harness.add_member(ACME_ROOM, JOOST_EMAIL)
    _open_incident(harness, f"/incident service=M2M email={JOOST_EMAIL} Modems offline in Utrecht")
    _said(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN do the modems use?")
    question = _question(harness)
    assert question["markdown"].startswith(f"<@personEmail:{JOOST_EMAIL}>, Sanne Bakker asks about **INC-1001**:")
    assert question["mentionedPeople"] == [harness.state.person_by_email(JOOST_EMAIL)["id"]]
    card = question["attachments"][0]["content"]
    assert [b.get("text") for b in card["body"]][:2] == [
        "Sanne Bakker asks about INC-1001:",
        "Which APN do the modems use?",
    ]
    assert _lines(_countdown(harness, ACME_ROOM, "INC-1001"))[-1] == (
        "Waiting for your answer: use the card of the question in this thread, or write `/note INC-1001 <answer>` and mention me."
    )
    # Card presses need no mention: the answer arrives, the clock runs again and the hint goes.
    assert (
        _send(harness, question, "internet.m2m", email=JOOST_EMAIL)
        == "Added to **INC-1001**; the service desk has been told."
    )
    assert _ticket(db, "INC-1001").status == "in_progress"
    assert "Waiting for your answer" not in _countdown(harness, ACME_ROOM, "INC-1001")["markdown"]


# 1,700 satellites are 6,800 bytes (Webex takes the command) but 20,400 in a card's JSON; 3,920 marks
# (a command's limit is 4,000 characters) double when escaped for the message.
@pytest.mark.parametrize(
    "question", ["Which? " + "🛰" * 1700, ".!#+-|~" * 560], ids=["too-long-for-the-card", "too-long-for-the-fallback"]
)
def test_a_question_too_long_for_a_card_goes_whole_as_a_message_above_its_card(harness, db, question):
    _open_incident(harness)
    harness.say(SANNE_EMAIL, STAFF_ROOM, f"/wait INC-1001 {question.strip()}")
    harness.run()
    card_message = _question(harness)
    thread = [m for m in harness.bot_messages(ACME_ROOM) if m.get("parentId") == card_message["parentId"]]
    # The message above holds the whole question (Webex clients show a card, not its fallback), in
    # as many parts as Webex's size needs.
    above = "".join(m["markdown"] for m in thread[: thread.index(card_message)] if not m["markdown"].startswith("⏱"))
    assert above.startswith("<@personEmail:anna@acme-logistics.example>, Sanne Bakker asks about **INC-1001**:")
    assert escape_markdown(question.strip()) in above
    card = card_message["attachments"][0]["content"]
    shortened = card["body"][-1]["text"] == "Shortened to fit a card (…). The whole text is in the message above."
    assert shortened == question.startswith("Which?")  # a card of 20 KB holds 3,920 marks whole
    assert len(card_message["markdown"].encode("utf-8")) <= 7439
    assert _send(harness, card_message, "this one") == "Added to **INC-1001**; the service desk has been told."


def test_a_question_about_an_rfc_mentions_whoever_opened_it_in_the_spaces_language(harness, db):
    _said(harness, BRAM_EMAIL, POLDER_ROOM, "/language nl")
    _said(harness, BRAM_EMAIL, POLDER_ROOM, '/rfc service=Things description="Van 1 naar 5 GB" Databundel verhogen')
    _said(harness, SANNE_EMAIL, STAFF_ROOM, "/wait RFC-1001 Vanaf welke datum?")
    question = _question(harness, POLDER_ROOM)
    assert question["markdown"] == (
        "<@personEmail:bram@polder-energy.example>, Sanne Bakker vraagt over **RFC-1001**:\n\nVanaf welke datum?\n\n"
        "Antwoord op de kaart, of schrijf `@IoT Service Desk /note RFC-1001 <je antwoord>`. Tot dan staat de klok stil."
    )
    assert question["mentionedPeople"] == [harness.state.person_by_email(BRAM_EMAIL)["id"]]
    assert [a["title"] for a in question["attachments"][0]["content"]["actions"]] == ["Versturen"]
    assert _send(harness, question, "1 januari", email=BRAM_EMAIL, room=POLDER_ROOM) == (
        "Toegevoegd aan **RFC-1001**; de servicedesk is ingelicht."
    )
    assert _send(harness, question, "1 januari", email=BRAM_EMAIL, room=POLDER_ROOM) == (
        "Dank je, deze vraag over **RFC-1001** is al beantwoord. Wil je iets toevoegen, schrijf dan `/note RFC-1001 <tekst>` en noem mij."
    )


def test_bad_answers_change_nothing_and_leave_the_card_usable(harness, db):
    _open_incident(harness)
    _said(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN?")
    question = _question(harness)
    before = _count(db, AuditEntry)
    assert _send(harness, question, "   ") == "Missing: the text.\n\nUsage: `/note <number> <text>`"
    assert (
        _send(harness, question, "x" * 4001)
        == "The text of your answer can be at most 4000 characters; this one has 4001."
    )
    # Another organisation's customer forging the button for Acme's ticket: it does not exist for him.
    form = _said(harness, BRAM_EMAIL, POLDER_ROOM, "/incident")
    harness.press(BRAM_EMAIL, form, {"action": "ticket.answer", "ticket": "INC-1001", "answer": "hello"})
    harness.run()
    assert harness.bot_messages(POLDER_ROOM)[-1]["markdown"] == "There is no ticket **INC-1001**."
    assert _count(db, AuditEntry) == before and _ticket(db, "INC-1001").status == "awaiting_customer"
    assert _send(harness, question, "internet.m2m") == "Added to **INC-1001**; the service desk has been told."


def test_an_answer_to_a_closed_tickets_question_is_refused(harness, db):
    root = _open_incident(harness)
    _said(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Is it working again?")
    question = _question(harness)
    form = _said(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve INC-1001")
    harness.press(
        SANNE_EMAIL,
        form,
        {"action": "ticket.resolve", "ticket": "INC-1001", "cause": "Power", "resolution": "Restored"},
    )
    harness.run()
    _said(harness, ANNA_EMAIL, ACME_ROOM, "/confirm INC-1001", parent_id=root["id"])
    before = _count(db, AuditEntry)
    assert _send(harness, question, "yes") == "**INC-1001** is closed."
    assert _count(db, AuditEntry) == before


def test_help_says_how_to_answer_and_no_text_relies_on_an_unmentioned_thread_reply(harness):
    from bot import i18n

    reply = _said(harness, ANNA_EMAIL, ACME_ROOM, "/help")["markdown"]
    assert "- `/note <number> <text>` — add a note to a ticket; it also answers a question of the service desk" in reply
    # Webex never delivers a thread reply that does not mention the bot: no text may ask for one.
    for lang in i18n.LANGUAGES:
        for key in i18n.keys(lang):
            text = i18n.template(key, lang).lower()
            assert not any(
                phrase in text for phrase in ("reply in", "just reply", "antwoord in deze thread", "antwoord gewoon")
            ), key
