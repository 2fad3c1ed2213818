"""P1 paging on durable timers, acknowledgement from the phone, the on-call rota, escalation."""

import threading

import pytest
from sqlalchemy import select

from bot.scheduler import Scheduler
from sandbox.demo import (
    ACME_ROOM,
    ADA_EMAIL,
    ANNA_EMAIL,
    BRAM_EMAIL,
    ERIK_EMAIL,
    FATIMA_EMAIL,
    POLDER_ROOM,
    SANNE_EMAIL,
    STAFF_ROOM,
)
from storage.models.operations import Page
from storage.models.runtime import Timer
from storage.models.tickets import Ticket
from tests.harness import answer as _do
from tests.harness import ask, local
from tests.harness import tick as _at

pytestmark = pytest.mark.admins(ADA_EMAIL)


def _pages(harness, email):
    return [m for m in harness.direct_messages(email) if m["markdown"].startswith("P1 page")]


def _p1_at_night(harness):
    harness.clock.set(local(2026, 11, 29, 3, 0))  # Sunday night
    harness.say(
        ANNA_EMAIL, ACME_ROOM, "/incident service=M2M devices=4000 priority=P1 phone=+31612345678 Everything down"
    )
    harness.run()


def _ticket(db):
    with db.scope() as s:
        return s.scalars(select(Ticket)).one()


def test_nobody_answers_repage_next_engineer_then_the_staff(harness, db):
    _p1_at_night(harness)
    assert [len(_pages(harness, e)) for e in (ERIK_EMAIL, SANNE_EMAIL)] == [1, 0]
    page = _pages(harness, ERIK_EMAIL)[0]
    card = page["attachments"][0]["content"]
    assert [a["title"] for a in card["actions"]] == ["Acknowledge", "Decline", "Open ticket"]
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts == {
        "Customer": "Acme Logistics",
        "Service": "M2M",
        "Impact": "4000",
        "Contact": "Anna de Vries · +31612345678",
        "Since": "03:00 (0:00 ago)",
    }
    steps = [
        (local(2026, 11, 29, 3, 4, 59), [1, 0]),
        (local(2026, 11, 29, 3, 5), [2, 0]),  # the same engineer again
        (local(2026, 11, 29, 3, 9, 59), [2, 0]),
        (local(2026, 11, 29, 3, 10), [2, 1]),  # two unanswered: the next engineer
        (local(2026, 11, 29, 3, 15), [2, 2]),
    ]
    for instant, counts in steps:
        _at(harness, instant)
        assert [len(_pages(harness, e)) for e in (ERIK_EMAIL, SANNE_EMAIL)] == counts, instant
    assert not any("nobody on the rota" in m["markdown"] for m in harness.bot_messages(STAFF_ROOM))
    _at(harness, local(2026, 11, 29, 3, 20))
    alert = harness.bot_messages(STAFF_ROOM)[-1]
    assert alert["markdown"] == (
        "🚨 P1 INC-1001: nobody on the rota answered the pages. Take over now.\nAction: <@personEmail:erik@iot-desk.example>"
    )
    assert alert["mentionedPeople"] == [harness.state.person_by_email(ERIK_EMAIL)["id"]]  # still the engineer on call
    assert _ticket(db).paging == "exhausted"
    _at(harness, local(2026, 11, 29, 4, 0))
    assert [len(_pages(harness, e)) for e in (ERIK_EMAIL, SANNE_EMAIL)] == [2, 2]


def test_acknowledge_from_the_card_stops_everything(harness, db):
    _p1_at_night(harness)
    _at(harness, local(2026, 11, 29, 3, 5))
    first, second = _pages(harness, ERIK_EMAIL)
    harness.clock.set(local(2026, 11, 29, 3, 12))
    harness.press(ERIK_EMAIL, second, second["attachments"][0]["content"]["actions"][0]["data"])
    harness.run()
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"].splitlines()[0] == (
        "You acknowledged **INC-1001**: the customer and the staff have been told. Thank you."
    )
    thread = [m["markdown"] for m in harness.bot_messages(ACME_ROOM) if m.get("parentId")]
    assert "**INC-1001**: Erik Visser is working on it since 03:12." in thread
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"] == (
        "INC-1001: Erik Visser acknowledged the page and is working on it since 03:12."
    )
    ticket = _ticket(db)
    assert (ticket.paging, ticket.first_response_at, ticket.status) == (
        "acknowledged",
        local(2026, 11, 29, 3, 12),
        "in_progress",
    )
    with db.scope() as s:
        assert s.scalars(select(Timer).where(Timer.kind == "page.timeout", Timer.status == "pending")).all() == []
        assert [p.status for p in s.scalars(select(Page).order_by(Page.id))] == ["unanswered", "acknowledged"]
    # Pressing the older card afterwards changes nothing.
    harness.press(ERIK_EMAIL, first, first["attachments"][0]["content"]["actions"][0]["data"])
    harness.run()
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == (
        r"INC-1001 was already acknowledged by Erik Visser at 03:12; nothing changed."
    )
    _at(harness, local(2026, 11, 29, 5, 0))
    assert len(_pages(harness, SANNE_EMAIL)) == 0
    view = _do(harness, SANNE_EMAIL, STAFF_ROOM, "/ticket INC-1001")
    assert "- Acknowledged by Erik Visser 12 minutes after the first page" in view


def test_two_engineers_acknowledge_at_once_one_wins(harness, db):
    _p1_at_night(harness)
    _at(harness, local(2026, 11, 29, 3, 5))
    _at(harness, local(2026, 11, 29, 3, 10))  # Erik paged twice, Sanne once
    erik_card, sanne_card = _pages(harness, ERIK_EMAIL)[-1], _pages(harness, SANNE_EMAIL)[-1]
    # Both presses arrive before either is processed.
    harness.press(SANNE_EMAIL, sanne_card, sanne_card["attachments"][0]["content"]["actions"][0]["data"])
    harness.press(ERIK_EMAIL, erik_card, erik_card["attachments"][0]["content"]["actions"][0]["data"])
    harness.run()
    assert harness.direct_messages(SANNE_EMAIL)[-1]["markdown"].startswith("You acknowledged **INC-1001**")
    assert (
        harness.direct_messages(ERIK_EMAIL)[-1]["markdown"]
        == "INC-1001 was already acknowledged by Sanne Bakker at 03:10; nothing changed."
    )
    assert _ticket(db).acknowledged_by == "Sanne Bakker"


def test_decline_pages_the_next_engineer_at_once(harness, db):
    _p1_at_night(harness)
    page = _pages(harness, ERIK_EMAIL)[0]
    harness.clock.set(local(2026, 11, 29, 3, 1))
    harness.press(ERIK_EMAIL, page, page["attachments"][0]["content"]["actions"][1]["data"])
    harness.run()
    assert (
        harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == "Declined: the next engineer is paged for **INC-1001**."
    )
    assert len(_pages(harness, SANNE_EMAIL)) == 1
    # A second press of Decline on the same card: no longer waiting for him.
    harness.press(ERIK_EMAIL, page, page["attachments"][0]["content"]["actions"][1]["data"])
    harness.run()
    assert (
        harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == "That page of **INC-1001** is no longer waiting for you."
    )
    assert len(_pages(harness, SANNE_EMAIL)) == 1


def test_a_restart_during_paging_fires_the_next_page_once_on_time(harness, db, clock):
    _p1_at_night(harness)
    clock.set(local(2026, 11, 29, 3, 5))
    other = Scheduler(db, clock, worker_id="restarted", runtime=harness.runtime)
    assert other.run_due() == 1
    assert other.run_due() == 0 and harness.scheduler.run_due() == 0
    harness.run()
    assert len(_pages(harness, ERIK_EMAIL)) == 2


def test_an_agent_confirming_p1_pages_once(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Slow")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P1 national outage")
    assert len(_pages(harness, ERIK_EMAIL)) == 1
    # Raising to P1 always asks the customer to phone (SPEC §4).
    told = [m["markdown"] for m in harness.bot_messages(ACME_ROOM) if "priority P3 → **P1**" in m["markdown"]]
    assert told and told[0].endswith(
        "**A P1 needs a phone call: call the service desk now on [+31 88 1200 043](tel:+31881200043).** "
        "The staff has been alerted."
    )
    _do(
        harness, ANNA_EMAIL, ACME_ROOM, "/priority INC-1001 P1 phone=+31612345678 really"
    )  # a request while paging runs: no second page
    assert len(_pages(harness, ERIK_EMAIL)) == 1


# -- the rota ---------------------------------------------------------------------------------------------


def test_oncall_set_swap_and_planned_shift(harness):
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/oncall") == (
        r"**iot-oncall**: on call now erik@iot\-desk\.example; next sanne@iot\-desk\.example. Pages every 5 minutes, 2 per engineer."
    )
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/oncall set iot-oncall sanne@iot-desk.example erik@iot-desk.example")
    assert _do(harness, ERIK_EMAIL, STAFF_ROOM, "/oncall").startswith(
        r"**iot-oncall**: on call now sanne@iot\-desk\.example;"
    )
    _do(harness, ERIK_EMAIL, STAFF_ROOM, "/oncall swap erik@iot-desk.example")
    assert _do(harness, ERIK_EMAIL, STAFF_ROOM, "/oncall").startswith(
        r"**iot-oncall**: on call now erik@iot\-desk\.example;"
    )
    assert _do(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        "/oncall shift iot-oncall 2026-12-24T18:00 2026-12-27T08:00 fatima@iot-desk.example",
    ) == (
        r"fatima@iot\-desk\.example is on call for **iot-oncall** from Thu 24 Dec 2026 18:00 to Sun 27 Dec 2026 08:00."
    )
    harness.clock.set(local(2026, 12, 25, 3, 0))
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/oncall").startswith(
        r"**iot-oncall**: on call now fatima@iot\-desk\.example;"
    )
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 phone=+31612345678 Christmas outage")
    harness.run()
    assert len(_pages(harness, FATIMA_EMAIL)) == 1


@pytest.mark.parametrize(
    ("email", "text", "answer"),
    [
        (ANNA_EMAIL, "/oncall", None),
        (SANNE_EMAIL, "/oncall set", "Name the team and the engineers in paging order."),
        (
            SANNE_EMAIL,
            "/oncall set Bad_Team x@y.example",
            "**Bad\\_Team** is not a team name (lower-case letters, digits and dashes).",
        ),
        (SANNE_EMAIL, "/oncall set t nobody", "Give at most 20 different e-mail addresses: nobody"),
        (
            SANNE_EMAIL,
            "/oncall shift iot-oncall 2026-12-27T08:00 2026-12-24T18:00 fatima@iot-desk.example",
            "A shift must end after it starts.",
        ),
        (ERIK_EMAIL, "/oncall set t a@b.example", "Only someone with the **agent** role can use `/oncall set`."),
    ],
)
def test_bad_rota_commands(harness, email, text, answer):
    room = ACME_ROOM if email == ANNA_EMAIL else STAFF_ROOM
    reply = _do(harness, email, room, text)
    if answer is None:
        assert reply == "`/oncall` works only in: a 1:1 space with me, the staff space."
    else:
        assert reply.splitlines()[0] == answer


def _rota(db):
    from storage.models.operations import OnCallTeam

    with db.scope() as s:
        return list(s.get(OnCallTeam, "iot-oncall").rota)


def test_a_customer_is_no_engineer_of_the_desk(harness, db):
    # Webex finds people by email in the caller's own organisation only.
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/oncall swap anna@acme-logistics.example").startswith(
        "No Webex account of the desk's organisation found for: anna@acme\\-logistics\\.example."
    )


@pytest.mark.parametrize(
    "text",
    [
        "/oncall set iot-oncall ghost@iot-desk.example erik@iot-desk.example",
        "/oncall swap ghost@iot-desk.example",
        "/oncall shift iot-oncall 2026-12-24T18:00 2026-12-27T08:00 ghost@iot-desk.example",
    ],
)
def test_an_address_without_a_webex_account_is_refused_on_the_rota(harness, db, text):
    reply = _do(harness, SANNE_EMAIL, STAFF_ROOM, text)
    assert reply == (
        "No Webex account of the desk's organisation found for: ghost@iot\\-desk\\.example. Check the addresses; "
        "pages go to the desk's own people on Webex."
    )
    assert _rota(db) == [ERIK_EMAIL, SANNE_EMAIL]
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/oncall").startswith(
        r"**iot-oncall**: on call now erik@iot\-desk\.example;"
    )


def test_a_rota_check_webex_cannot_answer_now_is_answered_later_not_apologised_for(harness, db, clock):
    from datetime import timedelta

    harness.state.faults.add("GET", "/v1/people", 503)
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/oncall set iot-oncall sanne@iot-desk.example erik@iot-desk.example")
    harness.run()
    assert harness.bot_messages(STAFF_ROOM) == [] and _rota(db) == [ERIK_EMAIL, SANNE_EMAIL]
    _at(harness, clock.now() + timedelta(seconds=1))
    assert [m["markdown"] for m in harness.bot_messages(STAFF_ROOM)] == [
        r"The rota of **iot-oncall** is now: sanne@iot\-desk\.example, erik@iot\-desk\.example. Pages every 5 minutes, 2 per engineer."
    ]
    assert _rota(db) == [SANNE_EMAIL, ERIK_EMAIL]


def test_a_page_webex_cannot_deliver_goes_to_the_next_engineer_at_once(harness, db):
    from storage.models.operations import OnCallTeam

    with db.scope() as s:  # a rota set before the address lost its Webex account
        s.get(OnCallTeam, "iot-oncall").rota = ["gone@iot-desk.example", ERIK_EMAIL]
    _p1_at_night(harness)
    _at(harness, harness.clock.now())  # the failure's timer runs at once: no re-page interval is waited
    assert len(_pages(harness, ERIK_EMAIL)) == 1
    staff = [m["markdown"] for m in harness.bot_messages(STAFF_ROOM)]
    assert any(
        m.startswith(r"⚠️ P1 INC-1001: Webex could not deliver the page to gone@iot\-desk\.example (")
        and m.endswith("paging the next engineer on the rota now.\nAction: <@personEmail:erik@iot-desk.example>")
        for m in staff
    ), staff
    with db.scope() as s:
        pages = [(p.email, p.status) for p in s.scalars(select(Page).order_by(Page.id))]
    assert pages == [("gone@iot-desk.example", "undeliverable"), (ERIK_EMAIL, "pending")]
    assert r"gone@iot\-desk\.example (#1): not deliverable" in _do(harness, SANNE_EMAIL, STAFF_ROOM, "/ticket INC-1001")
    # Erik's page runs its course as usual: re-paged after five minutes.
    _at(harness, local(2026, 11, 29, 3, 5))
    assert len(_pages(harness, ERIK_EMAIL)) == 2


def test_when_no_page_can_be_delivered_the_staff_take_over(harness, db):
    from storage.models.operations import OnCallTeam

    with db.scope() as s:
        s.get(OnCallTeam, "iot-oncall").rota = ["gone@iot-desk.example", "left@iot-desk.example"]
    _p1_at_night(harness)
    for _ in range(2):
        _at(harness, harness.clock.now())
    staff = [m["markdown"] for m in harness.bot_messages(STAFF_ROOM)]
    assert sum("could not deliver the page" in m for m in staff) == 2
    assert staff[-1] == "🚨 P1 INC-1001: nobody on the rota answered the pages. Take over now."
    assert _ticket(db).paging == "exhausted"


# -- escalation --------------------------------------------------------------------------------------------


def test_escalation_up_the_matrix_and_down(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Slow")
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/escalate INC-1001 no answer for a day") == (
        "**INC-1001** is escalated to level 1: IoT Service Desk — Team Member — [+31 88 1200 043](tel:+31881200043).\nReason: no answer for a day"
    )
    assert (
        harness.bot_messages(STAFF_ROOM)[-1]["markdown"]
        == r"⬆ INC-1001 escalated from level 0 to 1 by anna@acme\-logistics\.example: no answer for a day"
    )
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/escalate INC-1001 still nothing")
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"].startswith(
        "**INC-1001** is escalated to level 2: IoT Team Operations — Team Member — [+31 88 1200 000](tel:+31881200000), pin 1261."
    )
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/escalate INC-1001 customer impact growing")
    assert _ticket(db).escalation_level == 3
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/escalate INC-1001 more") == (
        "**INC-1001** is at level 3, the highest of the escalation matrix."
    )
    assert (
        _do(harness, SANNE_EMAIL, STAFF_ROOM, "/deescalate INC-1001 fix under way")
        == "**INC-1001** is at escalation level 2."
    )
    assert "- Escalated to level 2: IoT Team Operations" in _do(harness, ANNA_EMAIL, ACME_ROOM, "/ticket INC-1001")
    assert _ticket(db).priority == "P3"  # escalation is not a priority change


def test_escalation_refusals(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Slow")
    assert (
        _do(harness, ANNA_EMAIL, ACME_ROOM, "/escalate INC-1001").splitlines()[0] == "Give a reason for the escalation."
    )
    assert _do(harness, BRAM_EMAIL, POLDER_ROOM, "/escalate INC-1001 nosy") == "There is no ticket **INC-1001**."
    assert (
        _do(harness, ANNA_EMAIL, ACME_ROOM, "/deescalate INC-1001 calm")
        == "Only someone with the **agent** role can use `/deescalate`."
    )
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/deescalate INC-1001 calm") == "**INC-1001** is not escalated."
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/close INC-1001 x")  # incidents are resolved, not closed
    assert _ticket(db).escalation_level == 0


def test_escalating_a_resolved_ticket_points_to_reopen(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Slow")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve INC-1001")
    form = harness.bot_messages(STAFF_ROOM)[-1]
    harness.press(
        SANNE_EMAIL, form, {"action": "ticket.resolve", "ticket": "INC-1001", "cause": "c", "resolution": "r"}
    )
    harness.run()
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/escalate INC-1001 not happy") == (
        "**INC-1001** is resolved or closed; reopen it first with `/reopen INC-1001 <reason>`."
    )


def test_the_report_shows_time_to_acknowledge(harness):
    _p1_at_night(harness)
    _at(harness, local(2026, 11, 29, 3, 5))
    card = _pages(harness, ERIK_EMAIL)[-1]
    harness.clock.set(local(2026, 11, 29, 3, 7))
    harness.press(ERIK_EMAIL, card, card["attachments"][0]["content"]["actions"][0]["data"])
    harness.run()
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/report 2026-11")
    harness.run()
    report = [m["markdown"] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("**Report")][-1]
    assert report.splitlines()[5].endswith("P1 page acknowledged 0:07 / 0:07")


def test_the_page_is_the_only_message_in_a_new_one_to_one_space(harness):
    _p1_at_night(harness)
    room = harness.state.direct_room(ERIK_EMAIL, "servicedesk@webex.bot")
    # Webex tells the bot of its own membership of the space it opened (the bot's webhook filters on it).
    [membership] = [
        m["id"]
        for m in harness.state.memberships.values()
        if m["roomId"] == room["id"] and m["personEmail"] == "servicedesk@webex.bot"
    ]
    assert harness.state.wait_delivered(membership, timeout=10)
    harness.run()
    assert [m["markdown"][:7] for m in harness.direct_messages(ERIK_EMAIL)] == ["P1 page"]


def test_a_team_pages_as_patiently_as_it_is_set(harness, db):
    assert _do(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        "/oncall set iot-oncall erik@iot-desk.example sanne@iot-desk.example repage=2 pages=1",
    ) == (
        r"The rota of **iot-oncall** is now: erik@iot\-desk\.example, sanne@iot\-desk\.example. Pages every 2 minutes, 1 per engineer."
    )
    _p1_at_night(harness)
    _at(harness, local(2026, 11, 29, 3, 2))  # one unanswered page is enough: Sanne is next, two minutes on
    assert [len(_pages(harness, e)) for e in (ERIK_EMAIL, SANNE_EMAIL)] == [1, 1]
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/oncall set iot-oncall erik@iot-desk.example repage=0") == (
        "Give repage= as 1–120 minutes and pages= as 1–10 pages per engineer."
    )


def test_an_agent_lowering_a_requested_p1_stops_the_paging(harness, db):
    _p1_at_night(harness)
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P2 one site only").startswith(
        "**INC-1001** is now P2"
    )
    assert "Paging for **INC-1001** stopped: it is P2 now." in [m["markdown"] for m in harness.bot_messages(STAFF_ROOM)]
    _at(harness, local(2026, 11, 29, 4, 0))
    assert [len(_pages(harness, e)) for e in (ERIK_EMAIL, SANNE_EMAIL)] == [1, 0]
    assert _ticket(db).paging == "stopped"
    # Raised to P1 again later: paging starts afresh.
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P1 spreading")
    assert len(_pages(harness, ERIK_EMAIL)) == 2


def test_a_page_goes_out_before_a_broadcast_that_was_queued_earlier(harness, db):
    from bot import outbox

    harness.clock.set(local(2026, 11, 29, 3, 0))
    with db.scope() as s:  # a notice still going out to a customer base
        for n in range(5):
            outbox.enqueue(s, now=harness.clock.now(), room_id=harness.room(POLDER_ROOM)["id"], markdown=f"notice {n}")
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 phone=+31612345678 Everything down")
    harness.inbox.drain()
    harness.sender.drain()
    sent = [m for m in harness.state.messages.values() if m["personEmail"] == "servicedesk@webex.bot"]  # as posted
    assert sent[0]["markdown"].startswith("P1 page (#1)") and sent[0]["toPersonEmail"] == ERIK_EMAIL
    assert len(harness.bot_messages(POLDER_ROOM)) == 5


# -- paging stops when it is no longer needed ---------------------------------------------------------------


def _resolve(harness, email=SANNE_EMAIL, room=STAFF_ROOM, number="INC-1001"):
    form = ask(harness, email, room, f"/resolve {number}")
    harness.press(
        email, form, {"action": "ticket.resolve", "ticket": number, "cause": "Core router", "resolution": "Restarted"}
    )
    harness.run()


def _page_rows(db):
    with db.scope() as s:
        return [(p.email, p.attempt, p.status) for p in s.scalars(select(Page).order_by(Page.id))]


def _pending_page_timers(db):
    with db.scope() as s:
        return s.scalars(select(Timer).where(Timer.kind == "page.timeout", Timer.status == "pending")).all()


def _rota_ran_out(harness):
    return [m["markdown"] for m in harness.bot_messages(STAFF_ROOM) if "nobody on the rota" in m["markdown"]]


def test_a_p1_resolved_a_minute_after_the_page_pages_nobody_again(harness, db):
    _p1_at_night(harness)
    harness.clock.set(local(2026, 11, 29, 3, 1))
    _resolve(harness)
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == (
        "Paging for **INC-1001** stopped: it is resolved. You need not act on its page."
    )
    assert _page_rows(db) == [(ERIK_EMAIL, 1, "stopped")]
    assert _pending_page_timers(db) == []
    # The instants paging would have gone on at: the same engineer again, the next one, the staff.
    for instant in (
        local(2026, 11, 29, 3, 5),
        local(2026, 11, 29, 3, 10),
        local(2026, 11, 29, 3, 15),
        local(2026, 11, 29, 3, 20),
    ):
        _at(harness, instant)
        assert [len(_pages(harness, e)) for e in (ERIK_EMAIL, SANNE_EMAIL)] == [1, 0], instant
        assert _rota_ran_out(harness) == [], instant
    assert _ticket(db).paging == "stopped"
    assert "- Sun 29 Nov 2026 03:01 system: paging stopped (paging: active → stopped)" in _do(
        harness, SANNE_EMAIL, STAFF_ROOM, "/ticket INC-1001"
    )


def test_a_page_card_pressed_after_the_resolve_answers_with_the_ticket_state(harness, db):
    _p1_at_night(harness)
    card = _pages(harness, ERIK_EMAIL)[0]
    ack, decline = (card["attachments"][0]["content"]["actions"][i]["data"] for i in (0, 1))
    harness.clock.set(local(2026, 11, 29, 3, 1))
    _resolve(harness)
    before = (_page_rows(db), _ticket(db).paging, _ticket(db).acknowledged_by, _ticket(db).status)
    for data in (ack, decline):
        harness.clock.set(local(2026, 11, 29, 3, 7))
        harness.press(ERIK_EMAIL, card, data)
        harness.run()
        assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == (
            "**INC-1001** needs no page any more: it is resolved. Nothing changed."
        )
    assert (
        _do(harness, ERIK_EMAIL, STAFF_ROOM, "/ack INC-1001")
        == "**INC-1001** needs no page any more: it is resolved. Nothing changed."
    )
    assert (_page_rows(db), _ticket(db).paging, _ticket(db).acknowledged_by, _ticket(db).status) == before
    assert [m["markdown"] for m in harness.bot_messages(ACME_ROOM) if "is working on it" in m["markdown"]] == []


def test_a_customer_withdrawing_the_p1_request_stops_the_paging(harness, db):
    _p1_at_night(harness)
    harness.clock.set(local(2026, 11, 29, 3, 2))
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/priority INC-1001 P2 one site only after all") == (
        "Your request for **P2** on **INC-1001** is recorded; an agent confirms it. Preferably also call the service desk on "
        "[+31 88 1200 043](tel:+31881200043)."
    )
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == (
        "Paging for **INC-1001** stopped: it is P3 now and no P1 is requested. You need not act on its page."
    )
    for instant in (local(2026, 11, 29, 3, 5), local(2026, 11, 29, 3, 20)):
        _at(harness, instant)
        assert [len(_pages(harness, e)) for e in (ERIK_EMAIL, SANNE_EMAIL)] == [1, 0], instant
    assert _rota_ran_out(harness) == [] and _pending_page_timers(db) == []
    # Asked for P1 again: paging starts afresh.
    harness.clock.set(local(2026, 11, 29, 3, 30))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/priority INC-1001 P1 spreading again")
    assert len(_pages(harness, ERIK_EMAIL)) == 2


def test_resolved_after_the_rota_ran_out_everyone_paged_hears_it_once(harness, db):
    _p1_at_night(harness)
    for minute in (5, 10, 15, 20):
        _at(harness, local(2026, 11, 29, 3, minute))
    assert len(_rota_ran_out(harness)) == 1 and _ticket(db).paging == "exhausted"
    harness.clock.set(local(2026, 11, 29, 3, 25))
    _resolve(harness)
    stopped = "Paging for **INC-1001** stopped: it is resolved. You need not act on its page."
    assert [m["markdown"] for m in harness.direct_messages(ERIK_EMAIL)].count(stopped) == 1
    assert [m["markdown"] for m in harness.direct_messages(SANNE_EMAIL)].count(stopped) == 1
    assert _ticket(db).paging == "stopped"
    card = _pages(harness, SANNE_EMAIL)[-1]
    harness.press(SANNE_EMAIL, card, card["attachments"][0]["content"]["actions"][0]["data"])
    harness.run()
    assert (
        harness.direct_messages(SANNE_EMAIL)[-1]["markdown"]
        == "**INC-1001** needs no page any more: it is resolved. Nothing changed."
    )
    assert _ticket(db).acknowledged_by is None


def test_an_engineer_hears_that_paging_stopped_in_their_language(harness, db):
    harness.say_direct(ERIK_EMAIL, "/language nl")
    harness.run()
    _p1_at_night(harness)
    [card] = [m for m in harness.direct_messages(ERIK_EMAIL) if m["markdown"].startswith("P1-oproep (#1) INC-1001")]
    harness.clock.set(local(2026, 11, 29, 3, 1))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P2 one site only")
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == (
        "Oproepen voor **INC-1001** gestopt: het is nu P2 en er is geen P1 gevraagd. Je hoeft niets meer met de oproep te doen."
    )
    harness.press(ERIK_EMAIL, card, card["attachments"][0]["content"]["actions"][0]["data"])
    harness.run()
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == (
        "**INC-1001** hoeft niet meer opgeroepen te worden: het is nu P2 en er is geen P1 gevraagd. Er is niets veranderd."
    )
    _resolve(harness)
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"].startswith(
        "**INC-1001** hoeft niet"
    )  # told once, when it stopped


def _resolve_pressed(harness):
    """The resolve form filled in and pressed at 03:01; the press is stored, not yet handled."""
    harness.clock.set(local(2026, 11, 29, 3, 1))
    form = ask(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve INC-1001")
    harness.press(
        SANNE_EMAIL,
        form,
        {"action": "ticket.resolve", "ticket": "INC-1001", "cause": "Core router", "resolution": "Restarted"},
    )


def _held(monkeypatch, module, name):
    """Make `module.name` stop after doing its work (resolve) or before it (the page timer's ticket lock)
    until the test lets it go on: (inside, go_on) events."""
    inside, go_on = threading.Event(), threading.Event()
    real = getattr(module, name)

    def held(*args, **kwargs):
        if name == "_locked":
            inside.set()
            go_on.wait(10)
            return real(*args, **kwargs)
        result = real(*args, **kwargs)
        inside.set()
        go_on.wait(10)
        return result

    monkeypatch.setattr(module, name, held)
    return inside, go_on


def _no_page_after_the_resolve(harness, db):
    harness.scheduler.run_due()
    harness.run()
    assert [len(_pages(harness, e)) for e in (ERIK_EMAIL, SANNE_EMAIL)] == [1, 0]
    assert harness.direct_messages(ERIK_EMAIL)[-1]["markdown"] == (
        "Paging for **INC-1001** stopped: it is resolved. You need not act on its page."
    )
    assert _page_rows(db) == [(ERIK_EMAIL, 1, "stopped")] and _pending_page_timers(db) == []
    _at(harness, local(2026, 11, 29, 3, 20))
    assert [len(_pages(harness, e)) for e in (ERIK_EMAIL, SANNE_EMAIL)] == [1, 0] and _rota_ran_out(harness) == []
    with db.scope() as s:
        assert s.scalars(select(Timer.status).where(Timer.kind == "page.timeout")).all() in (["cancelled"], ["done"])


def test_a_page_due_while_another_worker_resolves_is_not_sent(harness, db, clock, monkeypatch):
    from commands.tickets import lifecycle as ticket_flows

    _p1_at_night(harness)
    _resolve_pressed(harness)
    inside, go_on = _held(monkeypatch, ticket_flows, "resolve")
    resolving = threading.Thread(target=harness.inbox.drain)
    resolving.start()
    assert inside.wait(10)  # the resolve has done its work; its transaction is still open
    clock.set(local(2026, 11, 29, 3, 5))  # the re-page is due now, on another worker
    timers = threading.Thread(target=Scheduler(db, clock, worker_id="other-timers", runtime=harness.runtime).run_due)
    timers.start()
    timers.join(0.5)
    go_on.set()
    for thread in (resolving, timers):
        thread.join(10)
        assert not thread.is_alive()
    _no_page_after_the_resolve(harness, db)


def test_a_page_timer_already_running_when_another_worker_resolves_does_not_page(harness, db, clock, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite runs one transaction at a time: a running timer and a resolve never overlap (the test above)"
        )
    from commands.paging import flows as paging_flows

    _p1_at_night(harness)
    _resolve_pressed(harness)
    clock.set(local(2026, 11, 29, 3, 5))
    inside, go_on = _held(monkeypatch, paging_flows, "_locked")
    timers = threading.Thread(target=Scheduler(db, clock, worker_id="other-timers", runtime=harness.runtime).run_due)
    timers.start()
    assert inside.wait(10)  # that worker claimed the due page timer and is about to take the ticket's row
    resolving = threading.Thread(target=harness.inbox.drain)
    resolving.start()
    resolving.join(10)
    # The resolve does not wait for the running timer (which would wait for the resolve's ticket row: a deadlock).
    assert not resolving.is_alive()
    go_on.set()
    timers.join(10)
    assert not timers.is_alive()
    _no_page_after_the_resolve(harness, db)
