"""The root cause analysis of a P1-level disruption: planned at closure, reminded until delivered,
delivered to every space that received the disruption's notices; refused for any other disruption."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

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
from storage.models.operations import Disruption
from storage.models.runtime import OutboxMessage, Timer
from tests.harness import answer as _do
from tests.harness import local
from tests.harness import tick as _at

DELTA_ROOM = "Delta Rail — IoT"
OPEN = (
    '/disruption open services=M2M severity={severity} impact="SIMs lose data" actions="Core restarted" next_steps="Watching" '
    "next_update=10:30"
)
CLOSE = '/disruption close DIS-1001 summary="Restored" cause="Faulty line card"'
RCA_TEXT = "A firmware fault in one line card; all cards are updated"
RCA_EN = (
    "🔎 **Root cause analysis of disruption DIS-1001** on M2M: A firmware fault in one line card; all cards are updated"
)
RCA_NL = (
    "🔎 **Root cause analysis van storing DIS-1001** op M2M: A firmware fault in one line card; all cards are updated"
)


# A third organisation, Delta Rail, whose space Anna also belongs to; it speaks Dutch.
pytestmark = [
    pytest.mark.admins(ADA_EMAIL),
    pytest.mark.customer_space(DELTA_ROOM, "Delta Rail", ANNA_EMAIL, language="nl"),
]


def _rca_notices(harness, room):
    return [m["markdown"] for m in harness.bot_messages(room) if m["markdown"].startswith("🔎")]


def _staff_rca(harness):
    return [m["markdown"] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("DIS-1001: ")]


def _count(db, model):
    with db.scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def _p1_disruption_closed(harness):
    """A P1 disruption on M2M: Acme hears it opened, Delta (a linked ticket) hears the update and the closure."""
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe M2M")
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/subscribe LoRa")
    _do(harness, ANNA_EMAIL, DELTA_ROOM, "/subscribe Things")
    assert (
        _do(harness, SANNE_EMAIL, STAFF_ROOM, OPEN.format(severity="P1"))
        == "**DIS-1001** opened; 1 spaces are being told."
    )
    # Acme stops following M2M after the first notice; Delta reports an incident that is linked.
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/unsubscribe M2M")
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe LoRa")
    _do(harness, ANNA_EMAIL, DELTA_ROOM, "/incident service=Things Trains lose telemetry")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/disruption link DIS-1001 INC-1001")
    harness.clock.set(local(2026, 11, 23, 10, 20))
    _do(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        '/disruption update DIS-1001 impact="less" actions="a" next_steps="n" next_update=11:30',
    )
    harness.clock.set(local(2026, 11, 23, 11, 45))
    assert (
        _do(harness, SANNE_EMAIL, STAFF_ROOM, CLOSE)
        == "**DIS-1001** closed; 1 spaces are being told and 1 linked tickets resolved."
    )


def test_a_p1_disruptions_rca_reaches_every_space_that_received_its_notices(harness, db):
    _p1_disruption_closed(harness)
    assert _staff_rca(harness) == [
        "DIS-1001: the RCA is due by Mon 7 Dec 2026 18:00 (target) and Mon 21 Dec 2026 18:00 at the latest. "
        "Deliver it with `/disruption rca DIS-1001 <link or text>`: it goes to every space told about the disruption."
    ]
    # Polder subscribes to M2M only now: it never heard of the disruption, so it gets no RCA.
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/subscribe M2M")
    harness.clock.set(local(2026, 12, 3, 14, 0))
    assert _do(harness, FATIMA_EMAIL, STAFF_ROOM, f"/disruption rca DIS-1001 {RCA_TEXT}") == (
        "Root cause analysis of **DIS-1001** delivered to 2 spaces that received its notices."
    )
    harness.clock.advance(timedelta(seconds=1))  # notices are paced
    harness.run()
    assert _rca_notices(harness, ACME_ROOM) == [RCA_EN]
    assert _rca_notices(harness, DELTA_ROOM) == [RCA_NL]
    assert _rca_notices(harness, POLDER_ROOM) == []
    with db.scope() as s:
        closure = s.scalars(select(Disruption)).one().closure
        assert closure["rca_delivered"]["by"] == FATIMA_EMAIL
        assert (
            s.scalar(
                select(func.count()).select_from(Timer).where(Timer.kind == "disruption.rca", Timer.status == "pending")
            )
            == 0
        )
    # Delivered once: a second delivery is refused and sends nothing.
    sent = _count(db, OutboxMessage)
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/disruption rca DIS-1001 again") == (
        "The root cause analysis of **DIS-1001** was already delivered on Thu 3 Dec 2026 14:00."
    )
    assert _count(db, OutboxMessage) == sent + 1
    # The target day and the deadline pass without a reminder.
    _at(harness, local(2026, 12, 7, 18, 0))
    _at(harness, local(2026, 12, 21, 18, 0))
    assert len(_staff_rca(harness)) == 1


def test_until_it_is_delivered_the_staff_are_reminded_on_the_target_day_and_at_the_deadline(harness):
    _p1_disruption_closed(harness)
    _at(harness, local(2026, 12, 7, 17, 59))
    assert len(_staff_rca(harness)) == 1
    _at(harness, local(2026, 12, 7, 18, 0))
    assert _staff_rca(harness)[1:] == ["DIS-1001: today is the target day of the RCA."]
    _at(harness, local(2026, 12, 21, 18, 0))
    assert _staff_rca(harness)[2:] == ["DIS-1001: the RCA deadline is today."]
    # Late, it is still delivered.
    harness.clock.set(local(2026, 12, 22, 9, 0))
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, f"/disruption rca dis-1001 {RCA_TEXT}") == (
        "Root cause analysis of **DIS-1001** delivered to 2 spaces that received its notices."
    )


def test_the_close_form_says_an_rca_follows_only_for_a_p1(harness):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, OPEN.format(severity="P1"))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, OPEN.format(severity="P2"))
    for number, says in (("DIS-1001", True), ("DIS-1002", False)):
        _do(harness, SANNE_EMAIL, STAFF_ROOM, f"/disruption close {number}")
        body = harness.bot_messages(STAFF_ROOM)[-1]["attachments"][0]["content"]["body"]
        assert [b["id"] for b in body if b["type"].startswith("Input.")] == ["summary", "cause"]
        assert (body[-1].get("text") == "A root cause analysis follows") == says


def test_the_rca_option_is_refused_for_a_disruption_below_p1_and_nothing_changes(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, OPEN.format(severity="P2"))
    sent = _count(db, OutboxMessage)
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, CLOSE + " rca=true") == (
        "Only a P1-level disruption has a root cause analysis; DIS-1001 is P2. Close it without rca=true."
    )
    with db.scope() as s:
        assert (s.scalars(select(Disruption)).one().status, s.scalars(select(Disruption)).one().closure) == (
            "open",
            None,
        )
    assert _count(db, OutboxMessage) == sent + 1  # the refusal only
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/language nl")
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, CLOSE + " rca=true") == (
        "Alleen een storing op P1-niveau krijgt een root cause analysis; DIS-1001 is P2. Sluit de storing zonder rca=true."
    )
    # Closed without it: no RCA to plan, none to deliver.
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/language en")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, CLOSE)
    assert _staff_rca(harness) == []
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, f"/disruption rca DIS-1001 {RCA_TEXT}") == (
        "Only a P1-level disruption has a root cause analysis; DIS-1001 is P2."
    )
    assert _rca_notices(harness, ACME_ROOM) == []


@pytest.mark.parametrize(
    ("who", "room", "text", "refusal"),
    [
        (
            SANNE_EMAIL,
            STAFF_ROOM,
            f"/disruption rca DIS-1001 {RCA_TEXT}",
            "**DIS-1001** is still open: its root cause analysis follows its closure (`/disruption close DIS-1001`).",
        ),
        (
            SANNE_EMAIL,
            STAFF_ROOM,
            "/disruption rca DIS-1001",
            "Give the disruption and the RCA (a link or the text).\n\nUsage: `/disruption rca <DIS-number> <link or text>`",
        ),
        (
            SANNE_EMAIL,
            STAFF_ROOM,
            "/disruption rca",
            "Give the disruption and the RCA (a link or the text).\n\nUsage: `/disruption rca <DIS-number> <link or text>`",
        ),
        (SANNE_EMAIL, STAFF_ROOM, f"/disruption rca DIS-9 {RCA_TEXT}", "There is no disruption **DIS-9**."),
        (
            SANNE_EMAIL,
            STAFF_ROOM,
            "/disruption rca DIS-1001 " + "x" * 4001,
            "The root cause analysis can be at most 4000 characters; this one has 4001.",
        ),
        (
            ERIK_EMAIL,
            STAFF_ROOM,
            f"/disruption rca DIS-1001 {RCA_TEXT}",
            "Only someone with the **agent or problem-manager** role can use `/disruption rca`.",
        ),
        (
            ANNA_EMAIL,
            ACME_ROOM,
            f"/disruption rca DIS-1001 {RCA_TEXT}",
            "`/disruption rca` works only in: the staff space.",
        ),
    ],
)
def test_bad_rca_deliveries_are_refused_and_send_nothing(harness, db, who, room, text, refusal):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, OPEN.format(severity="P1"))
    if "still open" not in refusal:
        _do(harness, SANNE_EMAIL, STAFF_ROOM, CLOSE)
    harness.clock.advance(timedelta(seconds=2))  # the paced notices have gone out before the refusal
    harness.run()
    sent = _count(db, OutboxMessage)
    assert _do(harness, who, room, text) == refusal
    assert _count(db, OutboxMessage) == sent + 1
    with db.scope() as s:
        assert "rca_delivered" not in (s.scalars(select(Disruption)).one().closure or {})
