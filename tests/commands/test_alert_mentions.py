"""Staff alerts mention who must act, so Webex notifies them; notices to customers mention nobody.

Webex notifies a person in a group space only when a message mentions them: the mention is in
the markdown (`<@personEmail:…>`) and Webex lists them in `mentionedPeople`, which is what
these tests read.
"""

import pytest
from sqlalchemy import delete

from sandbox.demo import ACME_ROOM, ADA_EMAIL, ANNA_EMAIL, BRAM_EMAIL, ERIK_EMAIL, POLDER_ROOM, SANNE_EMAIL, STAFF_ROOM
from storage.models.operations import OnCallShift, OnCallTeam
from tests.harness import answer as _do
from tests.harness import local
from tests.harness import tick as _at

pytestmark = pytest.mark.admins(ADA_EMAIL)


def _id(harness, email):
    return harness.state.person_by_email(email)["id"]


def _staff(harness, starts):
    return [m for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith(starts)]


def test_sla_warnings_mention_the_engineer_on_call_until_someone_takes_the_ticket(harness):
    harness.clock.set(local(2026, 1, 9, 17, 0))  # Friday evening; P2: first response due Monday 09:00
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P2 two sites")
    _at(harness, local(2026, 1, 12, 8, 30))
    [warning] = _staff(harness, "⚠")
    assert warning["markdown"] == (
        "⚠ INC-1001: First response at 75% — due Mon 12 Jan 2026 09:00, 0:30 left.\n"
        "Action: <@personEmail:erik@iot-desk.example>"
    )
    assert warning["mentionedPeople"] == [_id(harness, ERIK_EMAIL)]
    harness.clock.set(local(2026, 1, 12, 8, 40))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/take INC-1001")
    # Resolution (16 office hours from Friday 17:00): 75%, 90% and the breach on Tuesday; the ticket is Sanne's now.
    for instant in (local(2026, 1, 13, 9, 0), local(2026, 1, 13, 11, 24), local(2026, 1, 13, 13, 0)):
        _at(harness, instant)
    resolution = [m for m in _staff(harness, ("⚠", "🚨")) if "Resolution" in m["markdown"]]
    assert [m["markdown"].split("\n")[0] for m in resolution] == [
        "⚠ INC-1001: Resolution at 75% — due Tue 13 Jan 2026 13:00, 4:00 left.",
        "⚠ INC-1001: Resolution at 90% — due Tue 13 Jan 2026 13:00, 1:36 left.",
        "🚨 INC-1001: Resolution breached — it was due Tue 13 Jan 2026 13:00.",
    ]
    assert [m["mentionedPeople"] for m in resolution] == [[_id(harness, SANNE_EMAIL)]] * 3


def test_the_engineer_who_took_over_the_shift_is_the_one_mentioned(harness):
    harness.clock.set(local(2026, 1, 9, 17, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P2 two sites")
    harness.clock.set(local(2026, 1, 12, 7, 0))
    _do(harness, ERIK_EMAIL, STAFF_ROOM, f"/oncall swap {SANNE_EMAIL}")
    _at(harness, local(2026, 1, 12, 8, 30))
    assert _staff(harness, "⚠")[-1]["mentionedPeople"] == [_id(harness, SANNE_EMAIL)]


def test_p1_alerts_mention_the_engineer_on_call(harness):
    harness.clock.set(local(2026, 11, 29, 3, 0))  # Sunday night
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 phone=+31612345678 Everything down")
    [requested] = _staff(harness, "P1 requested")
    assert requested["markdown"].endswith("\nAction: <@personEmail:erik@iot-desk.example>")
    assert requested["mentionedPeople"] == [_id(harness, ERIK_EMAIL)]
    for minute in (5, 10, 15, 20):  # two pages each to Erik and Sanne, unanswered
        _at(harness, local(2026, 11, 29, 3, minute))
    [exhausted] = _staff(harness, "🚨 P1")
    assert exhausted["mentionedPeople"] == [_id(harness, ERIK_EMAIL)]


def test_without_a_rota_p1_alerts_mention_the_assignee_or_nobody(harness, db):
    with db.scope() as s:
        s.execute(delete(OnCallShift))
        s.execute(delete(OnCallTeam))
    harness.clock.set(local(2026, 11, 23, 10, 0))
    # Nobody on call and nobody assigned: the alert names nobody (there is no one to notify).
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/incident service=LoRa priority=P1 phone=+31201234567 Gateways down")
    assert [m.get("mentionedPeople") for m in _staff(harness, ("P1 requested", "🚨 P1"))] == [None, None]
    assert (
        _staff(harness, "🚨 P1")[0]["markdown"] == "🚨 P1 INC-1001: nobody is on call (no rota). Call an engineer now."
    )
    # Taken first, then raised to P1 by the customer: the agent who has it is called on.
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/take INC-1002")
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/priority INC-1002 P1 phone=+31612345678 production stopped")
    alerts = [m for m in _staff(harness, ("P1 requested", "🚨 P1")) if "INC-1002" in m["markdown"]]
    assert [m["markdown"].split("\n")[-1] for m in alerts] == ["Action: <@personEmail:sanne@iot-desk.example>"] * 2
    assert [m["mentionedPeople"] for m in alerts] == [[_id(harness, SANNE_EMAIL)]] * 2


def test_nothing_sent_to_a_customer_space_mentions_anyone_but_the_question(harness):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    # A ticket's whole life, P1 paging, escalation and a question included.
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 phone=+31612345678 Everything down")
    page = harness.direct_messages(ERIK_EMAIL)[-1]
    harness.press(ERIK_EMAIL, page, page["attachments"][0]["content"]["actions"][0]["data"])
    harness.run()
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P1 confirmed by phone")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/respond INC-1001 We are on it")
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/escalate INC-1001 production stopped")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN?")
    question = harness.bot_messages(ACME_ROOM)[-1]
    harness.press(
        ANNA_EMAIL, question, {**question["attachments"][0]["content"]["actions"][0]["data"], "answer": "internet.m2m"}
    )
    harness.run()
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve INC-1001")
    form = harness.bot_messages(STAFF_ROOM)[-1]
    harness.press(
        SANNE_EMAIL, form, {"action": "ticket.resolve", "ticket": "INC-1001", "cause": "APN", "resolution": "Fixed"}
    )
    harness.run()
    _at(harness, local(2026, 11, 25, 10, 0))  # the 2-2-2 reminder
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/confirm INC-1001")
    # Notices: maintenance and a disruption, to every customer space.
    _do(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        '/maintenance announce services=M2M start="2026-11-25 22:00" end="2026-11-25 23:00" impact="Short" adhoc=true reason="patch"',
    )
    _at(harness, local(2026, 11, 25, 23, 0))
    harness.clock.set(local(2026, 11, 26, 10, 0))
    _do(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        '/disruption open services=M2M severity=P2 impact="SIMs lose data" actions="Restarted" next_steps="Watching" next_update=11:00',
    )
    _do(harness, SANNE_EMAIL, STAFF_ROOM, '/disruption close DIS-1001 summary="Restored" cause="Card"')

    sent = harness.bot_messages(ACME_ROOM) + harness.bot_messages(POLDER_ROOM)
    assert (
        len(sent) > 15
        and any("DIS-1001" in m["markdown"] for m in sent)
        and any("MNT-1001" in m["markdown"] for m in sent)
    )
    assert [m["id"] for m in sent if m.get("mentionedPeople")] == [question["id"]]
    assert question["mentionedPeople"] == [_id(harness, ANNA_EMAIL)]
