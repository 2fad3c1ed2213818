"""Card submissions hold what each form declares: a value of another type (a title sent as a list, a
number or an object) is refused naming the field, nothing is changed, and the form stays usable."""

import pytest
from sqlalchemy import func, select

from sandbox.demo import ACME_ROOM, ADA_EMAIL, ANNA_EMAIL, SANNE_EMAIL, STAFF_ROOM
from storage.models.directory import Organisation
from storage.models.operations import Maintenance
from storage.models.runtime import InboxEvent
from storage.models.tickets import Ticket
from tests.harness import answer, ask

pytestmark = pytest.mark.admins(ADA_EMAIL)

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


@pytest.mark.parametrize("title", [["a", "b"], 5, {"title": "x"}, None, True])
def test_a_form_value_of_the_wrong_type_is_refused_naming_the_field(harness, db, title):
    # A forged or broken submission: once a ticket titled "['a', 'b']".
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident")
    harness.run()
    form = harness.bot_messages(ACME_ROOM)[-1]
    harness.press(ANNA_EMAIL, form, {**FORM, "title": title})
    harness.run()
    assert (
        harness.bot_messages(ACME_ROOM)[-1]["markdown"]
        == "Nothing was done: the form's field **title** must hold text."
    )
    answer(harness, ANNA_EMAIL, ACME_ROOM, "/language nl")
    harness.press(ANNA_EMAIL, form, {**FORM, "roaming": ["true"]})
    harness.run()
    assert (
        harness.bot_messages(ACME_ROOM)[-1]["markdown"]
        == "Er is niets gedaan: het veld **roaming** van het formulier moet ja of nee (true of false) bevatten."
    )
    assert _count(db, Ticket) == 0
    # The form still works: a refused press does not use it up.
    harness.press(ANNA_EMAIL, form, FORM)
    harness.run()
    with db.read() as s:
        assert s.scalars(select(Ticket.title)).all() == ["Modems offline"]


def test_every_form_declares_its_types(harness, db):
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/maintenance announce")
    harness.run()
    form = harness.bot_messages(STAFF_ROOM)[-1]
    announcement = {
        "action": "maintenance.announce",
        "services": "M2M",
        "start": "2026-12-08 01:00",
        "end": "2026-12-08 05:00",
        "impact": "Works",
    }
    for field, value, expected in [
        ("services", {"M2M": True}, "one or more choices"),
        ("start", 20261208, "text"),
        ("adhoc", 1, "yes or no (true or false)"),
    ]:
        harness.press(SANNE_EMAIL, form, {**announcement, field: value})
        harness.run()
        assert (
            harness.bot_messages(STAFF_ROOM)[-1]["markdown"]
            == f"Nothing was done: the form's field **{field}** must hold {expected}."
        )
    assert _count(db, Maintenance) == 0
    harness.add_member(ACME_ROOM, ADA_EMAIL)
    answer(harness, ADA_EMAIL, ACME_ROOM, "/space unbind")
    asked = ask(harness, ADA_EMAIL, ACME_ROOM, "/space bind Delta")
    harness.press(
        ADA_EMAIL, asked, {"action": "space.bind.confirm", "org": ["Delta"], "sla_profile": "iot", "language": "en"}
    )
    harness.run()
    assert (
        harness.bot_messages(ACME_ROOM)[-1]["markdown"] == "Nothing was done: the form's field **org** must hold text."
    )
    assert _count(db, Organisation) == 2
    _no_failed_events(db)
