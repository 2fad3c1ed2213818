"""One-shot forms: a card that makes a record makes it once, however often and by whomever it is pressed.

A replayed delivery of the same attachment action is dropped by the inbox (its key is the
action's id); these tests press a card again, which Webex delivers as a new action.
"""

import threading

import pytest
from sqlalchemy import func, select, update

from bot.inbox import InboxWorker
from commands.tickets import intake as ticket_flows
from sandbox.demo import (
    ACME_ORG,
    ACME_ROOM,
    ADA_EMAIL,
    ANNA_EMAIL,
    BRAM_EMAIL,
    ERIK_EMAIL,
    POLDER_ROOM,
    SANNE_EMAIL,
    STAFF_ROOM,
)
from storage import directory
from storage.models.directory import AuditEntry, Organisation, SpaceRecord
from storage.models.operations import Disruption, Maintenance
from storage.models.runtime import FormSubmission, InboxEvent, OutboxMessage
from storage.models.tickets import Ticket
from tests.harness import Harness, ask, command_router, local

JOOST_EMAIL = "joost@acme-logistics.example"
ALREADY = "This was already submitted as **{}**; nothing else was changed."
INCIDENT = {
    "action": "ticket.create",
    "kind": "incident",
    "service": "M2M",
    "title": "Modems offline",
    "contact_name": "Anna de Vries",
    "email": ANNA_EMAIL,
    "priority": "P3",
}


def _a_second_agent(h: Harness) -> None:
    """Erik is an agent too, for forms two people press."""
    with h.runtime.db.scope() as s:
        directory.grant_role(s, email=ERIK_EMAIL, role="agent", actor=ADA_EMAIL, room_id=None, now=h.clock.now())


pytestmark = [pytest.mark.admins(ADA_EMAIL), pytest.mark.prepare.with_args(_a_second_agent)]


def _count(db, model):
    with db.scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def _press(harness, email, card, inputs):
    harness.press(email, card, inputs)
    harness.run()


def _last(harness, room):
    return harness.bot_messages(room)[-1]["markdown"]


def _registered(harness, room):
    return [m for m in harness.bot_messages(room) if "registered" in m["markdown"].split("\n")[0]]


def test_which_buttons_act_once():
    # Forms that make a record, and cards answered once; buttons meant to be pressed again are not.
    router = command_router()
    assert set(router.one_shot) == {
        "ticket.create",
        "ticket.resolve",
        "ticket.answer",
        "ticket.ask_in",
        "disruption.open",
        "disruption.update",
        "disruption.close",
        "disruption.affected",
        "disruption.proposal.open",
        "disruption.proposal.dismiss",
        "maintenance.announce",
        "space.bind.confirm",
        "space.bind.cancel",
    }
    for repeatable in (
        "ticket.take",
        "ticket.respond",
        "ticket.priority",
        "ticket.solved",
        "ticket.not_solved",
        "page.ack",
        "page.decline",
        "page.view",
        "disruption.mine",
    ):
        assert repeatable in router.actions and repeatable not in router.one_shot


def test_a_double_pressed_intake_form_opens_one_ticket_and_names_it(harness, db):
    form = ask(harness, ANNA_EMAIL, ACME_ROOM, "/incident")
    _press(harness, ANNA_EMAIL, form, INCIDENT)
    audit, outbox = _count(db, AuditEntry), _count(db, OutboxMessage)
    _press(harness, ANNA_EMAIL, form, {**INCIDENT, "title": "Modems offline (tapped twice)"})
    assert _last(harness, ACME_ROOM) == ALREADY.format("INC-1001")
    assert _count(db, Ticket) == 1 and len(_registered(harness, ACME_ROOM)) == 1
    assert [m["markdown"] for m in harness.bot_messages(STAFF_ROOM)] == ["New INC-1001: Modems offline"]
    # Nothing but the answer: no row, no timeline entry.
    assert (_count(db, AuditEntry), _count(db, OutboxMessage)) == (audit, outbox + 1)
    with db.scope() as s:
        used = s.scalars(select(FormSubmission)).one()
    assert (used.message_id, used.action, used.number, used.submitted_by) == (
        form["id"],
        "ticket.create",
        "INC-1001",
        ANNA_EMAIL,
    )


def test_the_answer_is_in_the_spaces_language(harness, db):
    ask(harness, BRAM_EMAIL, POLDER_ROOM, "/language nl")
    form = ask(harness, BRAM_EMAIL, POLDER_ROOM, "/incident")
    _press(harness, BRAM_EMAIL, form, {**INCIDENT, "email": BRAM_EMAIL})
    _press(harness, BRAM_EMAIL, form, {**INCIDENT, "email": BRAM_EMAIL})
    assert _last(harness, POLDER_ROOM) == "Dit is al verstuurd als **INC-1001**; verder is er niets veranderd."
    assert _count(db, Ticket) == 1


def test_a_refused_submission_leaves_the_form_unused(harness, db):
    form = ask(harness, ANNA_EMAIL, ACME_ROOM, "/incident")
    _press(harness, ANNA_EMAIL, form, {**INCIDENT, "title": ""})
    assert _last(harness, ACME_ROOM) == "Nothing was registered:\n- Give a title."
    assert (_count(db, Ticket), _count(db, FormSubmission)) == (0, 0)
    _press(harness, ANNA_EMAIL, form, INCIDENT)
    assert _registered(harness, ACME_ROOM)[-1]["markdown"].startswith(
        "**INC-1001** — incident registered: Modems offline"
    )
    _press(harness, ANNA_EMAIL, form, INCIDENT)
    assert _last(harness, ACME_ROOM) == ALREADY.format("INC-1001")
    assert _count(db, Ticket) == 1


def test_a_failing_handler_leaves_the_form_unused(harness, db, monkeypatch):
    real = ticket_flows.open_ticket
    calls = []

    def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(ticket_flows, "open_ticket", fails_once)
    form = ask(harness, ANNA_EMAIL, ACME_ROOM, "/incident")
    _press(harness, ANNA_EMAIL, form, INCIDENT)
    assert _last(harness, ACME_ROOM).startswith("Sorry, something went wrong")
    assert (_count(db, Ticket), _count(db, FormSubmission)) == (0, 0)
    _press(harness, ANNA_EMAIL, form, INCIDENT)
    assert _registered(harness, ACME_ROOM)[-1]["markdown"].startswith("**INC-1001** — incident registered")
    assert _count(db, FormSubmission) == 1


def test_a_role_refusal_does_not_use_the_card(harness, db):
    ask(harness, SANNE_EMAIL, STAFF_ROOM, "/maintenance announce")
    form = harness.bot_messages(STAFF_ROOM)[-1]
    # A member of the staff space without the agent role presses first: refused, the form stays usable.
    harness.state.add_person("guest@iot-desk.example", "Guest Visitor")
    harness.add_member(STAFF_ROOM, "guest@iot-desk.example")
    inputs = {
        "action": "maintenance.announce",
        "services": "M2M",
        "start": "2026-12-22 01:00",
        "end": "2026-12-22 03:00",
        "impact": "Short interruptions",
    }
    _press(harness, "guest@iot-desk.example", form, inputs)
    assert _last(harness, STAFF_ROOM) == "Only someone with the **agent** role can use `/maintenance.announce`."
    _press(harness, SANNE_EMAIL, form, inputs)
    assert _last(harness, STAFF_ROOM) == "**MNT-1001** announced to 2 spaces."
    _press(harness, ERIK_EMAIL, form, inputs)
    assert _last(harness, STAFF_ROOM) == ALREADY.format("MNT-1001")
    assert _count(db, Maintenance) == 1
    assert [m["markdown"].split(" on ")[0] for m in harness.bot_messages(ACME_ROOM)] == ["🛠 **Maintenance MNT-1001**"]


DISRUPTION = {
    "services": "M2M",
    "severity": "P2",
    "impact": "SIMs lose data",
    "actions": "Core restarted",
    "next_steps": "Watching",
    "next_update": "11:00",
}


def test_a_disruption_form_opens_one_disruption_and_an_update_form_sends_one_update(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    form = ask(harness, SANNE_EMAIL, STAFF_ROOM, "/disruption open")
    for email in (SANNE_EMAIL, ERIK_EMAIL):
        _press(harness, email, form, {"action": "disruption.open", **DISRUPTION})
    assert _last(harness, STAFF_ROOM) == ALREADY.format("DIS-1001")
    assert _count(db, Disruption) == 1
    form = ask(harness, SANNE_EMAIL, STAFF_ROOM, "/disruption update DIS-1001")
    for _ in range(2):
        _press(
            harness,
            SANNE_EMAIL,
            form,
            {"action": "disruption.update", "disruption": "DIS-1001", **DISRUPTION, "next_update": "11:30"},
        )
    assert _last(harness, STAFF_ROOM) == ALREADY.format("DIS-1001")
    notices = [m["markdown"].splitlines()[0] for m in harness.bot_messages(ACME_ROOM)]
    assert notices == ["⚠ **Disruption DIS-1001** (P2) on M2M.", "⚠ **Disruption DIS-1001** (P2) on M2M — update."]


def _proposal(harness):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    for email, room in ((ANNA_EMAIL, ACME_ROOM), (BRAM_EMAIL, POLDER_ROOM), (ANNA_EMAIL, ACME_ROOM)):
        ask(harness, email, room, "/incident service=M2M SIMs offline")
    [proposal] = [m for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("3 incidents on M2M")]
    return proposal, proposal["attachments"][0]["content"]["actions"]


def test_a_proposal_is_answered_once(harness, db):
    proposal, (open_button, dismiss_button) = _proposal(harness)
    _press(harness, SANNE_EMAIL, proposal, open_button["data"])
    _press(harness, ERIK_EMAIL, proposal, open_button["data"])
    assert (
        _last(harness, STAFF_ROOM) == r"This card was already used (by sanne@iot\-desk\.example); nothing was changed."
    )
    _press(harness, ERIK_EMAIL, proposal, dismiss_button["data"])
    assert (
        _last(harness, STAFF_ROOM) == r"This card was already used (by sanne@iot\-desk\.example); nothing was changed."
    )
    assert len([m for m in harness.bot_messages(STAFF_ROOM) if m["markdown"] == "Fill in the form."]) == 1
    with db.scope() as s:
        assert s.scalars(select(Ticket.number)).all() == ["INC-1001", "INC-1002", "INC-1003"]


def test_binding_is_confirmed_once_and_a_cancelled_card_binds_nothing(harness, db):
    room = harness.add_bot_to_new_room("Noord Water — IoT", ANNA_EMAIL)
    harness.add_member("Noord Water — IoT", ADA_EMAIL)
    harness.run()
    asked = ask(harness, ADA_EMAIL, "Noord Water — IoT", "/space bind Noord Water")
    confirm, cancel = (
        {"action": a, "org": "Noord Water", "sla_profile": "iot", "language": "en"}
        for a in ("space.bind.confirm", "space.bind.cancel")
    )
    _press(harness, ADA_EMAIL, asked, confirm)
    _press(harness, ADA_EMAIL, asked, confirm)
    assert _last(harness, "Noord Water — IoT") == ALREADY.format("Noord Water")
    _press(harness, ADA_EMAIL, asked, cancel)
    assert _last(harness, "Noord Water — IoT") == ALREADY.format("Noord Water")
    with db.scope() as s:
        assert s.scalars(select(Organisation.name).order_by(Organisation.id)).all() == [
            ACME_ORG,
            "Polder Energy",
            "Noord Water",
        ]
        assert s.get(SpaceRecord, room["id"]).kind == "customer"
    # Cancelled first: the card is used up and binds nothing.
    other = harness.add_bot_to_new_room("Zuid Gas — IoT", ADA_EMAIL)
    harness.run()
    asked = ask(harness, ADA_EMAIL, "Zuid Gas — IoT", "/space bind Zuid Gas")
    _press(harness, ADA_EMAIL, asked, {**cancel, "org": "Zuid Gas"})
    assert _last(harness, "Zuid Gas — IoT") == "Nothing changed: this space is not linked."
    _press(harness, ADA_EMAIL, asked, {**confirm, "org": "Zuid Gas"})
    assert (
        _last(harness, "Zuid Gas — IoT")
        == r"This card was already used (by ada@iot\-desk\.example); nothing was changed."
    )
    with db.scope() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 3
        assert s.get(SpaceRecord, other["id"]).kind == "unbound"  # never bound (the join is recorded)


def test_a_resolve_form_resolves_once(harness, db):
    ask(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    form = ask(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve INC-1001")
    inputs = {"action": "ticket.resolve", "ticket": "INC-1001", "cause": "APN", "resolution": "Fixed"}
    _press(harness, SANNE_EMAIL, form, inputs)
    # Rejected by the customer; the old form cannot resolve it again with the old words.
    ask(harness, ANNA_EMAIL, ACME_ROOM, "/reopen INC-1001 still offline")
    _press(harness, SANNE_EMAIL, form, inputs)
    assert _last(harness, STAFF_ROOM) == ALREADY.format("INC-1001")
    with db.scope() as s:
        assert s.scalars(select(Ticket.status)).one() == "in_progress"


def test_two_presses_at_the_same_moment_on_two_workers_open_one_ticket(harness, db, monkeypatch):
    # A colleague of Anna's in the same space: two people, one form.
    harness.state.add_person(JOOST_EMAIL, "Joost Smit", org=ACME_ORG)
    harness.add_member(ACME_ROOM, JOOST_EMAIL)
    harness.run()
    form = ask(harness, ANNA_EMAIL, ACME_ROOM, "/incident")
    harness.press(ANNA_EMAIL, form, INCIDENT)
    harness.press(JOOST_EMAIL, form, {**INCIDENT, "contact_name": "Joost Smit", "email": JOOST_EMAIL})
    other = InboxWorker(harness.runtime, worker_id="other-inbox")
    # The inbox hands a space's events out one at a time; an event stored before it recorded spaces
    # (migration 0015) may still be worked beside another of its space: the form's claim holds then.
    with db.scope() as s:
        s.execute(
            update(InboxEvent).where(InboxEvent.id == s.scalar(select(func.max(InboxEvent.id)))).values(order_key=None)
        )
    [first], [second] = harness.inbox.claim_batch(1), other.claim_batch(1)

    # The first press stops inside its handler, its transaction open, until the second press is under way.
    inside, go_on = threading.Event(), threading.Event()
    real = ticket_flows.open_ticket

    def held(*args, **kwargs):
        ticket = real(*args, **kwargs)
        inside.set()
        go_on.wait(10)
        return ticket

    monkeypatch.setattr(ticket_flows, "open_ticket", held)
    threads = [
        threading.Thread(target=harness.inbox.process, args=(first,)),
        threading.Thread(target=other.process, args=(second,)),
    ]
    threads[0].start()
    assert inside.wait(10)
    threads[1].start()
    threads[1].join(0.5)
    assert threads[1].is_alive()  # waiting for the first press's transaction, not acting beside it
    go_on.set()
    for thread in threads:
        thread.join(10)
    harness.sender.drain()
    assert _count(db, Ticket) == 1
    assert len(_registered(harness, ACME_ROOM)) == 1
    assert _last(harness, ACME_ROOM) == ALREADY.format("INC-1001")
    with db.scope() as s:
        assert s.scalars(select(Ticket.opened_by)).one() == ANNA_EMAIL
