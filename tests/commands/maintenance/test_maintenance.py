"""Maintenance: the notice rule, the life cycle on timers, audiences from subscriptions, intake during work."""

from dataclasses import replace

import pytest
from sqlalchemy import select

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BRAM_EMAIL, POLDER_ROOM, SANNE_EMAIL, STAFF_ROOM
from storage.models.operations import Maintenance
from storage.models.runtime import Timer
from storage.models.tickets import Ticket
from tests.harness import answer as _do
from tests.harness import local
from tests.harness import tick as _at


def _notices(harness, room):
    return [m["markdown"] for m in harness.bot_messages(room) if "aintenance MNT-" in m["markdown"]]


def _announce(harness, services="M2M", start="2026-12-08 01:00", end="2026-12-08 05:00", extra=""):
    return _do(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        f'/maintenance announce services={services} start="{start}" end="{end}" impact="Short interruptions" {extra}',
    )


@pytest.mark.parametrize(("start", "accepted"), [("2026-05-05 10:00", True), ("2026-05-05 09:59", False)])
def test_ten_business_days_notice_across_kings_day_and_a_weekend(harness, start, accepted):
    harness.clock.set(local(2026, 4, 20, 10, 0))  # Monday; 27 April (King's Day) and two weekends in the span
    reply = _announce(harness, start=start, end="2026-05-05 12:00")
    if accepted:
        assert reply == "**MNT-1001** announced to 2 spaces."
    else:
        assert reply == (
            "Planned maintenance needs 10 business days' notice: it can start at Tue 5 May 2026 10:00 at the earliest. "
            "Mark it ad-hoc with a reason if it cannot wait."
        )


def test_the_whole_life_cycle_at_exact_instants(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/subscribe LoRa")
    assert _announce(harness) == "**MNT-1001** announced to 1 spaces."
    assert _notices(harness, ACME_ROOM) == [
        "🛠 **Maintenance MNT-1001** on M2M: from Tue 8 Dec 2026 01:00 to Tue 8 Dec 2026 05:00 (Amsterdam time).\n"
        "Expected impact: Short interruptions"
    ]
    assert _notices(harness, POLDER_ROOM) == []  # subscribed to LoRa only
    # Reminder one business day before a night start: at the opening of Monday 7 December.
    _at(harness, local(2026, 12, 7, 7, 59))
    assert len(_notices(harness, ACME_ROOM)) == 1
    _at(harness, local(2026, 12, 7, 8, 0))
    assert _notices(harness, ACME_ROOM)[-1].startswith(
        "🛠 Reminder — **maintenance MNT-1001** on M2M starts Tue 8 Dec 2026 01:00"
    )
    _at(harness, local(2026, 12, 8, 1, 0))
    assert (
        _notices(harness, ACME_ROOM)[-1]
        == "🛠 **Maintenance MNT-1001** on M2M has started; planned end Tue 8 Dec 2026 05:00."
    )
    _at(harness, local(2026, 12, 8, 5, 0))
    assert _notices(harness, ACME_ROOM)[-1] == "✅ **Maintenance MNT-1001** on M2M is completed."
    assert len(_notices(harness, ACME_ROOM)) == 4
    view = _do(harness, ANNA_EMAIL, ACME_ROOM, "/maintenance MNT-1001").splitlines()
    assert view[0] == "**MNT-1001** (completed) on M2M: from Tue 8 Dec 2026 01:00 to Tue 8 Dec 2026 05:00."
    assert [line.split(": ")[-1] for line in view[1:]] == ["announced", "reminder", "started", "completed"]


def test_reschedule_moves_the_reminder_and_the_old_one_never_fires(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _announce(harness)
    assert _do(
        harness, SANNE_EMAIL, STAFF_ROOM, '/maintenance reschedule MNT-1001 "2026-12-15 14:00" "2026-12-15 16:00"'
    ) == ("**MNT-1001** rescheduled; 2 spaces told.")
    assert _notices(harness, ACME_ROOM)[-1].startswith(
        "🛠 **Maintenance MNT-1001** on M2M is rescheduled: now from Tue 15 Dec 2026 14:00 to Tue 15 Dec 2026 16:00."
    )
    _at(harness, local(2026, 12, 8, 9, 0))  # the old reminder, start and end have passed
    assert len(_notices(harness, ACME_ROOM)) == 2
    _at(harness, local(2026, 12, 14, 14, 0))  # the new reminder: same time, one business day before
    assert _notices(harness, ACME_ROOM)[-1].startswith("🛠 Reminder — **maintenance MNT-1001**")
    assert len(_notices(harness, ACME_ROOM)) == 3


def test_cancellation_stops_every_pending_notice(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _announce(harness)
    assert (
        _do(harness, SANNE_EMAIL, STAFF_ROOM, "/maintenance cancel MNT-1001 supplier postponed")
        == "**MNT-1001** cancelled; 2 spaces told."
    )
    assert _notices(harness, POLDER_ROOM)[-1] == (
        "**Maintenance MNT-1001** on M2M (Tue 8 Dec 2026 01:00) is cancelled: supplier postponed"
    )
    _at(harness, local(2026, 12, 9, 0, 0))
    assert len(_notices(harness, POLDER_ROOM)) == 2
    with db.scope() as s:
        assert s.scalars(select(Timer).where(Timer.kind == "maintenance.notice", Timer.status == "pending")).all() == []


def test_scope_change_tells_each_audience_its_own_news(harness):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe M2M")
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/subscribe LoRa")
    _announce(harness, services="M2M")
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/maintenance scope MNT-1001 M2M LoRa") == (
        "**MNT-1001** changed: 1 spaces newly told, 0 told it no longer concerns them, 1 told of the change."
    )
    assert _notices(harness, POLDER_ROOM)[-1].startswith("🛠 **Maintenance MNT-1001** on M2M, LoRa: from")
    assert _notices(harness, ACME_ROOM)[-1].startswith(
        "🛠 **Maintenance MNT-1001** has changed: it now concerns M2M, LoRa"
    )
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/maintenance scope MNT-1001 LoRa")
    assert _notices(harness, ACME_ROOM)[-1] == (
        "**Maintenance MNT-1001** no longer concerns your services; you can ignore the announcement."
    )
    _at(harness, local(2026, 12, 7, 8, 0))
    assert _notices(harness, ACME_ROOM)[-1].startswith(
        "**Maintenance MNT-1001** no longer concerns"
    )  # no reminder for Acme
    assert _notices(harness, POLDER_ROOM)[-1].startswith("🛠 Reminder")


def test_unsubscribing_before_the_reminder_means_no_reminder(harness):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe M2M")
    _announce(harness)
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe LoRa")
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/unsubscribe M2M")
    _at(harness, local(2026, 12, 7, 8, 0))
    assert [n for n in _notices(harness, ACME_ROOM) if "Reminder" in n] == []


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        ('start="2026-12-08 05:00" end="2026-12-08 01:00"', "The end must come after the start."),
        ('start="2026-11-20 05:00" end="2026-11-20 06:00"', "The start (Fri 20 Nov 2026 05:00) is in the past."),
        (
            'start="2026-12-01 05:00" end="2026-12-01 06:00"',
            "Planned maintenance needs 10 business days' notice: it can start at "
            "Mon 7 Dec 2026 10:00 at the earliest. Mark it ad-hoc with a reason if it cannot wait.",
        ),
        ('start="2026-12-01 05:00" end="2026-12-01 06:00" adhoc=true', "Ad-hoc maintenance needs a reason."),
        (
            'start="someday" end="2026-12-01 06:00"',
            "**Start**: give a date and time from 2000-01-01 00:00 to 2099-12-31 23:59 "
            "(Amsterdam time), such as 2026-01-09 17:00; **someday** is not one.",
        ),
        # Far beyond any calendar: once a failed handler and an apology.
        (
            'start="9999-12-31 23:00" end="9999-12-31 23:30"',
            r"**Start**: give a date and time from 2000-01-01 00:00 to 2099-12-31 23:59 "
            r"(Amsterdam time), such as 2026-01-09 17:00; **9999\-12\-31 23:00** is not one.",
        ),
        (
            'start="2027-03-28 02:30" end="2027-03-28 06:00"',
            r"**2027\-03\-28 02:30** does not exist in Amsterdam: the clocks jump from 02:00 to 03:00 that night.",
        ),
    ],
)
def test_bad_announcements_change_nothing(harness, db, args, answer):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    reply = _do(harness, SANNE_EMAIL, STAFF_ROOM, f'/maintenance announce services=M2M {args} impact="x"')
    assert reply == answer
    with db.scope() as s:
        assert s.scalars(select(Maintenance)).all() == []


def test_unknown_service_is_refused(harness):
    assert (
        _announce(harness, services="Fax")
        == "**Fax** is not a service; the services are: M2M, Things, LoRa, DSH, Other."
    )
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe Fax").startswith("**Fax** is not a service")


def test_ad_hoc_is_announced_at_once(harness):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    assert (
        _announce(harness, start="2026-11-23 22:00", end="2026-11-23 23:00", extra='adhoc=true reason="security patch"')
        == "**MNT-1001** announced to 2 spaces."
    )
    assert _notices(harness, ACME_ROOM)[0].endswith("Ad-hoc: security patch")


def test_an_incident_during_maintenance_gets_the_notice_and_can_be_reported_anyway(harness, db):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _announce(harness, start="2026-11-23 12:00", end="2026-11-23 14:00", extra='adhoc=true reason="urgent fix"')
    _at(harness, local(2026, 11, 23, 12, 30))
    reply = _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    assert reply.startswith("🛠 **Maintenance MNT-1001** on M2M is going on until Mon 23 Nov 2026 14:00.")
    with db.scope() as s:
        assert s.scalars(select(Ticket)).all() == []
    notice = harness.bot_messages(ACME_ROOM)[-1]
    button = notice["attachments"][0]["content"]["actions"][0]
    assert button["title"] == "Report it anyway"
    harness.press(ANNA_EMAIL, notice, button["data"])
    harness.run()
    with db.scope() as s:
        ticket = s.scalars(select(Ticket)).one()
    assert (ticket.number, ticket.details["maintenance"]) == ("INC-1001", "MNT-1001")
    # Another service is not affected.
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=LoRa Gateway down")
    with db.scope() as s:
        assert len(s.scalars(select(Ticket)).all()) == 2


def test_customers_see_the_maintenance_of_their_services(harness):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/subscribe LoRa")
    _announce(harness)
    assert (
        _do(harness, BRAM_EMAIL, POLDER_ROOM, "/maintenance")
        == "No maintenance is planned or going on for your services."
    )
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/maintenance").splitlines() == [
        "**Maintenance** (Amsterdam time):",
        "- **MNT-1001** M2M: Tue 8 Dec 2026 01:00 → Tue 8 Dec 2026 05:00 (announced)",
    ]
    assert _do(harness, BRAM_EMAIL, POLDER_ROOM, "/maintenance MNT-1001") == "There is no maintenance **MNT-1001**."


def test_spaces_without_subscriptions_get_nothing_when_configured_so(harness, tmp_path):
    from rules import desk

    text = desk.DEFAULT_FILE.read_text().replace('unsubscribed = "all"', 'unsubscribed = "none"')
    path = tmp_path / "desk.toml"
    path.write_text(text)
    harness.runtime.rules = replace(harness.runtime.rules, desk=desk.load(path))
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/subscribe M2M")
    assert _announce(harness) == "**MNT-1001** announced to 1 spaces."
    assert _notices(harness, ACME_ROOM) == []
