"""SLA clocks in chat on durable timers: warnings, pauses, 2-2-2, reopen window, aftercare, countdown edits."""

import threading

import pytest
from sqlalchemy import select

from bot.clock import AMSTERDAM
from bot.scheduler import Scheduler
from commands.clocks import flows as clocks
from sandbox.demo import ACME_ROOM, ANNA_EMAIL, ERIK_EMAIL, FATIMA_EMAIL, SANNE_EMAIL, STAFF_ROOM
from storage import directory
from storage.models.runtime import OutboxMessage, Timer
from storage.models.tickets import Ticket, TicketPause
from tests.harness import answer as _do
from tests.harness import local
from tests.harness import tick as _at
from tests.shipped import get_calendar


def _ticket(db, number="INC-1001"):
    with db.scope() as s:
        return s.scalars(select(Ticket).where(Ticket.number == number)).one()


def _warnings(harness):
    """The staff's SLA warnings, without the line that mentions who must act."""
    return [
        m["markdown"].split("\n")[0] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith(("⚠", "🚨"))
    ]


def _p2_friday(harness):
    harness.clock.set(local(2026, 1, 9, 17, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P2 two sites")


def _thread(harness):
    return [m["markdown"] for m in harness.bot_messages(ACME_ROOM) if m.get("parentId")]


def test_p2_opened_friday_evening_warns_and_breaches_at_the_right_instants(harness, db):
    _p2_friday(harness)
    # First response: 75% Monday 08:30, 90% 08:48, breach 09:00 (nobody responded).
    steps = [
        (local(2026, 1, 12, 8, 29), []),
        (local(2026, 1, 12, 8, 30), ["⚠ INC-1001: First response at 75% — due Mon 12 Jan 2026 09:00, 0:30 left."]),
        (local(2026, 1, 12, 8, 48), ["⚠ INC-1001: First response at 90% — due Mon 12 Jan 2026 09:00, 0:12 left."]),
        (local(2026, 1, 12, 9, 0), ["🚨 INC-1001: First response breached — it was due Mon 12 Jan 2026 09:00."]),
        (local(2026, 1, 13, 8, 59), []),
        (local(2026, 1, 13, 9, 0), ["⚠ INC-1001: Resolution at 75% — due Tue 13 Jan 2026 13:00, 4:00 left."]),
        (local(2026, 1, 13, 11, 23), []),
        (local(2026, 1, 13, 11, 24), ["⚠ INC-1001: Resolution at 90% — due Tue 13 Jan 2026 13:00, 1:36 left."]),
        (local(2026, 1, 13, 13, 0), ["🚨 INC-1001: Resolution breached — it was due Tue 13 Jan 2026 13:00."]),
        (local(2026, 1, 20, 12, 0), []),
    ]
    seen = 0
    for instant, expected in steps:
        _at(harness, instant)
        got = _warnings(harness)
        assert got[seen:] == expected, instant
        seen = len(got)
    # Every warning came inside office hours, each with a button to take the ticket.
    office = get_calendar("iot-office")
    with db.scope() as s:
        fired = s.scalars(select(Timer).where(Timer.kind == "sla.point", Timer.status == "done")).all()
    assert fired and all(
        office.is_business_time(t.fired_at) or t.fired_at.astimezone(AMSTERDAM).hour == 18 for t in fired
    )
    warning = [m for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("🚨")][-1]
    assert warning["attachments"][0]["content"]["actions"][0]["data"] == {"action": "ticket.take", "ticket": "INC-1001"}


def test_waiting_after_a_breach_records_the_pause_without_showing_a_paused_clock(harness, db):
    harness.clock.set(local(2026, 1, 12, 9, 0))  # Monday
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P2 two sites")
    # P2 resolution: 16 office hours → Tuesday 15:00.
    harness.clock.set(local(2026, 1, 14, 10, 0))  # Wednesday: waiting for the customer
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN?")
    countdown = [m for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("⏱")][-1]["markdown"]
    assert "paused — waiting for you" not in countdown  # resolution already breached on Tuesday: not paused
    harness.clock.set(local(2026, 1, 15, 11, 30))  # Thursday: the answer
    root = [m for m in harness.bot_messages(ACME_ROOM) if not m.get("parentId")][-1]
    _do(harness, ANNA_EMAIL, ACME_ROOM, "internet.m2m", parent_id=root["id"])
    with db.scope() as s:
        ticket = s.scalars(select(Ticket)).one()
        pauses = [(p.started_at, p.ended_at) for p in s.scalars(select(TicketPause))]
    assert pauses == [(local(2026, 1, 14, 10, 0), local(2026, 1, 15, 11, 30))]
    assert ticket.status == "in_progress"


def test_pause_on_wednesday_resume_on_thursday_moves_a_running_deadline(harness, db):
    harness.clock.set(local(2026, 1, 12, 9, 0))  # Monday; P3: 5 business days → Monday 19 January 09:00
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.clock.set(local(2026, 1, 14, 14, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN?")
    countdown = [m for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("⏱")][-1]["markdown"]
    assert "- Resolution due " in countdown and "paused — waiting for you" in countdown
    harness.clock.set(local(2026, 1, 15, 10, 0))
    root = [m for m in harness.bot_messages(ACME_ROOM) if not m.get("parentId")][-1]
    _do(harness, ANNA_EMAIL, ACME_ROOM, "internet.m2m", parent_id=root["id"])
    # Paused Wednesday 14:00–18:00 and Thursday 08:00–10:00: six office hours later than Monday 09:00.
    countdown = [m for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("⏱")][-1]["markdown"]
    assert "- Resolution due Mon 19 Jan 2026 15:00 — " in countdown


def _resolve(harness, at):
    harness.clock.set(at)
    form_reply = _do(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve INC-1001")
    assert form_reply == "Resolve **INC-1001**:"
    form = harness.bot_messages(STAFF_ROOM)[-1]
    harness.press(
        SANNE_EMAIL, form, {"action": "ticket.resolve", "ticket": "INC-1001", "cause": "APN", "resolution": "Fixed"}
    )
    harness.run()


def test_two_two_two_across_a_weekend_and_a_holiday(harness, db):
    harness.clock.set(local(2026, 12, 21, 9, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _resolve(harness, local(2026, 12, 23, 15, 0))  # Wednesday before Christmas
    assert (
        _thread(harness)[-1]
        == "Is **INC-1001** solved for you? `/confirm INC-1001`, or `/reopen INC-1001 <reason>` if not."
    )
    # Two business days: 24 Dec (1), 25/26 closed, weekend, 28 Dec (2) → reminder Monday 28 Dec 15:00.
    _at(harness, local(2026, 12, 28, 14, 59))
    assert not _thread(harness)[-1].startswith("Reminder")
    _at(harness, local(2026, 12, 28, 15, 0))
    assert _thread(harness)[-1].startswith("Reminder: is **INC-1001** solved for you?")
    _at(harness, local(2026, 12, 30, 15, 0))  # 29 (1), 30 (2)
    assert _thread(harness)[-1].startswith("Second reminder: without an answer **INC-1001** will be closed")
    _at(harness, local(2027, 1, 4, 14, 59))  # 31 Dec (1), 1 Jan closed, weekend, 4 Jan (2) 15:00
    assert _ticket(db).status == "resolved"
    _at(harness, local(2027, 1, 4, 15, 0))
    assert _thread(harness)[-1].startswith("**INC-1001** is closed: we did not hear back.")
    ticket = _ticket(db)
    assert (ticket.status, ticket.closed_at, ticket.resolved_at) == (
        "closed",
        local(2027, 1, 4, 15, 0),
        local(2026, 12, 23, 15, 0),
    )


def test_confirming_after_the_first_reminder_stops_the_flow(harness, db):
    harness.clock.set(local(2026, 11, 23, 9, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _resolve(harness, local(2026, 11, 23, 11, 0))
    _at(harness, local(2026, 11, 25, 11, 0))
    assert _thread(harness)[-1].startswith("Reminder")
    card = [m for m in harness.bot_messages(ACME_ROOM) if m.get("attachments")][-1]
    harness.press(ANNA_EMAIL, card, {"action": "ticket.solved", "ticket": "INC-1001"})
    harness.run()
    assert _ticket(db).status == "closed"
    before = list(_thread(harness))
    _at(harness, local(2026, 12, 31, 12, 0))
    assert [
        t
        for t in _thread(harness)
        if t.startswith(("Reminder", "Second reminder", "**INC-1001** is closed: we did not"))
    ] == [t for t in before if t.startswith(("Reminder", "Second reminder", "**INC-1001** is closed: we did not"))]


def test_not_solved_reopens_and_counts_the_time_resolved(harness, db):
    harness.clock.set(local(2026, 11, 23, 9, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _resolve(harness, local(2026, 11, 23, 11, 0))
    harness.clock.set(local(2026, 11, 24, 9, 0))
    card = [m for m in harness.bot_messages(ACME_ROOM) if m.get("attachments")][-1]
    harness.press(ANNA_EMAIL, card, {"action": "ticket.not_solved", "ticket": "INC-1001", "reason": "still offline"})
    harness.run()
    ticket = _ticket(db)
    assert (ticket.status, ticket.resolved_at) == ("in_progress", None)
    countdown = [m for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("⏱")][-1]["markdown"]
    # P3 resolution: 5 business days from Monday 09:00; used from 09:00 Monday to 09:00 Tuesday = 10 office hours.
    assert "- Resolution due Mon 30 Nov 2026 09:00 — 40:00 office hours left" in countdown
    with db.scope() as s:
        assert s.scalars(select(Timer).where(Timer.kind == "ticket.222", Timer.status == "pending")).all() == []


@pytest.mark.parametrize(("day", "reopens"), [(local(2026, 11, 30, 10, 59), True), (local(2026, 11, 30, 11, 0), False)])
def test_reopen_window_is_five_business_days(harness, db, day, reopens):
    harness.clock.set(local(2026, 11, 23, 9, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _resolve(harness, local(2026, 11, 23, 10, 0))
    harness.clock.set(local(2026, 11, 23, 11, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/confirm INC-1001")
    harness.clock.set(day)
    reply = _do(harness, ANNA_EMAIL, ACME_ROOM, "/reopen INC-1001 broken again")
    if reopens:
        assert reply == "**INC-1001** is open again; the service desk has been told."
        assert _ticket(db).status == "in_progress"
    else:
        assert reply == (
            "**INC-1001** was closed more than 5 business days ago, so it cannot be reopened. "
            "Open a new ticket about it with this form."
        )
        form = harness.bot_messages(ACME_ROOM)[-1]["attachments"][0]["content"]
        values = {f["id"]: f.get("value") for f in form["body"] if "id" in f}
        assert (values["title"], values["reference"], values["description"]) == (
            "Follow-up of INC-1001",
            "INC-1001",
            "broken again",
        )
        assert _ticket(db).status == "closed"


def test_a_priority_change_cancels_the_stale_warnings(harness, db):
    harness.clock.set(local(2026, 1, 12, 9, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/take INC-1001")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P2 two sites")  # resolution Tuesday 15:00
    harness.clock.set(local(2026, 1, 12, 10, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P3 one site after all")  # back to Monday 19th 09:00
    _at(harness, local(2026, 1, 13, 15, 0))  # P2's old 75%, 90% and breach instants have passed
    assert _warnings(harness) == []
    with db.scope() as s:
        cancelled = s.scalars(select(Timer).where(Timer.kind == "sla.point", Timer.status == "cancelled")).all()
        pending = s.scalars(select(Timer).where(Timer.kind == "sla.point", Timer.status == "pending")).all()
    assert {t.payload["fraction"] for t in cancelled if t.due_at == local(2026, 1, 13, 15, 0)} == {
        1.0
    }  # P2's breach, cancelled
    # What is left is P3's: 75% of 50 office hours from Monday 09:00 (9 + 10 + 10 + 8.5 h) is Thursday 16:30.
    assert local(2026, 1, 15, 16, 30) in {t.due_at for t in pending}


def test_a_restart_between_scheduling_and_firing_loses_nothing_and_fires_once(harness, db, clock):
    _p2_friday(harness)
    # The process stops; another one (new scheduler, new worker id) takes over on Monday.
    clock.set(local(2026, 1, 12, 9, 0))
    other = Scheduler(db, clock, worker_id="restarted", runtime=harness.runtime)
    assert other.run_due() >= 3
    harness.run()
    assert other.run_due() == 0
    assert harness.scheduler.run_due() == 0
    harness.run()
    # The 75%, 90% and breach timers all ran, once; the furthest point is the one posted.
    with db.scope() as s:
        fired = s.scalars(select(Timer).where(Timer.kind == "sla.point", Timer.status == "done")).all()
    assert sorted(t.payload["fraction"] for t in fired if t.payload["target"] == "first_response") == [
        0.5,
        0.75,
        0.9,
        1.0,
    ]
    assert [w for w in _warnings(harness) if "First response" in w] == [
        "🚨 INC-1001: First response breached — it was due Mon 12 Jan 2026 09:00."
    ]


def test_a_timer_handler_that_crashes_runs_again_and_warns_once(harness, db, clock, monkeypatch):
    _p2_friday(harness)
    calls = {"n": 0}
    real = clocks._warn_staff

    def flaky(*args, **kwargs):
        calls["n"] += 1
        real(*args, **kwargs)
        if calls["n"] == 1:
            raise RuntimeError("process dies before the commit")

    monkeypatch.setattr(clocks, "_warn_staff", flaky)
    _at(harness, local(2026, 1, 12, 8, 30))
    assert _warnings(harness) == []  # the failed attempt's message was rolled back with it
    _at(harness, local(2026, 1, 12, 8, 31))  # retried 30 s later
    assert _warnings(harness) == ["⚠ INC-1001: First response at 75% — due Mon 12 Jan 2026 09:00, 0:29 left."]


def test_the_countdown_is_never_edited_more_than_ten_times(harness, db):
    harness.clock.set(local(2026, 1, 12, 9, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    root = [m for m in harness.bot_messages(ACME_ROOM) if not m.get("parentId")][-1]
    for i in range(14):
        harness.clock.set(local(2026, 1, 12, 9, 5 + i))
        _do(harness, ANNA_EMAIL, ACME_ROOM, f"update {i}", parent_id=root["id"])
    countdowns = [m for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("⏱")]
    assert len(countdowns) >= 2
    with db.scope() as s:
        edits = {}
        for row in s.scalars(select(OutboxMessage).where(OutboxMessage.action == "update")):
            edits[row.target_outbox_id] = edits.get(row.target_outbox_id, 0) + 1
    assert edits and max(edits.values()) <= 10
    # Webex's own count agrees: no message was edited more than ten times.
    assert all(harness.state.messages[m["id"]].get("edits", 0) <= 10 for m in countdowns)


def test_p1_aftercare_reminds_problem_managers_and_delivers_to_the_customer(harness, db):
    harness.clock.set(local(2026, 12, 24, 9, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 phone=+31612345678 Everything down")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P1 national outage")
    _resolve(harness, local(2026, 12, 24, 15, 0))
    harness.clock.set(local(2026, 12, 24, 20, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/confirm INC-1001")
    # RFO due Wednesday 30 December 18:00: reminded Tuesday 29 December 18:00.
    _at(harness, local(2026, 12, 29, 17, 59))
    assert not any("Problem managers" in m["markdown"] for m in harness.bot_messages(STAFF_ROOM))
    _at(harness, local(2026, 12, 29, 18, 0))
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"] == (
        "Problem managers: the Reason For Outage of INC-1001 is due tomorrow (Wed 30 Dec 2026 18:00)."
    )
    harness.clock.set(local(2026, 12, 30, 10, 0))
    assert _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/rfo INC-1001 https://docs.example.net/rfo-1001") == (
        "Reason For Outage of **INC-1001** delivered to the customer."
    )
    assert r"**INC-1001** — Reason For Outage: https://docs\.example\.net/rfo\-1001" in _thread(harness)
    _at(harness, local(2026, 12, 30, 18, 0))  # no breach reminder for a delivered RFO
    assert not any("overdue" in m["markdown"] for m in harness.bot_messages(STAFF_ROOM))
    view = _do(harness, ANNA_EMAIL, ACME_ROOM, "/ticket INC-1001")
    assert "- Reason For Outage: Wed 30 Dec 2026 18:00 — met" in view
    assert "- Root Cause Analysis (deadline): Mon 25 Jan 2027 18:00 — running" in view
    assert (
        _do(harness, ANNA_EMAIL, ACME_ROOM, "/rfo INC-1001 x")
        == "Only someone with the **agent or problem-manager** role can use `/rfo`."
    )


# -- waiting for the customer ----------------------------------------------------------------------------------


def _waiting_reminders(harness):
    return [m for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("⏳")]


def _person_id(harness, email):
    return harness.state.person_by_email(email)["id"]


def test_a_wait_from_friday_afternoon_is_reminded_on_tuesday_then_every_two_business_days(harness, db):
    harness.clock.set(local(2026, 1, 9, 15, 0))  # Friday
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.clock.set(local(2026, 1, 9, 16, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN?")
    _at(harness, local(2026, 1, 13, 15, 59))
    assert _waiting_reminders(harness) == []
    _at(harness, local(2026, 1, 13, 16, 0))  # Monday (1), Tuesday (2)
    [first] = _waiting_reminders(harness)
    assert first["markdown"] == (
        "⏳ INC-1001 has waited for the customer since Fri 9 Jan 2026 16:00 (2 business days). "
        "Ask again, or resolve it if the answer is no longer needed.\n"
        "Action: <@personEmail:sanne@iot-desk.example>"
    )
    assert first["mentionedPeople"] == [_person_id(harness, SANNE_EMAIL)]  # who asked: nobody has taken the ticket
    # Erik takes the ticket: from now on the reminder is his.
    with db.scope() as s:
        directory.grant_role(s, email=ERIK_EMAIL, role="agent", actor="test", room_id=None, now=harness.clock.now())
    _do(harness, ERIK_EMAIL, STAFF_ROOM, "/take INC-1001")
    _at(harness, local(2026, 1, 15, 15, 59))
    assert len(_waiting_reminders(harness)) == 1
    _at(harness, local(2026, 1, 15, 16, 0))
    second = _waiting_reminders(harness)[-1]
    assert second["markdown"].startswith(
        "⏳ INC-1001 has waited for the customer since Fri 9 Jan 2026 16:00 (4 business days)."
    )
    assert second["mentionedPeople"] == [_person_id(harness, ERIK_EMAIL)]
    _at(harness, local(2026, 1, 19, 16, 0))
    assert len(_waiting_reminders(harness)) == 3


def test_a_wait_over_christmas_is_reminded_after_two_business_days(harness, db):
    harness.clock.set(local(2026, 12, 21, 9, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.clock.set(local(2026, 12, 23, 15, 0))  # Wednesday before Christmas
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN?")
    # 24 Dec (1), 25 and 26 Dec closed, the weekend, 28 Dec (2).
    _at(harness, local(2026, 12, 28, 14, 59))
    assert _waiting_reminders(harness) == []
    _at(harness, local(2026, 12, 28, 15, 0))
    assert len(_waiting_reminders(harness)) == 1
    _at(harness, local(2026, 12, 30, 15, 0))  # 29 (1), 30 (2)
    assert [m["markdown"].split(" (")[1].split(")")[0] for m in _waiting_reminders(harness)] == [
        "2 business days",
        "4 business days",
    ]


def test_an_answer_or_a_resolution_before_the_reminder_cancels_it(harness, db):
    harness.clock.set(local(2026, 1, 9, 16, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN?")
    harness.clock.set(local(2026, 1, 12, 10, 0))  # Monday: the answer, on the question's card
    question = [m for m in harness.bot_messages(ACME_ROOM) if m.get("attachments")][-1]
    harness.press(
        ANNA_EMAIL, question, {**question["attachments"][0]["content"]["actions"][0]["data"], "answer": "internet.m2m"}
    )
    harness.run()
    # Asked again, then resolved before the second wait is two business days old.
    harness.clock.set(local(2026, 1, 12, 11, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 And the other sites?")
    _resolve(harness, local(2026, 1, 13, 9, 0))
    _at(harness, local(2026, 1, 20, 12, 0))
    assert _waiting_reminders(harness) == []
    with db.scope() as s:
        waits = s.scalars(select(Timer).where(Timer.kind == "ticket.waiting").order_by(Timer.id)).all()
    assert [(t.due_at, t.status) for t in waits] == [
        (local(2026, 1, 13, 16, 0), "cancelled"),
        (local(2026, 1, 14, 11, 0), "cancelled"),
    ]


def test_a_second_question_during_a_wait_keeps_its_reminder(harness, db):
    harness.clock.set(local(2026, 1, 9, 16, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN?")
    harness.clock.set(local(2026, 1, 12, 9, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 And which SIMs?")
    _at(harness, local(2026, 1, 13, 16, 0))
    assert _waiting_reminders(harness)[-1]["markdown"].startswith(
        "⏳ INC-1001 has waited for the customer since Fri 9 Jan 2026 16:00"
    )
    with db.scope() as s:
        assert (
            len(s.scalars(select(Timer).where(Timer.kind == "ticket.waiting")).all()) == 2
        )  # the one fired, and the next


# -- several warning points passed at once: only the furthest is posted ------------------------------------


def test_a_reopening_past_every_warning_point_posts_the_breach_alone(harness, db):
    harness.clock.set(local(2026, 11, 23, 9, 0))  # Monday; P3 resolution due Monday 30 November 09:00
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/take INC-1001")
    _resolve(harness, local(2026, 11, 23, 10, 0))
    harness.clock.set(local(2026, 11, 23, 11, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/confirm INC-1001")
    # Reopened a week later, within the 5 business days: the time since the opening counts.
    harness.clock.set(local(2026, 11, 30, 10, 59))
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/reopen INC-1001 broken again") == (
        "**INC-1001** is open again; the service desk has been told."
    )
    _at(harness, local(2026, 11, 30, 10, 59))
    assert _warnings(harness) == ["🚨 INC-1001: Resolution breached — it was due Mon 30 Nov 2026 09:00."]
    # Later changes do not bring the passed 75% and 90% back.
    harness.clock.set(local(2026, 11, 30, 11, 30))
    root = [m for m in harness.bot_messages(ACME_ROOM) if not m.get("parentId")][-1]
    _do(harness, ANNA_EMAIL, ACME_ROOM, "still down at two sites", parent_id=root["id"])
    _at(harness, local(2026, 12, 2, 12, 0))
    assert _warnings(harness) == ["🚨 INC-1001: Resolution breached — it was due Mon 30 Nov 2026 09:00."]


def test_a_priority_change_past_two_points_posts_the_furthest_and_the_breach_on_time(harness, db):
    harness.clock.set(local(2026, 1, 12, 9, 0))  # Monday
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/take INC-1001")
    # Tuesday 14:00 it becomes a P2: 16 office hours from Monday 09:00 end Tuesday 15:00, so
    # 75% (Tuesday 11:00) and 90% (13:24) have passed.
    harness.clock.set(local(2026, 1, 13, 14, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P2 two sites")
    _at(harness, local(2026, 1, 13, 14, 0))
    assert _warnings(harness) == ["⚠ INC-1001: Resolution at 90% — due Tue 13 Jan 2026 15:00, 1:00 left."]
    _at(harness, local(2026, 1, 13, 14, 59))
    assert len(_warnings(harness)) == 1
    _at(harness, local(2026, 1, 13, 15, 0))
    assert _warnings(harness)[1:] == ["🚨 INC-1001: Resolution breached — it was due Tue 13 Jan 2026 15:00."]


def test_a_worker_back_after_an_outage_posts_only_the_furthest_point(harness, db, clock):
    _p2_friday(harness)  # first response: 75% Monday 08:30, 90% 08:48, breach 09:00
    _at(harness, local(2026, 1, 12, 8, 30))
    assert _warnings(harness) == ["⚠ INC-1001: First response at 75% — due Mon 12 Jan 2026 09:00, 0:30 left."]
    # No worker runs from 08:40 until 09:05; then the 90% and the breach timers are both due.
    clock.set(local(2026, 1, 12, 9, 5))
    back = Scheduler(db, clock, worker_id="back", runtime=harness.runtime)
    assert back.run_due() >= 2
    harness.run()
    assert _warnings(harness)[1:] == ["🚨 INC-1001: First response breached — it was due Mon 12 Jan 2026 09:00."]
    # The resolution's points come on time, one each.
    _at(harness, local(2026, 1, 13, 9, 0))
    assert _warnings(harness)[2:] == ["⚠ INC-1001: Resolution at 75% — due Tue 13 Jan 2026 13:00, 4:00 left."]


# -- RFO and RCA count from the resolution -----------------------------------------------------------------


def _p1_resolved_christmas_eve(harness):
    harness.clock.set(local(2026, 12, 24, 12, 0))  # Thursday
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 phone=+31612345678 Everything down")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P1 national outage")
    _resolve(harness, local(2026, 12, 24, 20, 0))


def _aftercare_reminders(harness):
    return [m["markdown"] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("Problem managers")]


def _audit_count(db):
    from storage.models.directory import AuditEntry

    with db.scope() as s:
        return len(s.scalars(select(AuditEntry).where(AuditEntry.subject == "INC-1001")).all())


def test_the_rfo_is_due_three_business_days_after_the_resolution_whenever_the_ticket_closes(harness, db):
    harness.clock.set(local(2026, 12, 24, 12, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 phone=+31612345678 Everything down")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P1 national outage")
    # Before the resolution there is nothing to deliver yet, and nothing changes.
    harness.clock.set(local(2026, 12, 24, 13, 0))
    before = _audit_count(db)
    assert _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/rfo INC-1001 https://docs.example.net/rfo-1001") == (
        "**INC-1001** is not resolved yet; the RFO and RCA follow its resolution."
    )
    assert _audit_count(db) == before and (_ticket(db).resolution or {}).get("delivered") is None
    assert (
        "- Reason For Outage: starts at the resolution"
        in _do(harness, ANNA_EMAIL, ACME_ROOM, "/sla INC-1001").splitlines()
    )
    # SPEC §5: resolved Thursday 24 December 2026 20:00 → RFO due Wednesday 30 December 18:00.
    _resolve(harness, local(2026, 12, 24, 20, 0))
    view = _do(harness, ANNA_EMAIL, ACME_ROOM, "/ticket INC-1001")
    assert "- Reason For Outage: Wed 30 Dec 2026 18:00 — running" in view
    assert "- Root Cause Analysis (target): Mon 11 Jan 2027 18:00 — running" in view
    assert "- Root Cause Analysis (deadline): Mon 25 Jan 2027 18:00 — running" in view
    countdown = [m for m in harness.bot_messages(ACME_ROOM) if m["markdown"].startswith("⏱")][-1]["markdown"]
    assert "- Reason For Outage due Wed 30 Dec 2026 18:00 — 30:00 office hours left" in countdown
    # Nobody confirms: the problem managers are reminded the day before, while 2-2-2 still runs.
    _at(harness, local(2026, 12, 29, 17, 59))
    assert _aftercare_reminders(harness) == []
    _at(harness, local(2026, 12, 29, 18, 0))
    assert _aftercare_reminders(harness) == [
        "Problem managers: the Reason For Outage of INC-1001 is due tomorrow (Wed 30 Dec 2026 18:00)."
    ]
    assert _ticket(db).status == "resolved"
    # Delivered on time, before the customer has confirmed anything.
    harness.clock.set(local(2026, 12, 30, 10, 0))
    assert _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/rfo INC-1001 https://docs.example.net/rfo-1001") == (
        "Reason For Outage of **INC-1001** delivered to the customer."
    )
    assert r"**INC-1001** — Reason For Outage: https://docs\.example\.net/rfo\-1001" in _thread(harness)
    _at(harness, local(2026, 12, 30, 18, 0))
    assert not any("overdue" in m for m in _aftercare_reminders(harness))
    # 2-2-2 closes it on Tuesday 5 January 18:00, where the RFO would have counted from before.
    _at(harness, local(2026, 12, 31, 18, 0))
    _at(harness, local(2027, 1, 5, 18, 0))
    ticket = _ticket(db)
    assert (ticket.status, ticket.closed_at, ticket.restored_at) == (
        "closed",
        local(2027, 1, 5, 18, 0),
        local(2026, 12, 24, 20, 0),
    )
    view = _do(harness, ANNA_EMAIL, ACME_ROOM, "/ticket INC-1001")
    assert "- Reason For Outage: Wed 30 Dec 2026 18:00 — met" in view
    assert "- Root Cause Analysis (deadline): Mon 25 Jan 2027 18:00 — running" in view
    # The RCA's reminders stand where the resolution put them: the target the day before 11 January.
    _at(harness, local(2027, 1, 8, 18, 0))
    assert _aftercare_reminders(harness)[-1] == (
        "Problem managers: the Root Cause Analysis (target) of INC-1001 is due tomorrow (Mon 11 Jan 2027 18:00)."
    )


def test_a_rejected_resolution_does_not_restart_the_rfo_and_rca(harness, db):
    _p1_resolved_christmas_eve(harness)
    # Monday: "Not solved". The follow-up clocks keep counting from Thursday 20:00.
    harness.clock.set(local(2026, 12, 28, 10, 0))
    card = [m for m in harness.bot_messages(ACME_ROOM) if m.get("attachments")][-1]
    harness.press(ANNA_EMAIL, card, {"action": "ticket.not_solved", "ticket": "INC-1001", "reason": "still offline"})
    harness.run()
    assert (_ticket(db).status, _ticket(db).resolved_at) == ("in_progress", None)
    view = _do(harness, ANNA_EMAIL, ACME_ROOM, "/ticket INC-1001")
    assert "- Reason For Outage: Wed 30 Dec 2026 18:00 — running" in view
    # Deliverable meanwhile: the RCA, found already on Monday.
    harness.clock.set(local(2026, 12, 28, 11, 0))
    assert _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/rca INC-1001 https://docs.example.net/rca-1001") == (
        "Root Cause Analysis (deadline) of **INC-1001** delivered to the customer."
    )
    # Resolved again on Tuesday, confirmed: still Wednesday 30 December, reminded once.
    _resolve(harness, local(2026, 12, 29, 12, 0))
    harness.clock.set(local(2026, 12, 29, 13, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/confirm INC-1001")
    ticket = _ticket(db)
    assert (ticket.resolved_at, ticket.restored_at) == (local(2026, 12, 29, 12, 0), local(2026, 12, 24, 20, 0))
    _at(harness, local(2026, 12, 31, 12, 0))
    assert _aftercare_reminders(harness) == [
        "Problem managers: the Reason For Outage of INC-1001 is due tomorrow (Wed 30 Dec 2026 18:00).",
        "Problem managers: the Reason For Outage of INC-1001 is overdue (was due Wed 30 Dec 2026 18:00).",
    ]
    view = _do(harness, ANNA_EMAIL, ACME_ROOM, "/ticket INC-1001")
    assert "- Reason For Outage: Wed 30 Dec 2026 18:00 — breached" in view
    assert "- Root Cause Analysis (deadline): Mon 25 Jan 2027 18:00 — met" in view


def test_follow_up_texts_in_dutch(harness, db):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/language nl")
    _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/language nl")
    harness.clock.set(local(2026, 12, 24, 12, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M priority=P1 phone=+31612345678 Everything down")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1001 P1 national outage")
    assert _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/rfo INC-1001 x") == (
        "**INC-1001** is nog niet opgelost; de RFO en RCA volgen op de oplossing."
    )
    assert (
        "- Reason For Outage: begint bij de oplossing"
        in _do(harness, ANNA_EMAIL, ACME_ROOM, "/sla INC-1001").splitlines()
    )
    harness.clock.set(local(2026, 12, 24, 20, 0))
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve INC-1001") == "**INC-1001** oplossen:"
    harness.press(
        SANNE_EMAIL,
        harness.bot_messages(STAFF_ROOM)[-1],
        {"action": "ticket.resolve", "ticket": "INC-1001", "cause": "APN", "resolution": "Fixed"},
    )
    harness.run()
    assert "- Reason For Outage: wo 30 dec 2026 18:00 — loopt" in _do(
        harness, ANNA_EMAIL, ACME_ROOM, "/ticket INC-1001"
    )


def test_a_warning_timer_running_while_an_agent_takes_the_ticket_neither_blocks_nor_warns(
    harness, db, clock, monkeypatch
):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one transaction at a time: a running timer and a command never overlap")
    _p2_friday(harness)  # first response 75% due Monday 08:30
    clock.set(local(2026, 1, 12, 8, 30))
    inside, go_on = threading.Event(), threading.Event()
    real = clocks.locked

    def held(*args, **kwargs):
        inside.set()  # the timer row is claimed; the ticket's row is next
        go_on.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(clocks, "locked", held)
    timers = threading.Thread(target=Scheduler(db, clock, worker_id="other-timers", runtime=harness.runtime).run_due)
    timers.start()
    assert inside.wait(10)
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/take INC-1001")
    taking = threading.Thread(target=harness.inbox.drain)
    taking.start()
    taking.join(10)
    # The take does not wait for the running warning timer, which waits for the take's ticket row.
    assert not taking.is_alive()
    go_on.set()
    timers.join(10)
    assert not timers.is_alive()
    harness.run()
    assert _ticket(db).first_response_at is not None
    assert _warnings(harness) == []  # the timer read the ticket as the take left it: answered, nothing to warn
