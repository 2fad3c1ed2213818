"""The SLA engine: budgets, profiles from configuration, and each clock's state over a ticket's history."""

from datetime import datetime, timedelta

import pytest

from bot.clock import AMSTERDAM
from bot.config import ConfigError, load_settings
from rules import sla
from rules.calendar import CalendarConfigError, NaiveDatetimeError
from rules.clock_state import TicketHistory
from rules.sla import parse_budget
from tests.shipped import RULES, deadlines, levels, load_levels


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=AMSTERDAM)


def by_target(rows):
    return {r.target: r for r in rows}


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("16bh", 16, "bh"),
        ("30bm", 30, "bm"),
        ("5bd", 5, "bd"),
        ("3bd-eod", 3, "bd-eod"),
        ("8h", 8, "h"),
        ("90m", 90, "m"),
        (" 2BH ", 2, "bh"),
    ],
)
def test_budgets_parse(text, amount, unit):
    assert parse_budget(text) == sla.Budget(amount, unit)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("-3bh", "negative"),
        ("3", "not understood"),
        ("bh", "not understood"),
        ("1.5bh", "not understood"),
        ("3 days", "not understood"),
    ],
)
def test_bad_budgets_are_refused(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_budget(text)


def test_p2_clocks_while_running():
    history = TicketHistory(kind="incident", priority="P2", opened_at=local(2026, 1, 9, 17))
    rows = by_target(deadlines(history, "iot", now=local(2026, 1, 12, 8, 30)))
    first, resolution = rows["first_response"], rows["resolution"]
    assert first.due == local(2026, 1, 12, 9)
    assert (first.used, first.left, first.fraction, first.state) == (
        timedelta(minutes=90),
        timedelta(minutes=30),
        0.75,
        "running",
    )
    assert resolution.due == local(2026, 1, 13, 13)
    assert resolution.total == timedelta(hours=16)


def test_breached_at_the_deadline_instant_not_before():
    history = TicketHistory(kind="incident", priority="P2", opened_at=local(2026, 1, 9, 17))
    just_before = by_target(deadlines(history, "iot", now=local(2026, 1, 12, 8, 59, 59)))["first_response"]
    at = by_target(deadlines(history, "iot", now=local(2026, 1, 12, 9)))["first_response"]
    assert (just_before.state, at.state) == ("running", "breached")


def test_met_before_the_deadline_and_late_when_after():
    opened = local(2026, 1, 9, 17)
    on_time = TicketHistory(
        kind="incident", priority="P2", opened_at=opened, first_response_at=local(2026, 1, 12, 8, 59)
    )
    late = TicketHistory(kind="incident", priority="P2", opened_at=opened, first_response_at=local(2026, 1, 12, 9))
    now = local(2026, 1, 20, 12)
    assert by_target(deadlines(on_time, "iot", now))["first_response"].state == "met"
    met = by_target(deadlines(late, "iot", now))["first_response"]
    assert met.state == "breached"
    assert met.used == timedelta(hours=2)  # the clock stopped when it was met


def test_waiting_for_the_customer_pauses_office_clocks_and_moves_the_deadline():
    # Opened Monday 10:00; waiting for the customer from 11:00 to 15:00 the same day.
    history = TicketHistory(
        kind="incident",
        priority="P2",
        opened_at=local(2026, 1, 12, 10),
        pauses=[(local(2026, 1, 12, 11), local(2026, 1, 12, 15))],
    )
    rows = by_target(deadlines(history, "iot", now=local(2026, 1, 12, 16)))
    # 16 office hours from Monday 10:00 is Tuesday 16:00; four paused office hours move it to Wednesday 10:00.
    assert rows["resolution"].due == local(2026, 1, 14, 10)
    assert rows["resolution"].used == timedelta(hours=2)
    assert rows["first_response"].due == local(2026, 1, 12, 16)


def test_an_open_pause_shows_paused_and_counts_up_to_now():
    history = TicketHistory(
        kind="incident", priority="P3", opened_at=local(2026, 1, 12, 10), pauses=[(local(2026, 1, 12, 12), None)]
    )
    row = by_target(deadlines(history, "iot", now=local(2026, 1, 13, 10)))["resolution"]
    assert row.paused and row.state == "paused"
    assert row.used == timedelta(hours=2)
    # 5 business days: Monday 19 January 10:00; the 8 office hours paused so far (Monday
    # 12:00–18:00, Tuesday 08:00–10:00) move it to Monday 19 January 18:00, closing time.
    assert row.due == local(2026, 1, 19, 18)


def test_p1_is_not_paused_and_runs_in_elapsed_time_across_the_spring_forward_night():
    history = TicketHistory(
        kind="incident",
        priority="P1",
        opened_at=local(2026, 3, 29, 0, 30),
        pauses=[(local(2026, 3, 29, 1), local(2026, 3, 29, 5))],
    )
    rows = by_target(deadlines(history, "iot", now=local(2026, 3, 29, 6)))
    assert rows["resolution"].due == local(2026, 3, 29, 9, 30)
    assert rows["first_response"].due == local(2026, 3, 29, 0, 45)
    assert not rows["resolution"].paused
    assert rows["resolution"].used == timedelta(hours=4, minutes=30)  # 00:30 CET → 06:00 CEST


def test_raising_the_priority_recomputes_from_the_start_even_into_a_breach():
    opened = local(2026, 1, 12, 9)
    as_p3 = TicketHistory(kind="incident", priority="P3", opened_at=opened)
    as_p1 = TicketHistory(kind="incident", priority="P1", opened_at=opened)
    now = local(2026, 1, 12, 18)
    assert by_target(deadlines(as_p3, "iot", now))["resolution"].state == "running"
    raised = by_target(deadlines(as_p1, "iot", now))["resolution"]
    assert (raised.due, raised.state) == (local(2026, 1, 12, 17), "breached")


def test_roaming_makes_recovery_best_effort_never_a_breach():
    history = TicketHistory(kind="incident", priority="P2", opened_at=local(2026, 1, 12, 9), roaming=True)
    rows = by_target(deadlines(history, "iot", now=local(2026, 1, 20, 9)))
    assert (rows["resolution"].best_effort, rows["resolution"].state) == (True, "late")
    assert rows["first_response"].state == "breached"  # only recovery is best effort


def test_follow_up_of_a_p1_counts_from_the_first_resolution():
    history = TicketHistory(
        kind="incident", priority="P1", opened_at=local(2026, 12, 24, 12), first_response_at=local(2026, 12, 24, 12, 5)
    )
    before = by_target(deadlines(history, "iot", now=local(2026, 12, 24, 16)))
    assert before["rfo"].state == "not_started" and before["rfo"].due is None and before["rfo"].starts == "resolved"
    # SPEC §5: resolved Thursday 24 December 2026 20:00 → RFO due Wednesday 30 December 18:00,
    # whenever the customer confirms or 2-2-2 closes the ticket.
    history.resolved_at = history.restored_at = local(2026, 12, 24, 20)
    rows = by_target(deadlines(history, "iot", now=local(2026, 12, 28, 9)))
    assert (rows["rfo"].due, rows["rfo"].state) == (local(2026, 12, 30, 18), "running")
    assert rows["rca_target"].due == local(2027, 1, 11, 18)
    assert rows["rca"].due == local(2027, 1, 25, 18)
    # The customer rejects the resolution and it is resolved again on the 29th: the follow-up
    # keeps counting from the first resolution; the closure a week later moves nothing either.
    history.resolved_at = local(2026, 12, 29, 11)
    history.closed_at = local(2027, 1, 7, 11)
    history.met["rfo"] = local(2026, 12, 29, 16)
    rows = by_target(deadlines(history, "iot", now=local(2027, 1, 8, 9)))
    assert (rows["rfo"].due, rows["rfo"].state) == (local(2026, 12, 30, 18), "met")
    assert rows["rca"].due == local(2027, 1, 25, 18)
    assert rows["resolution"].state == "breached"  # 8 h from 24 December 12:00: the rejection counts


def test_a_longer_lead_time_replaces_the_budget_and_counts_as_extended():
    opened = local(2026, 1, 12, 10)  # Monday
    history = TicketHistory(kind="rfc", opened_at=opened, first_response_at=local(2026, 1, 12, 11))
    standard = by_target(deadlines(history, "iot", now=local(2026, 1, 14, 10)))["resolution"]
    assert (standard.due, standard.extended, standard.budget) == (local(2026, 1, 19, 10), False, sla.Budget(5, "bd"))
    history.lead_time = sla.Budget(10, "bd")
    rows = by_target(deadlines(history, "iot", now=local(2026, 1, 20, 10)))
    # Business days on the target's calendar, from the opening: Monday 26 January 10:00.
    assert (rows["resolution"].due, rows["resolution"].state, rows["resolution"].extended) == (
        local(2026, 1, 26, 10),
        "running",
        True,
    )
    assert rows["resolution"].budget == sla.Budget(10, "bd")
    assert rows["first_response"].extended is False
    # A wait for the customer moves it like the standard one.
    history.pauses = [(local(2026, 1, 20, 10), local(2026, 1, 20, 14))]
    assert by_target(deadlines(history, "iot", now=local(2026, 1, 21, 9)))["resolution"].due == local(2026, 1, 26, 14)
    # An incident's recovery follows its priority: a lead time given to what is an incident now changes nothing.
    converted = TicketHistory(kind="incident", priority="P3", opened_at=opened, lead_time=sla.Budget(10, "bd"))
    rows = by_target(deadlines(converted, "iot", now=opened))
    assert (rows["resolution"].due, rows["resolution"].extended) == (local(2026, 1, 19, 10), False)


def test_partner_and_een_profiles():
    opened = local(2026, 1, 9, 16)
    partner = by_target(
        deadlines(TicketHistory(kind="incident", priority="P2", opened_at=opened), "partner", now=opened)
    )
    # 4 office hours on 09:00–17:00 from Friday 16:00: 1 h Friday, 3 h Monday.
    assert partner["first_response"].due == local(2026, 1, 12, 12)
    assert partner["resolution"].due == local(2026, 1, 12, 16)
    een = by_target(deadlines(TicketHistory(kind="incident", priority="P3", opened_at=opened), "een", now=opened))
    assert een["resolution"].due == local(2026, 1, 10, 8)


def test_unknown_profile_kind_or_priority():
    history = TicketHistory(kind="incident", priority="P4", opened_at=local(2026, 1, 9, 16))
    with pytest.raises(KeyError, match="P1, P2 or P3"):
        deadlines(history, "iot", now=local(2026, 1, 9, 16))
    with pytest.raises(KeyError, match="unknown profile 'gold'"):
        deadlines(TicketHistory(kind="rfc", opened_at=local(2026, 1, 9, 16)), "gold", now=local(2026, 1, 9, 16))
    with pytest.raises(KeyError, match="unknown record kind"):
        deadlines(TicketHistory(kind="outage", opened_at=local(2026, 1, 9, 16)), "iot", now=local(2026, 1, 9, 16))


def test_naive_times_are_refused():
    with pytest.raises(NaiveDatetimeError):
        deadlines(TicketHistory(kind="rfc", opened_at=datetime(2026, 1, 9, 16)), "iot", now=local(2026, 1, 9, 16))


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "levels.toml"
    path.write_text(text)
    return str(path)


CALENDAR = """
[calendars.office]
hours = { mon = "09:00-17:00" }
"""


def test_a_profile_is_configuration(tmp_path):
    path = _write(
        tmp_path,
        CALENDAR
        + """
[profiles.gold]
[[profiles.gold.rfc]]
target = "resolution"
budget = "4bh"
calendar = "office"
""",
    )
    rows = deadlines(
        TicketHistory(kind="rfc", opened_at=local(2026, 1, 12, 15)),
        "gold",
        now=local(2026, 1, 12, 15),
        rules=load_levels(path),
    )
    # Mondays only, 09:00–17:00: two hours this Monday, two the next.
    assert [(r.target, r.due) for r in rows] == [("resolution", local(2026, 1, 19, 11))]
    with pytest.raises(KeyError, match="unknown profile 'gold'"):
        RULES.profile("gold")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[profiles.x]\n[[profiles.x.rfc]]\ntarget = "resolution"\nbudget = "4bh"\ncalendar = "nowhere"\n',
            "unknown calendar 'nowhere'",
        ),
        (
            '[profiles.x]\n[[profiles.x.rfc]]\ntarget = "resolution"\nbudget = "four hours"\ncalendar = "office"\n',
            "not understood",
        ),
        ("[profiles.x]\n[profiles.x.incident]\nP7 = []\n", "unknown priorities"),
        ('[profiles.x]\n[[profiles.x.outage]]\ntarget = "resolution"\n', "unknown record kinds"),
    ],
)
def test_bad_profiles_are_refused_with_the_reason(tmp_path, extra, message):
    with pytest.raises(CalendarConfigError, match=message):
        levels(_write(tmp_path, CALENDAR + extra))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[calendars.c]\nhours = { mon = "18:00-08:00" }\n', "ends before it starts"),
        ('[calendars.c]\nhours = { mon = "08:00-25:00" }\n', "between 00:00 and 24:00"),
        ('[calendars.c]\nhours = { monday = "08:00-18:00" }\n', "unknown weekday"),
        ('[calendars.c]\nhours = { mon = "08:00-12:00,11:00-18:00" }\n', "overlap"),
        ('[calendars.c]\nholidays = "NL"\nclosed_holidays = ["Kings Day"]\n', "no holiday named"),
        ('[calendars.c]\nzone = "Europe/Nowhere"\n', "unknown time zone"),
        ("[calendars.c\n", "not valid TOML"),
    ],
)
def test_bad_calendars_stop_start_up_naming_the_variable(tmp_path, text, message):
    path = _write(tmp_path, text + "\n[profiles.p]\n" if "TOML" not in message else text)
    with pytest.raises(ConfigError, match=f"SERVICE_LEVELS_FILE: .*{message}"):
        load_settings({"SERVICE_LEVELS_FILE": path}, cwd=tmp_path)


def test_missing_service_levels_file(tmp_path):
    with pytest.raises(ConfigError, match="SERVICE_LEVELS_FILE: cannot read"):
        load_settings({"SERVICE_LEVELS_FILE": str(tmp_path / "absent.toml")}, cwd=tmp_path)


def test_a_wait_after_the_first_response_does_not_move_it():
    history = TicketHistory(
        kind="incident",
        priority="P2",
        opened_at=local(2026, 1, 12, 10),
        first_response_at=local(2026, 1, 12, 11),
        pauses=[(local(2026, 1, 12, 11), None)],
    )
    rows = by_target(deadlines(history, "iot", now=local(2026, 1, 12, 15)))
    assert (rows["first_response"].due, rows["first_response"].used, rows["first_response"].state) == (
        local(2026, 1, 12, 12),
        timedelta(hours=1),
        "met",
    )
    # 16 office hours from Monday 10:00 end Tuesday 16:00; the four paused office hours so far move it to Wednesday 10:00.
    assert rows["resolution"].due == local(2026, 1, 14, 10)
