"""/report and `run_bot.py report`: a month per organisation, in chat and as CSV."""

from datetime import timedelta

import run_bot
from bot.sandbox.demo import ACME_ROOM, ANNA_EMAIL, BRAM_EMAIL, POLDER_ROOM, SANNE_EMAIL, STAFF_ROOM
from commands.report import month_bounds, percentile
from tests.support import answer as _do, local






def _month(harness):
    """November 2026: Acme has a P3 answered in 30 minutes and a roaming P2 past its deadline; Polder an RFC."""
    harness.clock.set(local(2026, 11, 23, 9, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.clock.set(local(2026, 11, 23, 9, 30))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/take INC-1001")
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M roaming=true Roaming SIMs offline in Belgium")
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/priority INC-1002 P2 many SIMs")
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/rfc service=LoRa description=Add_gateways More gateways")
    # A ticket of December is not in November's report.
    harness.clock.set(local(2026, 12, 1, 9, 0))
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/incident service=LoRa Gateway down")
    harness.clock.set(local(2026, 12, 2, 12, 0))


def test_report_in_chat(harness):
    _month(harness)
    lines = _do(harness, SANNE_EMAIL, STAFF_ROOM, "/report 2026-11").splitlines()
    assert lines[0] == "**Report 2026-11** (tickets opened that month, as the clocks stand now)"
    assert lines[4:] [:4] == [
        "| Acme Logistics | incident P2: 1, incident P3: 1 | First response | 1 | 1 | 0 | 0 | 0:30 / 0:30 | — / — | — / — |",
        "| Acme Logistics | incident P2: 1, incident P3: 1 | Resolution | 0 | 1 | 0 | 1 | 0:30 / 0:30 | — / — | — / — |",
        "| Polder Energy | rfc: 1 | First response | 0 | 1 | 0 | 0 | — / — | — / — | — / — |",
        "| Polder Energy | rfc: 1 | Resolution | 0 | 1 | 0 | 0 | — / — | — / — | — / — |",
    ]


def test_report_as_csv_from_the_command_line(harness, db, monkeypatch, capsys):
    _month(harness)
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.delenv("WEBEX_ACCESS_TOKEN", raising=False)
    assert run_bot.main(["report", "--month", "2026-11", "--csv", "--at", "2026-12-02T12:00"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("org,tickets,target,met,breached,running,best_effort,first_response_median,first_response_p90,"
                      "resolution_median,resolution_p90,acknowledge_median,acknowledge_p90")
    assert out[1] == 'Acme Logistics,"incident P2: 1, incident P3: 1",first_response,1,1,0,0,0:30,0:30,—,—,—,—'
    assert len(out) == 5


def test_bad_month(harness, monkeypatch, capsys):
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/report november") == "**november** is not a month; write it like 2026-11."
    assert run_bot.main(["report", "--month", "2026-13"]) == 2
    assert capsys.readouterr().err.strip() == "run_bot.py report: '2026-13' is not a month such as 2026-11"


def test_an_empty_month(harness):
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/report 2025-02") == "No tickets were opened in 2025-02."


def test_customers_cannot_see_the_report(harness):
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/report") == "`/report` works only in: a 1:1 space with me, the staff space."


def test_month_bounds_and_percentile():
    assert month_bounds("2026-12") == (local(2026, 12, 1), local(2027, 1, 1))
    values = [timedelta(minutes=m) for m in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)]
    assert (percentile(values, 50), percentile(values, 90), percentile([], 50)) == (timedelta(minutes=50), timedelta(minutes=90), None)
