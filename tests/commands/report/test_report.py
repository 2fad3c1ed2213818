"""/report and `run_bot.py report`: a month per organisation, in chat and as CSV."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests

import run_bot
from commands.report.queries import month_bounds
from commands.report.render import percentile
from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BRAM_EMAIL, POLDER_ROOM, SANNE_EMAIL, SANNE_TOKEN, STAFF_ROOM
from tests.harness import answer as _do
from tests.harness import local

ROOT = Path(__file__).resolve().parents[3]


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


def test_report_in_chat_is_a_block_per_organisation_and_the_csv_a_file(harness):
    _month(harness)
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/report 2026-11")
    harness.run()
    text, attached = harness.bot_messages(STAFF_ROOM)[-2:]
    # Webex renders no markdown tables: no line of the chat report is one.
    assert text["markdown"].splitlines() == [
        "**Report 2026-11** (tickets opened that month, as the clocks stand now)",
        "",
        "**Acme Logistics** — incident P2: 1, incident P3: 1",
        "- First response: 1 met, 1 breached, 0 running, 0 best effort",
        "- Resolution: 0 met, 1 breached, 0 running, 1 best effort",
        "- Median / 90th percentile: first response 0:30 / 0:30, resolution — / —, P1 page acknowledged — / —",
        "",
        "**Polder Energy** — rfc: 1",
        "- First response: 0 met, 1 breached, 0 running, 0 best effort",
        "- Resolution: 0 met, 1 breached, 0 running, 0 best effort",
        "- Median / 90th percentile: first response — / —, resolution — / —, P1 page acknowledged — / —",
        "",
        "Times are elapsed hours:minutes from opening. Best effort: roaming partner involved, not counted as met or breached.",
    ]
    assert "<table>" not in text["html"] and "|" not in text["markdown"]
    assert attached["markdown"] == "The figures of 2026-11 as CSV, one row per organisation and target."
    [url] = attached["files"]
    content = requests.get(url, headers={"Authorization": f"Bearer {SANNE_TOKEN}"}, timeout=10)
    assert content.status_code == 200 and content.headers["Content-Type"].startswith("text/csv")
    assert 'filename="servicedesk-report-2026-11.csv"' in content.headers["Content-Disposition"]
    rows = content.text.splitlines()
    assert rows[0].startswith("org,tickets,target,met,breached") and len(rows) == 5


def test_the_report_in_dutch(harness):
    _month(harness)
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/language nl")
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/report 2026-11")
    harness.run()
    text, attached = harness.bot_messages(STAFF_ROOM)[-2:]
    assert "- Eerste reactie: 1 gehaald, 1 overschreden, 0 loopt, 0 best effort" in text["markdown"].splitlines()
    assert attached["markdown"] == "De cijfers van 2026-11 als CSV, één regel per organisatie en termijn."


def test_report_as_csv_from_the_command_line(harness, db, monkeypatch, capsys):
    _month(harness)
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.delenv("WEBEX_ACCESS_TOKEN", raising=False)
    assert run_bot.main(["report", "--month", "2026-11", "--csv", "--at", "2026-12-02T12:00"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "org,tickets,target,met,breached,running,best_effort,extended,first_response_median,first_response_p90,"
        "resolution_median,resolution_p90,acknowledge_median,acknowledge_p90"
    )
    assert out[1] == 'Acme Logistics,"incident P2: 1, incident P3: 1",first_response,1,1,0,0,0,0:30,0:30,—,—,—,—'
    assert len(out) == 5


def test_bad_month(harness, monkeypatch, capsys):
    assert (
        _do(harness, SANNE_EMAIL, STAFF_ROOM, "/report november")
        == "**Month**: give a month from 2000-01 to 2099-12, such as 2026-11; **november** is not one."
    )
    # The year 1 has no UTC instant at its start: once a failed handler and an apology.
    assert (
        _do(harness, SANNE_EMAIL, STAFF_ROOM, "/report 0001-01")
        == r"**Month**: give a month from 2000-01 to 2099-12, such as 2026-11; **0001\-01** is not one."
    )
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/language nl")
    assert (
        _do(harness, SANNE_EMAIL, STAFF_ROOM, "/report 9999-12")
        == r"**Maand**: geef een maand van 2000-01 tot en met 2099-12, zoals 2026-11; **9999\-12** is dat niet."
    )
    assert run_bot.main(["report", "--month", "2026-13"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "run_bot.py report: '2026-13' is not a month from 2000-01 to 2099-12, such as 2026-11"
    )


@pytest.mark.process
@pytest.mark.parametrize("argv", [["--month", "0001-01"], ["--month", "2026-11", "--at", "0001-01-01T00:00"]])
def test_the_command_line_refuses_a_month_or_instant_out_of_range_in_one_line(tmp_path, argv):
    # A real process, as scripts run it: once a traceback (OverflowError) and exit status 1.
    env = {
        **{k: v for k, v in os.environ.items() if k != "WEBEX_ACCESS_TOKEN"},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
    }
    done = subprocess.run(
        [sys.executable, "run_bot.py", "report", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        "run_bot.py report: '0001-01' is not a month from 2000-01 to 2099-12, such as 2026-11"
        if argv[1] == "0001-01"
        else "run_bot.py report: '0001-01-01T00:00' is not between 2000-01-01 and 2099-12-31"
    ]


def test_an_empty_month(harness):
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/report 2025-02") == "No tickets were opened in 2025-02."
    assert not any(m.get("files") for m in harness.bot_messages(STAFF_ROOM))  # no empty CSV


def test_customers_cannot_see_the_report(harness):
    assert (
        _do(harness, ANNA_EMAIL, ACME_ROOM, "/report")
        == "`/report` works only in: a 1:1 space with me, the staff space."
    )


def test_month_bounds_and_percentile():
    assert month_bounds("2026-12") == (local(2026, 12, 1), local(2027, 1, 1))
    values = [timedelta(minutes=m) for m in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)]
    assert (percentile(values, 50), percentile(values, 90), percentile([], 50)) == (
        timedelta(minutes=50),
        timedelta(minutes=90),
        None,
    )
