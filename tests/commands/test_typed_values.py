"""Numbers and dates people type are refused, naming the field and the range it takes, when they are
none or outside it; nothing is changed and no handler fails (each case below once ended in the
apology and a failed event)."""

import pytest
from sqlalchemy import func, select

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, SANNE_EMAIL, STAFF_ROOM
from storage.models.operations import Disruption, Maintenance, OnCallShift
from storage.models.runtime import InboxEvent
from storage.models.tickets import Ticket
from tests.harness import answer

NUMBER_EN = "**Connections or devices affected**: give a whole number from 0 to 100,000,000; **{}** is not one."
NUMBER_NL = (
    "**Getroffen verbindingen of apparaten**: geef een heel getal van 0 tot en met 100.000.000; **{}** is dat niet."
)
INSTANT_EN = "**{}**: give a date and time from 2000-01-01 00:00 to 2099-12-31 23:59 (Amsterdam time), such as 2026-01-09 17:00; **{}** is not one."
INSTANT_NL = (
    "**{}**: geef een datum en tijd van 2000-01-01 00:00 tot en met 2099-12-31 23:59 (Nederlandse tijd), zoals 2026-01-09 17:00; "
    "**{}** is dat niet."
)
FORM = {
    "action": "ticket.create",
    "kind": "incident",
    "service": "M2M",
    "title": "Modems offline",
    "contact_name": "Anna de Vries",
    "email": ANNA_EMAIL,
}


def _count(db, model) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def _no_failed_events(db) -> None:
    with db.read() as s:
        assert s.scalars(select(InboxEvent.error).where(InboxEvent.status == "failed")).all() == []


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("²", "²"),  # str.isdigit() says yes, int() says no
        ("4" * 4400, "4" * 39 + "…"),  # beyond the 4,300 digits int() converts
        ("-4", r"\-4"),
        ("100000001", "100000001"),
    ],
)
def test_an_impact_that_is_no_count_is_refused_naming_the_field_and_range(harness, db, typed, shown):
    reply = answer(harness, ANNA_EMAIL, ACME_ROOM, f"/incident service=M2M devices={typed} Modems offline")
    assert reply.splitlines() == ["Nothing was registered:", "- " + NUMBER_EN.format(shown)]
    answer(harness, ANNA_EMAIL, ACME_ROOM, "/language nl")
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident")
    harness.run()
    form = harness.bot_messages(ACME_ROOM)[-1]
    harness.press(ANNA_EMAIL, form, {**FORM, "impact": typed})
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"].splitlines() == [
        "Er is niets geregistreerd:",
        "- " + NUMBER_NL.format(shown),
    ]
    assert _count(db, Ticket) == 0
    _no_failed_events(db)


def test_an_impact_as_a_card_number_is_taken(harness, db):
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident")
    harness.run()
    harness.press(ANNA_EMAIL, harness.bot_messages(ACME_ROOM)[-1], {**FORM, "impact": 120})
    harness.run()
    with db.read() as s:
        assert s.scalars(select(Ticket.details)).one()["impact"] == 120


def test_dates_beyond_the_calendar_are_refused_for_every_dated_command(harness, db):
    staff = [
        (
            '/maintenance announce services=M2M start="9999-12-31 23:00" end="9999-12-31 23:30" impact="Works"',
            "Start",
            r"9999\-12\-31 23:00",
        ),
        (
            '/maintenance announce services=M2M start="2026-12-08 01:00" end="0001-01-01 00:00" impact="Works"',
            "End",
            r"0001\-01\-01 00:00",
        ),
        (
            '/disruption open services=M2M impact=a actions=b next_steps=c next_update="9999-12-31 23:00"',
            "Next update",
            r"9999\-12\-31 23:00",
        ),
    ]
    for text, field, shown in staff:
        assert answer(harness, SANNE_EMAIL, STAFF_ROOM, text) == INSTANT_EN.format(field, shown)
    answer(harness, SANNE_EMAIL, STAFF_ROOM, "/oncall set iot erik@iot-desk.example")
    answer(harness, SANNE_EMAIL, STAFF_ROOM, "/language nl")
    assert answer(
        harness, SANNE_EMAIL, STAFF_ROOM, "/oncall shift iot 0001-01-01T00:00 2026-12-01T00:00 erik@iot-desk.example"
    ) == INSTANT_NL.format("Begin", r"0001\-01\-01T00:00")
    assert answer(harness, SANNE_EMAIL, STAFF_ROOM, "/sla P1 2026-01-09 17:00 9999") == INSTANT_NL.format(
        "Gemeld op", r"2026\-01\-09 17:00 9999"
    )
    assert (_count(db, Maintenance), _count(db, Disruption), _count(db, OnCallShift)) == (0, 0, 0)
    _no_failed_events(db)


def test_a_desired_date_is_a_date_within_the_range(harness, db):
    reply = answer(
        harness, ANNA_EMAIL, ACME_ROOM, "/rfc service=M2M description=More desired_date=0001-01-01 More gateways"
    )
    assert reply.splitlines() == [
        "Nothing was registered:",
        r"- **Desired date**: give a date from 2000-01-01 to 2099-12-31, such as 2026-01-09; **0001\-01\-01** is not one.",
    ]
    assert _count(db, Ticket) == 0
