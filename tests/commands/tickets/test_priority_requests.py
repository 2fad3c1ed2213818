"""A P1 request needs a phone number to call back; a P2 request suggests phoning (the guide: a
higher priority is agreed by phone)."""

import pytest
from sqlalchemy import func, select

from sandbox.demo import ACME_ROOM, ADA_EMAIL, ANNA_EMAIL, ERIK_EMAIL, STAFF_ROOM
from storage.models.directory import AuditEntry
from storage.models.operations import Page
from storage.models.tickets import Ticket
from tests.harness import answer as _do
from tests.harness import ask, local

pytestmark = pytest.mark.admins(ADA_EMAIL)

FORM = {
    "action": "ticket.create",
    "kind": "incident",
    "service": "M2M",
    "title": "Everything down",
    "contact_name": "Anna de Vries",
    "email": ANNA_EMAIL,
    "priority": "P1",
}


def _counts(db):
    with db.scope() as s:
        return tuple(s.scalar(select(func.count()).select_from(model)) for model in (Ticket, Page, AuditEntry))


def _ticket(db):
    with db.scope() as s:
        return s.scalars(select(Ticket)).one()


def _root(harness):
    """The latest answer outside a thread: a ticket's confirmation (its thread root) or a refusal."""
    return [m for m in harness.bot_messages(ACME_ROOM) if not m.get("parentId")][-1]["markdown"]


def _submit(harness, inputs):
    """Submit the incident form: the refusal (under the form), else the ticket's confirmation."""
    form = ask(harness, ANNA_EMAIL, ACME_ROOM, "/incident")
    harness.press(ANNA_EMAIL, form, inputs)
    harness.run()
    return [m for m in harness.bot_messages(ACME_ROOM) if not m["markdown"].startswith("⏱")][-1]["markdown"]


def _pages(harness):
    return [m for m in harness.direct_messages(ERIK_EMAIL) if m["markdown"].startswith("P1 page")]


def _incident(harness, text):
    harness.say(ANNA_EMAIL, ACME_ROOM, text)
    harness.run()
    return _root(harness)


def test_a_p1_request_without_a_phone_number_is_refused_and_nothing_registered(harness, db):
    harness.clock.set(local(2026, 11, 29, 2, 30))
    before = _counts(db)
    assert _submit(harness, FORM) == (
        "Nothing was registered:\n- A P1 request needs a phone number: the service desk calls you back on it."
    )
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 Everything down") == (
        "Nothing was registered:\n- A P1 request needs a phone number: the service desk calls you back on it."
    )
    assert (
        _submit(harness, {**FORM, "phone": "call me"})
        == "Nothing was registered:\n- Give a phone number such as +31 6 1234 5678."
    )
    assert _counts(db)[:2] == before[:2]
    assert _pages(harness) == [] and harness.bot_messages(STAFF_ROOM) == []
    # The form says so before it is sent.
    form = ask(harness, ANNA_EMAIL, ACME_ROOM, "/incident")["attachments"][0]["content"]
    assert [f["label"] for f in form["body"] if f.get("id") == "phone"] == ["Phone (needed for a P1 request)"]


def test_a_p1_request_with_a_phone_number_is_paged_with_whom_to_call_back(harness, db):
    harness.clock.set(local(2026, 11, 29, 2, 30))
    assert _submit(harness, {**FORM, "phone": "+31 6 1234 5678"}).startswith("**INC-1001** — incident registered")
    assert _ticket(db).details["phone"] == "+31 6 1234 5678"
    [page] = _pages(harness)
    facts = {f["title"]: f["value"] for f in page["attachments"][0]["content"]["body"][2]["facts"]}
    assert facts["Contact"] == "Anna de Vries · +31 6 1234 5678"


def test_the_refusal_in_dutch(harness, db):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/language nl")
    assert _submit(harness, FORM) == (
        "Er is niets geregistreerd:\n- Een P1-verzoek heeft een telefoonnummer nodig: de servicedesk belt je daarop terug."
    )
    assert _counts(db)[0] == 0
    form = ask(harness, ANNA_EMAIL, ACME_ROOM, "/incident")["attachments"][0]["content"]
    assert [f["label"] for f in form["body"] if f.get("id") == "phone"] == ["Telefoon (nodig bij een P1-verzoek)"]


@pytest.mark.parametrize(
    ("at", "lang", "suggestion"),
    [
        (
            local(2026, 11, 23, 10, 0),
            "en",
            "You asked for **P2**: preferably also call the service desk on [+31 88 1200 043](tel:+31881200043), "
            "so that an agent can confirm it quickly.",
        ),
        (
            local(2026, 11, 29, 2, 30),
            "en",
            "You asked for **P2**: preferably also call the service desk on [+31 88 1200 043](tel:+31881200043) "
            "from Mon 30 Nov 2026 08:00, so that an agent can confirm it quickly.",
        ),
        (
            local(2026, 11, 23, 10, 0),
            "nl",
            "Je vroeg om **P2**: bel bij voorkeur ook de servicedesk op [+31 88 1200 043](tel:+31881200043), "
            "zodat een agent die snel kan bevestigen.",
        ),
    ],
)
def test_a_p2_request_suggests_phoning(harness, db, at, lang, suggestion):
    if lang != "en":
        _do(harness, ANNA_EMAIL, ACME_ROOM, f"/language {lang}")
    harness.clock.set(at)
    root = _incident(harness, "/incident service=M2M priority=P2 Half the sites down")  # no phone needed
    assert root.splitlines()[-1] == suggestion
    assert _ticket(db).requested_priority == "P2" and _pages(harness) == []


def test_a_p3_incident_is_not_asked_to_phone(harness, db):
    root = _incident(harness, "/incident service=M2M Modems offline")
    assert root.splitlines()[-1] == "An agent will pick this up; you will hear from us in this thread."


def test_asking_p1_later_needs_a_phone_number_too(harness, db):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    before = _counts(db)
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/priority INC-1001 P1 production stopped") == (
        "A P1 request needs a phone number to call you back on: `/priority INC-1001 P1 phone=+31612345678 <reason>`."
    )
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/priority INC-1001 P1 phone=later production stopped") == (
        "Give a phone number such as +31 6 1234 5678."
    )
    assert _counts(db) == before and _ticket(db).requested_priority is None
    assert _pages(harness) == []
    assert _do(
        harness, ANNA_EMAIL, ACME_ROOM, '/priority INC-1001 P1 phone="+31 6 1234 5678" production stopped'
    ).startswith("Your request for **P1** on **INC-1001** is recorded.")
    ticket = _ticket(db)
    assert (ticket.requested_priority, ticket.details["phone"]) == ("P1", "+31 6 1234 5678")
    assert "- Mon 23 Nov 2026 10:00 anna@acme\\-logistics\\.example: reason: production stopped" in _do(
        harness, ANNA_EMAIL, ACME_ROOM, "/ticket INC-1001"
    )
    [page] = _pages(harness)
    assert {f["title"]: f["value"] for f in page["attachments"][0]["content"]["body"][2]["facts"]}["Contact"] == (
        "Anna de Vries · +31 6 1234 5678"
    )
    # A phone number given at intake is enough: a later request needs none.
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M phone=+31612345678 Other site")
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/priority INC-1002 P1 spreading").startswith(
        "Your request for **P1** on **INC-1002**"
    )


def test_a_p2_request_later_suggests_phoning(harness, db):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/priority INC-1001 P2 more sites") == (
        "Your request for **P2** on **INC-1001** is recorded; an agent confirms it. Preferably also call the service desk on "
        "[+31 88 1200 043](tel:+31881200043)."
    )
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/language nl")
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/priority INC-1001 P2 nog meer") == (
        "Je verzoek om **P2** voor **INC-1001** is vastgelegd; een agent bevestigt het. Bel bij voorkeur ook de servicedesk op "
        "[+31 88 1200 043](tel:+31881200043)."
    )
