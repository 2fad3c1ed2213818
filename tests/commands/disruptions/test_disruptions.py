"""Generic disruptions and problems through the sandbox: audiences, promised updates, detection, closure."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from sandbox.demo import (
    ACME_ROOM,
    ADA_EMAIL,
    ANNA_EMAIL,
    BRAM_EMAIL,
    FATIMA_EMAIL,
    POLDER_ROOM,
    SANNE_EMAIL,
    STAFF_ROOM,
)
from storage.models.operations import Disruption, DisruptionProposal
from storage.models.tickets import Ticket
from tests.harness import answer as _do
from tests.harness import ask, local
from tests.harness import tick as _at

DELTA_ROOM = "Delta Rail — IoT"


# A third organisation, Delta Rail, whose space Anna also belongs to.
pytestmark = [pytest.mark.admins(ADA_EMAIL), pytest.mark.customer_space(DELTA_ROOM, "Delta Rail", ANNA_EMAIL)]


def _notices(harness, room):
    return [
        m["markdown"].splitlines()[0]
        for m in harness.bot_messages(room)
        if "isruption DIS-" in m["markdown"].splitlines()[0]
    ]


OPEN = '/disruption open services=M2M,Things severity=P2 impact="SIMs lose data" actions="Core restarted" next_steps="Watching" next_update=10:30'


def test_open_two_updates_close_reach_exactly_their_audience_in_order(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe M2M")
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/subscribe LoRa")
    _do(harness, ANNA_EMAIL, DELTA_ROOM, "/subscribe Things")
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, OPEN) == "**DIS-1001** opened; 2 spaces are being told."
    first = harness.bot_messages(ACME_ROOM)[-1]
    assert first["markdown"].splitlines() == [
        "⚠ **Disruption DIS-1001** (P2) on M2M, Things.",
        "- Impact: SIMs lose data",
        "- Actions taken: Core restarted",
        "- Next steps: Watching",
        "Next update by Mon 23 Nov 2026 10:30.",
    ]
    assert [a["title"] for a in first["attachments"][0]["content"]["actions"]] == [
        "We are affected too",
        "Show my linked tickets",
    ]
    # Polder has a ticket linked: from now on it hears the updates too.
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/incident service=LoRa Gateways offline")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/disruption link DIS-1001 INC-1001")
    harness.clock.set(local(2026, 11, 23, 10, 20))
    for n in (1, 2):
        _do(
            harness,
            SANNE_EMAIL,
            STAFF_ROOM,
            f'/disruption update DIS-1001 impact="less" actions="step {n}" next_steps="more" next_update="2026-11-23 1{n}:30"',
        )
    harness.clock.set(local(2026, 11, 23, 11, 45))
    assert _do(
        harness, SANNE_EMAIL, STAFF_ROOM, '/disruption close DIS-1001 summary="Restored" cause="Faulty card"'
    ) == ("**DIS-1001** closed; 3 spaces are being told and 1 linked tickets resolved.")
    opened, updated, closed = (
        "⚠ **Disruption DIS-1001** (P2) on M2M, Things.",
        "⚠ **Disruption DIS-1001** (P2) on M2M, Things — update.",
        "✅ **Disruption DIS-1001** on M2M, Things is resolved.",
    )
    assert _notices(harness, ACME_ROOM) == [opened, updated, updated, closed]
    assert _notices(harness, DELTA_ROOM) == [opened, updated, updated, closed]
    assert _notices(harness, POLDER_ROOM) == [updated, updated, closed]
    with db.scope() as s:
        ticket = s.scalars(select(Ticket)).one()
    assert (ticket.status, ticket.resolution["cause"]) == ("resolved", "Faulty card")
    assert "Show my" not in str(harness.bot_messages(ACME_ROOM)[-1].get("attachments"))  # the closure has no buttons
    view = _do(harness, SANNE_EMAIL, STAFF_ROOM, "/disruption DIS-1001").splitlines()
    assert view[2].startswith("- Notices: 11 sent, 0 pending, 0 failed")


def test_next_update_reminder_and_overdue_at_exact_instants(harness):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, OPEN)
    staff = lambda: [m["markdown"] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith(("⏰", "🚨"))]  # noqa: E731
    _at(harness, local(2026, 11, 23, 10, 19))
    assert staff() == []
    _at(harness, local(2026, 11, 23, 10, 20))
    assert staff() == ["⏰ DIS-1001: the next update is promised by Mon 23 Nov 2026 10:30, in 10 minutes."]
    _at(harness, local(2026, 11, 23, 10, 30))
    assert staff()[-1] == "🚨 DIS-1001: the update promised by Mon 23 Nov 2026 10:30 is overdue."
    assert "**update overdue**" in _do(harness, SANNE_EMAIL, STAFF_ROOM, "/disruptions")
    # An update in time cancels the next reminders.
    _do(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        '/disruption update DIS-1001 impact="x" actions="y" next_steps="z" next_update=11:00',
    )
    _do(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        '/disruption update DIS-1001 impact="x" actions="y" next_steps="z" next_update=12:00',
    )
    _at(harness, local(2026, 11, 23, 11, 5))
    assert len(staff()) == 2
    assert "**update overdue**" not in _do(harness, SANNE_EMAIL, STAFF_ROOM, "/disruptions")


@pytest.mark.parametrize(
    ("incidents", "proposed"),
    [
        ([(ANNA_EMAIL, ACME_ROOM, 0), (BRAM_EMAIL, POLDER_ROOM, 10), (ANNA_EMAIL, DELTA_ROOM, 29)], True),
        ([(ANNA_EMAIL, ACME_ROOM, 0), (ANNA_EMAIL, ACME_ROOM, 10), (ANNA_EMAIL, ACME_ROOM, 20)], False),  # one org
        (
            [(ANNA_EMAIL, ACME_ROOM, 0), (BRAM_EMAIL, POLDER_ROOM, 10), (ANNA_EMAIL, DELTA_ROOM, 30)],
            False,
        ),  # outside 30 minutes
    ],
)
def test_detection(harness, db, incidents, proposed):
    for email, room, minute in incidents:
        harness.clock.set(local(2026, 11, 23, 10, 0) + timedelta(minutes=minute))
        _do(harness, email, room, "/incident service=M2M SIMs offline")
    proposals = [m for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("3 incidents on M2M")]
    assert bool(proposals) == proposed
    if proposed:
        assert proposals[0]["markdown"] == (
            "3 incidents on M2M from 3 organisations within 30 minutes (INC-1001, INC-1002, INC-1003). "
            "One generic disruption?"
        )
        card = proposals[0]["attachments"][0]["content"]
        harness.press(SANNE_EMAIL, proposals[0], card["actions"][0]["data"])
        harness.run()
        form = harness.bot_messages(STAFF_ROOM)[-1]
        assert form["attachments"][0]["content"]["actions"][0]["data"]["tickets"] == "INC-1001,INC-1002,INC-1003"
        harness.press(
            SANNE_EMAIL,
            form,
            {
                **form["attachments"][0]["content"]["actions"][0]["data"],
                "services": "M2M",
                "severity": "P2",
                "impact": "i",
                "actions": "a",
                "next_steps": "n",
                "next_update": "11:00",
            },
        )
        harness.run()
        with db.scope() as s:
            assert [t.details.get("disruption") for t in s.scalars(select(Ticket))] == ["DIS-1001"] * 3
            assert s.scalars(select(DisruptionProposal.status)).all() == ["opened"]


def test_we_are_affected_too_from_two_spaces_then_closure_resolves_both(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, OPEN.replace("M2M,Things", "M2M"))
    for email, room in ((ANNA_EMAIL, ACME_ROOM), (BRAM_EMAIL, POLDER_ROOM)):
        notice = [m for m in harness.bot_messages(room) if m.get("attachments")][-1]
        harness.press(email, notice, notice["attachments"][0]["content"]["actions"][0]["data"])
        harness.run()
    acme = harness.bot_messages(ACME_ROOM)
    assert any(
        m["markdown"].startswith(r"**INC-1001** — incident registered: Affected by disruption DIS\-1001") for m in acme
    )
    # Pressing the same notice again: it made its incident once.
    notice = [m for m in acme if m.get("attachments") and "DIS-1001" in m["markdown"]][0]
    harness.press(ANNA_EMAIL, notice, notice["attachments"][0]["content"]["actions"][0]["data"])
    harness.run()
    assert (
        harness.bot_messages(ACME_ROOM)[-1]["markdown"]
        == "This was already submitted as **INC-1001**; nothing else was changed."
    )
    # The next notice's button: the organisation's open incident is already linked.
    _do(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        '/disruption update DIS-1001 impact="less" actions="a" next_steps="n" next_update=11:30',
    )
    harness.clock.advance(timedelta(seconds=1))  # notices are paced: a second on, the update has gone out
    harness.run()
    update = [m for m in harness.bot_messages(ACME_ROOM) if m.get("attachments")][-1]
    assert "less" in update["markdown"]
    harness.press(ANNA_EMAIL, update, update["attachments"][0]["content"]["actions"][0]["data"])
    harness.run()
    assert (
        harness.bot_messages(ACME_ROOM)[-1]["markdown"]
        == "Your organisation's **INC-1001** is already linked to DIS-1001."
    )
    harness.press(ANNA_EMAIL, notice, notice["attachments"][0]["content"]["actions"][1]["data"])
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"] == "Your tickets linked to DIS-1001: INC-1001."
    _do(harness, SANNE_EMAIL, STAFF_ROOM, '/disruption close DIS-1001 summary="Restored" cause="Faulty card"')
    with db.scope() as s:
        assert sorted((t.number, t.status, t.details["disruption"]) for t in s.scalars(select(Ticket))) == [
            ("INC-1001", "resolved", "DIS-1001"),
            ("INC-1002", "resolved", "DIS-1001"),
        ]


def test_a_notice_button_from_a_space_outside_its_audience_answers_as_a_missing_disruption(harness, db):
    # Once any customer space could link itself to any disruption, and learn which numbers exist.
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe M2M")
    _do(harness, ANNA_EMAIL, DELTA_ROOM, "/subscribe Things")
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/subscribe LoRa")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, OPEN.replace("M2M,Things", "M2M"))
    _do(harness, ANNA_EMAIL, DELTA_ROOM, "/language nl")
    for email, room, missing in (
        (BRAM_EMAIL, POLDER_ROOM, "There is no disruption **{}**."),
        (ANNA_EMAIL, DELTA_ROOM, "Er is geen storing **{}**."),
    ):
        card = ask(harness, email, room, "/incident")  # any card of the bot's in the space will do to forge a press
        answers = []
        for action in ("disruption.affected", "disruption.mine"):
            for number in ("DIS-1001", "DIS-1002"):
                harness.press(email, card, {"action": action, "disruption": number})
                harness.run()
                answers.append(harness.bot_messages(room)[-1]["markdown"])
        assert answers == [missing.format(n) for n in ("DIS-1001", "DIS-1002")] * 2
    with db.read() as s:
        assert s.scalars(select(Ticket)).all() == []
        assert s.scalars(select(Disruption.ticket_ids)).one() == []
    # A space of the audience is answered.
    notice = [m for m in harness.bot_messages(ACME_ROOM) if m.get("attachments")][-1]
    harness.press(ANNA_EMAIL, notice, notice["attachments"][0]["content"]["actions"][1]["data"])
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"] == "None of your tickets is linked to DIS-1001."


def test_a_broadcast_through_429s_arrives_once_and_in_order(harness, clock):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    harness.state.faults.add("POST", "/v1/messages", 429, headers={"Retry-After": "3"}, times=4)
    harness.say(SANNE_EMAIL, STAFF_ROOM, OPEN.replace("severity=P2", "severity=P1"))
    harness.inbox.drain()
    harness.sender.drain()
    harness.say(
        SANNE_EMAIL, STAFF_ROOM, '/disruption update DIS-1001 impact="x" actions="y" next_steps="z" next_update=11:00'
    )
    harness.inbox.drain()
    for _ in range(10):
        clock.advance(timedelta(seconds=3))
        harness.sender.drain()
    for room in (ACME_ROOM, POLDER_ROOM, DELTA_ROOM):
        assert _notices(harness, room) == [
            "⚠ **Disruption DIS-1001** (P1) on M2M, Things.",
            "⚠ **Disruption DIS-1001** (P1) on M2M, Things — update.",
        ], room


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (
            '/disruption open services=M2M impact="x"',
            "Every notice needs: actions taken, next steps, next update (Amsterdam time).",
        ),
        (
            "/disruption open services=Fax impact=x actions=y next_steps=z next_update=11:00",
            "**Fax** is not a service; the services are: M2M, Things, LoRa, DSH, Other.",
        ),
        (
            "/disruption open services=M2M impact=x actions=y next_steps=z next_update=09:00",
            "The next update (Mon 23 Nov 2026 09:00) must be in the future.",
        ),
        ("/disruption update DIS-9 impact=x", "There is no disruption **DIS-9**."),
    ],
)
def test_bad_disruption_input(harness, text, answer):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, text) == answer


def test_problem_from_incidents_updates_and_closes(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Drops")
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/incident service=M2M Drops too")
    assert _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem open Intermittent APN drops INC-1001 INC-1002") == (
        r"**PRB-1001** opened, owned by fatima@iot\-desk\.example, with 2 linked incidents."
    )
    assert _do(
        harness, SANNE_EMAIL, STAFF_ROOM, "/problem update PRB-1001 customer Root cause found in the APN pool"
    ) == ("Update of **PRB-1001** sent to 2 places.")
    assert (
        harness.bot_messages(POLDER_ROOM)[-1]["markdown"]
        == "**Problem PRB-1001** — update: Root cause found in the APN pool"
    )
    assert harness.bot_messages(POLDER_ROOM)[-1].get("parentId")  # in the ticket's thread
    # Two organisations' incidents: a generic problem, so Delta Rail's space (no subscriptions: every service) hears too.
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/problem close PRB-1001 fixed APN pool enlarged") == (
        "**PRB-1001** closed; 2 linked tickets told in their threads, and 1 other spaces subscribed to M2M."
    )
    assert (
        harness.bot_messages(ACME_ROOM)[-1]["markdown"]
        == "**Problem PRB-1001** is fixed permanently: APN pool enlarged"
    )
    assert harness.bot_messages(DELTA_ROOM)[-1]["markdown"] == (
        "**Problem PRB-1001** on M2M (Intermittent APN drops) is fixed permanently: APN pool enlarged"
    )
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/problems") == "No open problems."
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/problem close PRB-1001 fixed again") == "**PRB-1001** is closed."
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/problems") == "`/problems` works only in: the staff space."
