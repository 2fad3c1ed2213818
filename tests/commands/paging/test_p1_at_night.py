"""A P1 requested out of office hours: the on-call engineer who acknowledged the page confirms or
lowers it, from the acknowledgement's buttons or with /priority, and the P1 clocks then run."""

import pytest
from sqlalchemy import select

from sandbox.demo import ACME_ROOM, ADA_EMAIL, ANNA_EMAIL, ERIK_EMAIL, FATIMA_EMAIL, SANNE_EMAIL, STAFF_ROOM
from storage.models.directory import AuditEntry
from storage.models.tickets import Ticket
from tests.harness import answer as _do
from tests.harness import local
from tests.harness import tick as _at

pytestmark = pytest.mark.admins(ADA_EMAIL)

SUNDAY_NIGHT = local(2026, 11, 29, 2, 30)


def _request_p1(harness, at=SUNDAY_NIGHT):
    harness.clock.set(at)
    harness.say(
        ANNA_EMAIL, ACME_ROOM, "/incident service=M2M devices=4000 priority=P1 phone=+31612345678 Everything down"
    )
    harness.run()
    return next(m for m in harness.bot_messages(ACME_ROOM) if not m.get("parentId"))


def _page(harness, email=ERIK_EMAIL):
    return [
        m
        for m in harness.direct_messages(email)
        if m.get("attachments") and m["markdown"].startswith(("P1 page", "P1-oproep"))
    ][-1]


def _acknowledge(harness, at, email=ERIK_EMAIL):
    harness.clock.set(at)
    page = _page(harness, email)
    harness.press(email, page, page["attachments"][0]["content"]["actions"][0]["data"])
    harness.run()
    return harness.direct_messages(email)[-1]


def _press(harness, answer, title, at, reason="", email=ERIK_EMAIL):
    harness.clock.set(at)
    [data] = [a["data"] for a in answer["attachments"][0]["content"]["actions"] if a["title"] == title]
    harness.press(email, answer, {**data, "reason": reason})
    harness.run()
    return harness.direct_messages(email)[-1]["markdown"]


def _ticket(db):
    with db.scope() as s:
        return s.scalars(select(Ticket)).one()


def _thread(harness):
    return [m["markdown"] for m in harness.bot_messages(ACME_ROOM) if m.get("parentId")]


def _countdown(harness):
    return [m["markdown"] for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("⏱")][-1]


def _warnings(harness):
    return [
        m["markdown"].splitlines()[0]
        for m in harness.bot_messages(STAFF_ROOM)
        if m["markdown"].startswith(("⚠ INC", "🚨 INC"))
    ]


def test_a_p1_at_night_confirmed_by_the_engineer_gets_p1_clocks_and_warnings(harness, db):
    root = _request_p1(harness)
    assert "- Resolution: Fri 4 Dec 2026 18:00 — running" in root["markdown"].splitlines()
    answer = _acknowledge(harness, local(2026, 11, 29, 2, 40))
    assert answer["markdown"] == (
        "You acknowledged **INC-1001**: the customer and the staff have been told. Thank you.\n"
        "P1 was requested and it is outside office hours: you decide the priority, on the card or with `/priority INC-1001 P1 <reason>`."
    )
    card = answer["attachments"][0]["content"]
    assert [a["title"] for a in card["actions"]] == ["Confirm P1", "Lower to P2", "Keep P3"]
    assert _press(harness, answer, "Confirm P1", local(2026, 11, 29, 2, 45), reason="whole network down") == (
        "**INC-1001** is now P1; the customer has been told."
    )
    assert _thread(harness)[-1].splitlines() == [
        "**INC-1001**: priority P3 → **P1** (whole network down). The deadlines count from the opening of the ticket:",
        "- First response: Sun 29 Nov 2026 02:45 — met",
        "- Resolution: Sun 29 Nov 2026 10:30 — running",
        "**A P1 needs a phone call: call the service desk now on [+31 88 1200 043](tel:+31881200043).** The staff has been alerted.",
    ]
    assert _countdown(harness).splitlines() == [
        "⏱ **INC-1001** — in progress",
        "- First response: met (due Sun 29 Nov 2026 02:45)",
        "- Resolution due Sun 29 Nov 2026 10:30 — 7:45 hours left",
    ]
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"] == (
        "INC-1001: Erik Visser (on call) set the priority P3 → P1 (whole network down): Everything down"
    )
    ticket = _ticket(db)
    assert (ticket.priority, ticket.requested_priority, ticket.paging) == ("P1", None, "acknowledged")
    # The 8-hour clock from 02:30 warns at 75% (08:30), 90% (09:42) and at the breach (10:30), to the minute.
    for instant, count in (
        (local(2026, 11, 29, 8, 29), 0),
        (local(2026, 11, 29, 8, 30), 1),
        (local(2026, 11, 29, 9, 41), 1),
        (local(2026, 11, 29, 9, 42), 2),
        (local(2026, 11, 29, 10, 29), 2),
        (local(2026, 11, 29, 10, 30), 3),
    ):
        _at(harness, instant)
        assert len(_warnings(harness)) == count, instant
    assert _warnings(harness) == [
        "⚠ INC-1001: Resolution at 75% — due Sun 29 Nov 2026 10:30, 2:00 left.",
        "⚠ INC-1001: Resolution at 90% — due Sun 29 Nov 2026 10:30, 0:48 left.",
        "🚨 INC-1001: Resolution breached — it was due Sun 29 Nov 2026 10:30.",
    ]


def _state(db):
    """What a refused decision must leave as it was: the priorities, paging, the timeline."""
    with db.scope() as s:
        ticket = s.scalars(select(Ticket)).one()
        return (ticket.priority, ticket.requested_priority, ticket.paging, s.query(AuditEntry).count())


def test_keep_p3_answers_the_request_and_no_p1_clock_runs(harness, db):
    _request_p1(harness)
    answer = _acknowledge(harness, local(2026, 11, 29, 2, 40))
    assert _press(harness, answer, "Keep P3", local(2026, 11, 29, 2, 50), reason="one modem type only") == (
        "**INC-1001** stays P3 (P1 not confirmed); the customer has been told."
    )
    assert _thread(harness)[-1] == "**INC-1001** stays P3: the P1 asked for was not confirmed (one modem type only)."
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"] == (
        "INC-1001: Erik Visser (on call) kept P3 instead of the requested P1 (one modem type only): Everything down"
    )
    assert (_ticket(db).priority, _ticket(db).requested_priority) == ("P3", None)
    assert "- Resolution due Fri 4 Dec 2026 18:00 — 50:00 office hours left" in _countdown(harness).splitlines()
    _at(harness, local(2026, 11, 29, 10, 30))
    assert _warnings(harness) == []
    # Decided: a second press finds nothing left to decide.
    assert _press(harness, answer, "Keep P3", local(2026, 11, 29, 2, 55)) == "**INC-1001** already is P3."


def test_the_engineer_lowers_to_p2_with_the_command_in_the_one_to_one(harness, db):
    _request_p1(harness)
    _acknowledge(harness, local(2026, 11, 29, 2, 40))
    harness.clock.set(local(2026, 11, 29, 2, 50))
    harness.say_direct(ERIK_EMAIL, "/priority INC-1001 P2 one region only")
    harness.run()
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == "**INC-1001** is now P2; the customer has been told."
    assert _thread(harness)[-1].splitlines()[:3] == [
        "**INC-1001**: priority P3 → **P2** (one region only). The deadlines count from the opening of the ticket:",
        "- First response: Mon 30 Nov 2026 10:00 — met",
        "- Resolution: Tue 1 Dec 2026 14:00 — running",
    ]
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"].startswith(
        "INC-1001: Erik Visser (on call) set the priority P3 → P2 (one region only)"
    )
    assert (_ticket(db).priority, _ticket(db).requested_priority, _ticket(db).paging) == ("P2", None, "acknowledged")


def test_in_office_hours_the_agents_decide_not_the_engineer(harness, db):
    _request_p1(harness, at=local(2026, 11, 30, 10, 0))  # Monday
    answer = _acknowledge(harness, local(2026, 11, 30, 10, 5))
    assert answer["markdown"] == "You acknowledged **INC-1001**: the customer and the staff have been told. Thank you."
    assert not answer.get("attachments")
    before, thread = _state(db), _thread(harness)
    harness.say_direct(ERIK_EMAIL, "/priority INC-1001 P1 national outage")
    harness.run()
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == (
        "During office hours an agent sets the priority of **INC-1001**; the engineer who acknowledged its page may do so only "
        "outside office hours."
    )
    assert (_state(db), _thread(harness)) == (before, thread)


def test_buttons_pressed_once_the_office_opened_are_refused(harness, db):
    _request_p1(harness, at=local(2026, 11, 30, 7, 40))  # Monday, before the desk opens
    answer = _acknowledge(harness, local(2026, 11, 30, 7, 50))
    assert [a["title"] for a in answer["attachments"][0]["content"]["actions"]] == [
        "Confirm P1",
        "Lower to P2",
        "Keep P3",
    ]
    before, thread = _state(db), _thread(harness)
    assert _press(harness, answer, "Confirm P1", local(2026, 11, 30, 8, 0)).startswith(
        "During office hours an agent sets the priority"
    )
    assert (_state(db), _thread(harness)) == (before, thread)


def test_only_the_engineer_who_acknowledged_decides(harness, db):
    _request_p1(harness)
    harness.clock.set(local(2026, 11, 29, 2, 32))
    before, thread = _state(db), _thread(harness)
    harness.say_direct(ERIK_EMAIL, "/priority INC-1001 P1 national outage")
    harness.run()
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == (
        "Nobody has acknowledged a page of **INC-1001** yet: acknowledge it first (`/ack INC-1001`), then set its priority."
    )
    assert (_state(db), _thread(harness)) == (before, thread)
    _do(harness, ADA_EMAIL, STAFF_ROOM, "/role grant fatima@iot-desk.example engineer")
    _acknowledge(harness, local(2026, 11, 29, 2, 40))
    before, thread = _state(db), _thread(harness)
    harness.say_direct(FATIMA_EMAIL, "/priority INC-1001 P2 not that bad")
    harness.run()
    assert harness.direct_messages(FATIMA_EMAIL)[-1]["markdown"] == (
        "Erik Visser acknowledged the page of **INC-1001**: outside office hours only they, or an agent, set its priority."
    )
    assert (_state(db), _thread(harness)) == (before, thread)


@pytest.mark.parametrize(
    ("inputs", "refusal"),
    [
        (
            {"priority": "P4"},
            "Give the priority as P1, P2 or P3 and a reason: `/priority INC-1001 P2 more devices down`.",
        ),
        ({"reason": "x" * 201}, "The reason can be at most 200 characters; this one has 201."),
        ({"ticket": "INC-9999"}, "There is no ticket **INC-9999**."),
    ],
)
def test_a_bad_decision_is_refused_and_changes_nothing(harness, db, inputs, refusal):
    _request_p1(harness)
    answer = _acknowledge(harness, local(2026, 11, 29, 2, 40))
    [data] = [a["data"] for a in answer["attachments"][0]["content"]["actions"] if a["title"] == "Confirm P1"]
    before, thread = _state(db), _thread(harness)
    harness.clock.set(local(2026, 11, 29, 2, 45))
    harness.press(ERIK_EMAIL, answer, {**data, "reason": "", **inputs})
    harness.run()
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == refusal
    assert (_state(db), _thread(harness)) == (before, thread)


def test_the_decision_in_dutch(harness, db):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/language nl")
    harness.say_direct(ERIK_EMAIL, "/language nl")
    harness.run()
    _request_p1(harness)
    answer = _acknowledge(harness, local(2026, 11, 29, 2, 40))
    assert answer["markdown"] == (
        "Je hebt **INC-1001** bevestigd: de klant en de staf zijn ingelicht. Dank je.\n"
        "P1 is gevraagd en het is buiten kantooruren: jij beslist over de prioriteit, op de kaart of met `/priority INC-1001 P1 <reden>`."
    )
    card = answer["attachments"][0]["content"]
    assert [a["title"] for a in card["actions"]] == ["P1 toekennen", "Verlagen naar P2", "P3 houden"]
    assert card["body"][1]["text"] == (
        "**P1** is gevraagd; INC-1001 is nu P3. Buiten kantooruren beslis jij: de termijnen van de klant volgen je keuze."
    )
    assert (
        _press(harness, answer, "P1 toekennen", local(2026, 11, 29, 2, 45))
        == "**INC-1001** is nu P1; de klant is ingelicht."
    )
    assert _thread(harness)[-1].splitlines()[:3] == [
        "**INC-1001**: prioriteit P3 → **P1** (beoordeeld door de engineer van dienst). De termijnen tellen vanaf het openen van het ticket:",
        "- Eerste reactie: zo 29 nov 2026 02:45 — gehaald",
        "- Oplossing: zo 29 nov 2026 10:30 — loopt",
    ]


def test_an_agent_keeping_p3_declines_the_request_and_the_paging_stops(harness, db):
    _request_p1(harness, at=local(2026, 11, 30, 10, 0))
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P3 a single modem") == (
        "**INC-1001** stays P3 (P1 not confirmed); the customer has been told."
    )
    assert "Paging for **INC-1001** stopped: it is P3 now." in [m["markdown"] for m in harness.bot_messages(STAFF_ROOM)]
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == (
        "Paging for **INC-1001** stopped: it is P3 now and no P1 is requested. You need not act on its page."
    )
    assert _thread(harness)[-1] == "**INC-1001** stays P3: the P1 asked for was not confirmed (a single modem)."
    _at(harness, local(2026, 11, 30, 10, 20))
    assert len([m for m in harness.direct_messages(ERIK_EMAIL) if m["markdown"].startswith("P1 page")]) == 1
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P3 still") == "**INC-1001** already is P3."
