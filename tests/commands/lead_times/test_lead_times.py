"""/extend: an RFC that became a project, or an exceptional RFI, gets a longer lead time from an agent."""

import pytest
from sqlalchemy import select

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, SANNE_EMAIL, STAFF_ROOM
from storage.models.directory import AuditEntry
from storage.models.runtime import OutboxMessage, Timer
from storage.models.tickets import Ticket
from tests.harness import answer as _do
from tests.harness import local
from tests.harness import tick as _at


def _ticket(db, number="RFC-1001"):
    with db.scope() as s:
        return s.scalars(select(Ticket).where(Ticket.number == number)).one()


def _thread(harness):
    return [m["markdown"] for m in harness.bot_messages(ACME_ROOM) if m.get("parentId")]


def _countdown(harness):
    return [m for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("⏱")][-1]["markdown"]


def _warnings(harness):
    return [
        m["markdown"].split("\n")[0] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith(("⚠", "🚨"))
    ]


def _rfc_monday(harness):
    """RFC-1001, opened Monday 12 January 2026 10:00 and taken: lead time 5 business days, due Monday 19 January 10:00."""
    harness.clock.set(local(2026, 1, 12, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/rfc service=M2M description=Private_APN_for_every_site Private APN")
    harness.clock.set(local(2026, 1, 12, 10, 30))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/take RFC-1001")


def test_an_rfc_that_became_a_project_gets_a_longer_lead_time(harness, db):
    _rfc_monday(harness)
    harness.clock.set(local(2026, 1, 14, 11, 0))
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/extend RFC-1001 10bd becomes a project: a new core design") == (
        "The lead time of **RFC-1001** is now 10 business days, due Mon 26 Jan 2026 10:00; the customer has been told."
    )
    # Ten business days from the opening on the office calendar.
    assert _thread(harness)[-1] == (
        "**RFC-1001**: the lead time is now 10 business days, due Mon 26 Jan 2026 10:00. Reason: becomes a project: a new core design"
    )
    # 100 office hours, 21 of them used (Monday 8, Tuesday 10, Wednesday 3).
    assert (
        "- Resolution due Mon 26 Jan 2026 10:00 — 79:00 office hours left (lead time extended to 10 business days)"
        in _countdown(harness)
    )
    view = _do(harness, ANNA_EMAIL, ACME_ROOM, "/ticket RFC-1001")
    assert "- Resolution: Mon 26 Jan 2026 10:00 — running (lead time extended to 10 business days)" in view
    assert (
        "- Wed 14 Jan 2026 11:00 sanne@iot\\-desk\\.example: lead time extended (lead_time: 5bd → 10bd)"
        in view.splitlines()
    )
    assert (
        "- Wed 14 Jan 2026 11:00 sanne@iot\\-desk\\.example: reason: becomes a project: a new core design"
        in view.splitlines()
    )
    assert _ticket(db).lead_time == "10bd"
    # The standard deadline passes without a breach; the staff are warned on the new budget.
    _at(harness, local(2026, 1, 19, 10, 0))
    assert _warnings(harness) == []
    _at(harness, local(2026, 1, 21, 14, 59))
    assert _warnings(harness) == []
    _at(harness, local(2026, 1, 21, 15, 0))  # 75 of 100 office hours
    assert _warnings(harness) == ["⚠ RFC-1001: Resolution at 75% — due Mon 26 Jan 2026 10:00, 25:00 left."]
    # /report counts it as extended, not breached, running or met; also once it is closed within it.
    report = _do(harness, SANNE_EMAIL, STAFF_ROOM, "/report 2026-01")
    harness.run()
    report = [m["markdown"] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("**Report")][
        -1
    ].splitlines()
    assert "- Resolution: 0 met, 1 extended, 0 breached, 0 running, 0 best effort" in report
    assert "- First response: 1 met, 0 breached, 0 running, 0 best effort" in report
    assert report[-1] == (
        "Extended: an RFC or RFI given a longer lead time with a reason (`/extend`), met or running within it; "
        "not counted as met or breached."
    )
    harness.clock.set(local(2026, 1, 22, 9, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/close RFC-1001 Private APN in place")
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/report 2026-01")
    harness.run()
    report = [m["markdown"] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("**Report")][
        -1
    ].splitlines()
    assert "- Resolution: 0 met, 1 extended, 0 breached, 0 running, 0 best effort" in report


def test_an_extended_lead_time_missed_is_still_a_breach(harness, db):
    _rfc_monday(harness)
    harness.clock.set(local(2026, 1, 13, 9, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/extend RFC-1001 6bd more sites than expected")
    _at(harness, local(2026, 1, 20, 10, 0))
    assert _warnings(harness)[-1] == "🚨 RFC-1001: Resolution breached — it was due Tue 20 Jan 2026 10:00."
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/report 2026-01")
    harness.run()
    report = [m["markdown"] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("**Report")][
        -1
    ].splitlines()
    assert "- Resolution: 0 met, 1 breached, 0 running, 0 best effort" in report


def test_an_exceptional_rfi_in_dutch_from_the_customer_space(harness, db):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/language nl")
    harness.clock.set(local(2026, 1, 12, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/rfi service=M2M Why were 300 SIMs billed twice in 2025?")
    harness.clock.set(local(2026, 1, 13, 10, 0))
    # An agent in the customer space: the thread says it, nothing else is posted there.
    harness.add_member(ACME_ROOM, SANNE_EMAIL)
    before = len(harness.bot_messages(ACME_ROOM))
    harness.say(SANNE_EMAIL, ACME_ROOM, "/extend RFI-1001 8bd de facturen van een heel jaar nakijken")
    harness.run()
    posted = [m["markdown"] for m in harness.bot_messages(ACME_ROOM)[before:]]
    assert posted[0] == (
        "**RFI-1001**: de doorlooptijd is nu 8 werkdagen, uiterlijk do 22 jan 2026 10:00. "
        "Reden: de facturen van een heel jaar nakijken"
    )
    assert all(m.startswith(("**RFI-1001**: de doorlooptijd", "⏱")) for m in posted)
    assert "(doorlooptijd verlengd tot 8 werkdagen)" in _countdown(harness)
    view = _do(harness, ANNA_EMAIL, ACME_ROOM, "/ticket RFI-1001")
    assert "- Oplossing: do 22 jan 2026 10:00 — loopt (doorlooptijd verlengd tot 8 werkdagen)" in view
    assert "(doorlooptijd verlengd tot 8 werkdagen)" in _do(harness, ANNA_EMAIL, ACME_ROOM, "/sla RFI-1001")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/language nl")
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/report 2026-01")
    harness.run()
    report = [m["markdown"] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("**Rapport")][
        -1
    ].splitlines()
    assert "- Oplossing: 0 gehaald, 1 verlengd, 0 overschreden, 0 loopt, 0 best effort" in report
    assert report[-1].startswith("Verlengd: een RFC of RFI met een langere doorlooptijd en een reden")
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/extend RFI-1001 20bd") == (
        "Zeg waarom **RFI-1001** een langere doorlooptijd nodig heeft: `/extend RFI-1001 10bd <reden>`."
    )


def _state(db):
    with db.scope() as s:
        tickets = [
            (t.number, t.lead_time, dict(t.clock or {}).get("warned"))
            for t in s.scalars(select(Ticket).order_by(Ticket.id))
        ]
        audit = len(s.scalars(select(AuditEntry)).all())
        timers = sorted((t.kind, t.due_at, t.status) for t in s.scalars(select(Timer)))
        sent = len(s.scalars(select(OutboxMessage)).all())
    return tickets, audit, timers, sent


INCIDENT_OR_COMPLAINT = (
    "keeps its lead time: only a request for change or a request for information can get a longer one. "
    "An incident's recovery time follows its priority, and a complaint has no deadline."
)


@pytest.mark.parametrize(
    ("who", "text", "refusal"),
    [
        (SANNE_EMAIL, "/extend INC-1001 10bd a big one", "**INC-1001** " + INCIDENT_OR_COMPLAINT),
        (SANNE_EMAIL, "/extend CMP-1001 10bd a big one", "**CMP-1001** " + INCIDENT_OR_COMPLAINT),
        (
            SANNE_EMAIL,
            "/extend RFC-1001 10bd",
            "Say why **RFC-1001** needs a longer lead time: `/extend RFC-1001 10bd <reason>`.",
        ),
        (
            SANNE_EMAIL,
            "/extend RFC-1001 10bd   ",
            "Say why **RFC-1001** needs a longer lead time: `/extend RFC-1001 10bd <reason>`.",
        ),
        (
            SANNE_EMAIL,
            "/extend RFC-1001",
            "Missing: the new lead time in business days (such as 10bd) and the reason.\n\n"
            "Usage: `/extend <number> <N>bd <reason>`",
        ),
        (
            SANNE_EMAIL,
            "/extend RFC-1001 10 days a project",
            "**10** is not a lead time: give it in business days, from 1bd to 250bd, "
            "followed by the reason: `/extend RFC-1001 10bd <reason>`.",
        ),
        (
            SANNE_EMAIL,
            "/extend RFC-1001 80bh a project",
            "**80bh** is not a lead time: give it in business days, from 1bd to 250bd, "
            "followed by the reason: `/extend RFC-1001 10bd <reason>`.",
        ),
        (
            SANNE_EMAIL,
            "/extend RFC-1001 0bd a project",
            "**0bd** is not a lead time: give it in business days, from 1bd to 250bd, "
            "followed by the reason: `/extend RFC-1001 10bd <reason>`.",
        ),
        (
            SANNE_EMAIL,
            "/extend RFC-1001 251bd a project",
            "**251bd** is not a lead time: give it in business days, from 1bd to 250bd, "
            "followed by the reason: `/extend RFC-1001 10bd <reason>`.",
        ),
        (
            SANNE_EMAIL,
            "/extend RFC-1001 5bd a project",
            "The lead time of **RFC-1001** is 5 business days already "
            "(due Mon 19 Jan 2026 10:00); a new one must end later.",
        ),
        (
            SANNE_EMAIL,
            "/extend RFC-1001 3bd a project",
            "The lead time of **RFC-1001** is 5 business days already "
            "(due Mon 19 Jan 2026 10:00); a new one must end later.",
        ),
        (
            SANNE_EMAIL,
            "/extend RFC-1001 10bd " + "x" * 201,
            "The reason can be at most 200 characters; this one has 201.",
        ),
        (SANNE_EMAIL, "/extend RFC-1099 10bd a project", "There is no ticket **RFC-1099**."),
        (ANNA_EMAIL, "/extend RFC-1001 10bd please", "Only someone with the **agent** role can use `/extend`."),
    ],
)
def test_bad_extensions_are_refused_and_change_nothing(harness, db, who, text, refusal):
    harness.clock.set(local(2026, 1, 12, 9, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, ANNA_EMAIL, ACME_ROOM, f"/complaint email={ANNA_EMAIL} The desk never called back")
    _rfc_monday(harness)
    harness.clock.set(local(2026, 1, 14, 11, 0))
    before = _state(db)
    room = STAFF_ROOM if who == SANNE_EMAIL else ACME_ROOM
    assert _do(harness, who, room, text) == refusal
    tickets, audit, timers, sent = _state(db)
    assert (tickets, audit, timers, sent - 1) == before  # only the refusal was sent


def test_after_the_lead_time_ran_out_or_once_closed_it_cannot_be_extended(harness, db):
    _rfc_monday(harness)
    harness.clock.set(local(2026, 1, 19, 10, 0))
    before = _state(db)
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/extend RFC-1001 10bd a project after all") == (
        "The lead time of **RFC-1001** ran out on Mon 19 Jan 2026 10:00: a longer lead time is agreed before it runs out, not after."
    )
    assert _state(db)[:3] == before[:3]
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/close RFC-1001 APN in place")
    assert (
        _do(harness, SANNE_EMAIL, STAFF_ROOM, "/extend RFC-1001 10bd a project after all") == "**RFC-1001** is closed."
    )
    assert _ticket(db).lead_time is None
