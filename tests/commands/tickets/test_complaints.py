"""Complaints are closed in joint consultation (SPEC §4, §6): the proposed outcome asks "Agreed / Not
agreed", the customer's "Agreed" or an agent's `/close CMP-… <how it was agreed>` closes it, silence
reminds the staff every 2 business days, and nothing closes a complaint by itself."""

from sqlalchemy import func, select

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BRAM_EMAIL, POLDER_ROOM, SANNE_EMAIL, STAFF_ROOM
from storage import directory
from storage.models.directory import AuditEntry
from storage.models.runtime import Timer
from storage.models.tickets import Ticket
from tests.harness import answer, ask, local, tick


def _ticket(db, number="CMP-1001"):
    with db.scope() as s:
        return s.scalars(select(Ticket).where(Ticket.number == number)).one()


def _audit_count(db):
    with db.scope() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry))


def _actions(db, number="CMP-1001"):
    with db.scope() as s:
        return [e.action for e in directory.timeline(s, subject_type="ticket", subject=number)]


def _pending_reminders(db):
    with db.scope() as s:
        return [t.due_at for t in s.scalars(select(Timer).where(Timer.kind == "ticket.222", Timer.status == "pending"))]


def _complain(harness, email=ANNA_EMAIL, room=ACME_ROOM, text="Nobody called back about INC-1001"):
    asked = ask(harness, email, room, "/complaint")
    harness.press(email, asked, {"action": "ticket.create", "kind": "complaint", "title": text})
    harness.run()
    return next(m for m in harness.bot_messages(room) if not m.get("parentId") and m["markdown"].startswith("**CMP-"))


def _propose(harness, outcome, number="CMP-1001"):
    """The agent proposes the outcome on the resolve form."""
    form = ask(harness, SANNE_EMAIL, STAFF_ROOM, f"/resolve {number}")
    harness.press(SANNE_EMAIL, form, {"action": "ticket.resolve", "ticket": number, "outcome": outcome})
    harness.run()
    return form


def _agreement_card(harness, room=ACME_ROOM):
    return [m for m in harness.bot_messages(room) if m.get("attachments")][-1]


def _reminders(harness):
    return [m["markdown"] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("⏳")]


def _thread(harness, root, room=ACME_ROOM):
    return [
        m["markdown"]
        for m in harness.bot_messages(room)
        if m.get("parentId") == root["id"] and not m["markdown"].startswith("⏱")
    ]


def test_the_proposed_outcome_asks_agreed_or_not_and_agreed_closes_it(harness, db):
    root = _complain(harness)
    assert root["markdown"].splitlines()[:4] == [
        "**CMP-1001** — complaint registered: Nobody called back about INC\\-1001",
        "**Targets** (Amsterdam time):",
        "- First response: Tue 24 Nov 2026 10:00 — running",
        "- Resolution: in joint consultation, no deadline",
    ]
    form = _propose(harness, "Apologised; the call-back rota is changed")
    assert form["markdown"] == "Resolve **CMP-1001**:"
    field = next(f for f in form["attachments"][0]["content"]["body"] if f.get("id") == "outcome")
    assert field["label"] == "Proposed outcome (the customer is asked to agree)"
    assert _thread(harness, root)[-2:] == [
        "**CMP-1001** — outcome: Apologised; the call\\-back rota is changed",
        "Do you agree with this outcome of **CMP-1001**? A complaint is closed when we agree on it: press Agreed or Not agreed, "
        "or write `/confirm CMP-1001` if you agree, `/reopen CMP-1001 <reason>` if not.",
    ]
    card = _agreement_card(harness)["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Do you agree with the outcome of CMP-1001?"
    assert [(a["title"], a["data"]) for a in card["actions"]] == [
        ("Agreed", {"action": "ticket.solved", "ticket": "CMP-1001"}),
        ("Not agreed", {"action": "ticket.not_solved", "ticket": "CMP-1001"}),
    ]
    assert _ticket(db).status == "resolved"

    harness.clock.set(local(2026, 11, 24, 9, 0))
    harness.press(ANNA_EMAIL, _agreement_card(harness), card["actions"][0]["data"])
    harness.run()
    assert _thread(harness, root)[-1] == (
        "**CMP-1001** is closed: you agreed with its outcome. Thank you. You can reopen it within 5 business days with "
        "`/reopen CMP-1001 <reason>`."
    )
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"] == (
        "CMP-1001: the customer agreed with the outcome; closed: Nobody called back about INC\\-1001"
    )
    ticket = _ticket(db)
    assert (ticket.status, ticket.closed_at) == ("closed", local(2026, 11, 24, 9, 0))
    assert _actions(db) == ["opened", "resolved", "agreed"]
    assert _pending_reminders(db) == []


def test_silence_reminds_the_staff_every_two_business_days_and_never_closes(harness, db):
    harness.clock.set(local(2026, 12, 21, 9, 0))
    root = _complain(harness)
    answer(harness, SANNE_EMAIL, STAFF_ROOM, "/take CMP-1001")
    harness.clock.set(local(2026, 12, 23, 15, 0))  # Wednesday before Christmas
    _propose(harness, "Apologised by phone")
    thread = _thread(harness, root)
    # Two business days: 24 Dec (1), 25/26 closed, the weekend, 28 Dec (2) → Monday 28 December 15:00.
    tick(harness, local(2026, 12, 28, 14, 59))
    assert _reminders(harness) == []
    tick(harness, local(2026, 12, 28, 15, 0))
    assert _reminders(harness) == [
        "⏳ CMP-1001: the customer has not answered the proposed outcome since Wed 23 Dec 2026 15:00 (2 business days). "
        "Agree on it with them, then close it with `/close CMP-1001 <how it was agreed>`: a complaint never closes by itself.\n"
        "Action: <@personEmail:sanne@iot-desk.example>"
    ]
    assert harness.bot_messages(STAFF_ROOM)[-1]["mentionedPeople"] == [harness.state.person_by_email(SANNE_EMAIL)["id"]]
    # Again every 2 business days: 29 (1), 30 (2); 31 (1), 1 Jan closed, the weekend, 4 Jan (2). The customer hears nothing.
    tick(harness, local(2026, 12, 30, 14, 59))
    assert len(_reminders(harness)) == 1
    tick(harness, local(2026, 12, 30, 15, 0))
    tick(harness, local(2027, 1, 4, 15, 0))
    assert [r.split("(")[1].split(")")[0] for r in _reminders(harness)] == [
        "2 business days",
        "4 business days",
        "6 business days",
    ]
    assert _thread(harness, root) == thread
    assert _ticket(db).status == "resolved"
    # Where the 2-2-2 method would have closed it long ago, it is still open; a worker back after a
    # week away sends one reminder that says how long it has been, not the ones missed.
    tick(harness, local(2027, 1, 13, 12, 0))
    assert _reminders(harness)[-1].split("(")[1].split(")")[0] == "12 business days"
    assert len(_reminders(harness)) == 4 and _ticket(db).status == "resolved"
    assert _pending_reminders(db) == [local(2027, 1, 14, 15, 0)]  # 14 business days

    # Agreed by phone: the agent closes it, the customer is told in the thread; no reminder follows.
    assert answer(harness, SANNE_EMAIL, STAFF_ROOM, "/close CMP-1001 Agreed by phone with Anna: apology accepted") == (
        "**CMP-1001** is closed as agreed; the customer has been told."
    )
    assert _thread(harness, root)[-1] == (
        "**CMP-1001** is closed as agreed with you: Agreed by phone with Anna: apology accepted\n"
        "You can reopen it within 5 business days with `/reopen CMP-1001 <reason>`."
    )
    ticket = _ticket(db)
    assert (ticket.status, ticket.closed_at, ticket.resolved_at) == (
        "closed",
        local(2027, 1, 13, 12, 0),
        local(2026, 12, 23, 15, 0),
    )
    assert ticket.resolution == {
        "outcome": "Apologised by phone",
        "agreement": "Agreed by phone with Anna: apology accepted",
    }
    tick(harness, local(2027, 2, 1, 12, 0))
    assert len(_reminders(harness)) == 4
    assert _actions(db)[-1] == "closed by agreement"


def test_the_reminder_calls_on_whoever_proposed_the_outcome_when_nobody_took_it(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _complain(harness)
    _propose(harness, "Apologised")
    tick(harness, local(2026, 11, 25, 10, 0))
    assert _reminders(harness)[-1].endswith("\nAction: <@personEmail:sanne@iot-desk.example>")


def test_a_complaint_resolved_before_it_was_asked_to_agree_still_never_closes(harness, db):
    # A complaint whose 2-2-2 closing step was planned by an earlier version: it reminds instead.
    harness.clock.set(local(2026, 11, 23, 10, 0))
    root = _complain(harness)
    _propose(harness, "Apologised")
    with db.scope() as s:
        timer = s.scalars(select(Timer).where(Timer.kind == "ticket.222", Timer.status == "pending")).one()
        timer.payload = {"ticket_id": timer.payload["ticket_id"], "step": 2}
    thread = _thread(harness, root)
    tick(harness, local(2026, 11, 25, 10, 0))
    assert _reminders(harness)[-1].startswith(
        "⏳ CMP-1001: the customer has not answered the proposed outcome since Mon 23 Nov 2026 10:00 (6 business days)."
    )
    assert _ticket(db).status == "resolved" and _thread(harness, root) == thread


def test_not_agreed_reopens_it_and_the_agent_closes_it_by_agreement_in_dutch(harness, db):
    answer(harness, BRAM_EMAIL, POLDER_ROOM, "/language nl")
    harness.clock.set(local(2026, 11, 23, 10, 0))
    root = _complain(harness, BRAM_EMAIL, POLDER_ROOM, "Niemand belde terug")
    _propose(harness, "Excuses aangeboden")
    assert _thread(harness, root, POLDER_ROOM)[-1] == (
        "Ga je akkoord met deze uitkomst van **CMP-1001**? Een klacht sluiten we als we het samen eens zijn: kies Akkoord of Niet "
        "akkoord, of schrijf `/confirm CMP-1001` als je akkoord gaat, `/reopen CMP-1001 <reden>` als dat niet zo is."
    )
    card = _agreement_card(harness, POLDER_ROOM)["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Ga je akkoord met de uitkomst van CMP-1001?"
    assert card["body"][1]["label"] == "Zo niet, waarmee ga je niet akkoord?"
    assert [a["title"] for a in card["actions"]] == ["Akkoord", "Niet akkoord"]

    harness.clock.set(local(2026, 11, 24, 10, 0))
    harness.press(BRAM_EMAIL, _agreement_card(harness, POLDER_ROOM), {**card["actions"][1]["data"], "reason": ""})
    harness.run()
    assert _thread(harness, root, POLDER_ROOM)[-1] == "**CMP-1001** is weer open; de servicedesk is ingelicht."
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"] == (
        "CMP-1001: the customer does not agree with the outcome: niet akkoord: Niemand belde terug"
    )
    assert (_ticket(db).status, _pending_reminders(db)) == ("in_progress", [])

    assert answer(
        harness, SANNE_EMAIL, STAFF_ROOM, "/close cmp-1001 Telefonisch afgesproken: bij terugbellen binnen 1 uur"
    ) == ("**CMP-1001** is closed as agreed; the customer has been told.")
    assert _thread(harness, root, POLDER_ROOM)[-1] == (
        "**CMP-1001** is gesloten zoals met je afgesproken: Telefonisch afgesproken: bij terugbellen binnen 1 uur\n"
        "Je kunt de klacht binnen 5 werkdagen heropenen met `/reopen CMP-1001 <reden>`."
    )
    assert _actions(db) == ["opened", "resolved", "resolution rejected", "reason", "closed by agreement"]
    ticket = _ticket(db)
    assert (ticket.status, ticket.resolved_at, ticket.closed_at) == (
        "closed",
        local(2026, 11, 24, 10, 0),
        local(2026, 11, 24, 10, 0),
    )


def test_agreed_in_dutch(harness, db):
    answer(harness, BRAM_EMAIL, POLDER_ROOM, "/language nl")
    root = _complain(harness, BRAM_EMAIL, POLDER_ROOM, "Niemand belde terug")
    _propose(harness, "Excuses aangeboden")
    assert answer(harness, BRAM_EMAIL, POLDER_ROOM, "/confirm CMP-1001") == (
        "**CMP-1001** is gesloten: je ging akkoord met de uitkomst. Dank je. Je kunt de klacht binnen 5 werkdagen heropenen met "
        "`/reopen CMP-1001 <reden>`."
    )
    assert _thread(harness, root, POLDER_ROOM)[-1].startswith("**CMP-1001** is gesloten: je ging akkoord")
    assert _ticket(db).status == "closed"


def test_bad_closing_steps_are_refused_and_change_nothing(harness, db):
    _complain(harness)
    before = _audit_count(db)
    for email, room, text, refusal in [
        (
            SANNE_EMAIL,
            STAFF_ROOM,
            "/close CMP-1001",
            "Missing: how it was agreed.\n\nUsage: `/close <number> <how it was agreed>`",
        ),
        (
            SANNE_EMAIL,
            STAFF_ROOM,
            "/close CMP-1001 " + "x" * 4001,
            "The text can be at most 4000 characters; this one has 4001.",
        ),
        (ANNA_EMAIL, ACME_ROOM, "/close CMP-1001 we agreed", "Only someone with the **agent** role can use `/close`."),
        (ANNA_EMAIL, ACME_ROOM, "/confirm CMP-1001", "**CMP-1001** is not waiting for a confirmation."),
        (BRAM_EMAIL, POLDER_ROOM, "/confirm CMP-1001", "There is no ticket **CMP-1001**."),
        (SANNE_EMAIL, STAFF_ROOM, "/close CMP-1002 agreed", "There is no ticket **CMP-1002**."),
    ]:
        said = answer(harness, email, room, text)
        assert said == refusal, (text[:40], said)
    # The resolve form without an outcome, or with one too long.
    form = ask(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve CMP-1001")
    for outcome, refusal in [
        ("  ", "Nothing was registered:\n- Give the outcome."),
        ("x" * 4001, "Nothing was registered:\n- The outcome can be at most 4000 characters; this one has 4001."),
    ]:
        harness.press(SANNE_EMAIL, form, {"action": "ticket.resolve", "ticket": "CMP-1001", "outcome": outcome})
        harness.run()
        assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"] == refusal
    # Another organisation's customer forging "Agreed" for Acme's complaint: it does not exist for him.
    _propose(harness, "Apologised")
    before = _audit_count(db)
    own_form = ask(harness, BRAM_EMAIL, POLDER_ROOM, "/complaint")
    harness.press(BRAM_EMAIL, own_form, {"action": "ticket.solved", "ticket": "CMP-1001"})
    harness.run()
    assert harness.bot_messages(POLDER_ROOM)[-1]["markdown"] == "There is no ticket **CMP-1001**."
    assert _audit_count(db) == before and _ticket(db).status == "resolved"
    # Closed: closing again is refused.
    answer(harness, SANNE_EMAIL, STAFF_ROOM, "/close CMP-1001 Agreed by phone")
    before = _audit_count(db)
    assert answer(harness, SANNE_EMAIL, STAFF_ROOM, "/close CMP-1001 again") == "**CMP-1001** is closed."
    assert (
        answer(harness, ANNA_EMAIL, ACME_ROOM, "/confirm CMP-1001") == "**CMP-1001** is not waiting for a confirmation."
    )
    assert _audit_count(db) == before


def test_an_rfc_is_still_closed_at_once_with_its_outcome(harness, db):
    answer(harness, ANNA_EMAIL, ACME_ROOM, '/rfc service=Things description="1 to 5 GB" Raise data bundle')
    assert answer(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve RFC-1001") == (
        "**RFC-1001** is not an incident: record its outcome with `/close RFC-1001 <outcome>`."
    )
    assert answer(harness, SANNE_EMAIL, STAFF_ROOM, "/close RFC-1001") == (
        "Missing: the outcome.\n\nUsage: `/close <number> <outcome>`"
    )
    assert (
        answer(harness, SANNE_EMAIL, STAFF_ROOM, "/close RFC-1001 Implemented")
        == "**RFC-1001** is closed with its outcome."
    )
    assert _ticket(db, "RFC-1001").status == "closed"


def test_the_longest_outcome_and_agreement_reach_the_customer_within_webexs_sizes(harness, db):
    from tests.commands.test_card_sizes import _check_everything_sent_fits, fill

    root = _complain(harness, text=fill("punctuation", 4000))
    _propose(harness, fill("multibyte", 4000))
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/close CMP-1001 " + fill("letters", 4000))
    harness.run()
    _check_everything_sent_fits(harness, db)
    assert "".join(_thread(harness, root)).count(fill("letters", 4000).strip()) == 1
    assert _ticket(db).status == "closed"


def test_a_too_long_answer_names_its_field_once_in_dutch(harness, db):
    _complain(harness)
    answer(harness, SANNE_EMAIL, STAFF_ROOM, "/language nl")
    before = _audit_count(db)
    assert answer(harness, SANNE_EMAIL, STAFF_ROOM, "/respond CMP-1001 " + "x" * 4001) == (
        "De tekst mag hoogstens 4000 tekens zijn; deze heeft er 4001."
    )
    assert _audit_count(db) == before
