"""`run_bot.py sla add | between | targets` as scripts call it: real subprocesses (SPEC §5).

Each invocation is a separate Python process, so the
module runs them all at once in a thread pool before the tests look at the results.
The environment has no WEBEX_ACCESS_TOKEN (the sla command must not need one) and no
SERVICE_LEVELS_FILE (the shipped calendars and profiles are the ones under test).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.process


@dataclass(frozen=True)
class Outcome:
    status: int
    stdout: str
    stderr: str


def _run(args: tuple[str, ...]) -> Outcome:
    env = {k: v for k, v in os.environ.items() if k not in ("WEBEX_ACCESS_TOKEN", "SERVICE_LEVELS_FILE")}
    proc = subprocess.run(
        [sys.executable, "run_bot.py", "sla", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


ADD = ("add",)

# Good input: (arguments, exact stdout lines). Each with why.
GOOD: dict[str, tuple[tuple[str, ...], list[str]]] = {
    # SPEC example: Fri 1h + Mon 10h + Tue 5h.
    "16bh": (
        ADD + ("--calendar", "iot-office", "--start", "2026-01-09T17:00", "--duration", "16bh"),
        ["2026-01-13T13:00:00+01:00"],
    ),
    # The default calendar is iot-office.
    "16bh-default-calendar": (
        ADD + ("--start", "2026-01-09T17:00", "--duration", "16bh"),
        ["2026-01-13T13:00:00+01:00"],
    ),
    # A start with an offset is taken as given: 16:00Z is 17:00 in Amsterdam.
    "16bh-offset": (
        ADD + ("--calendar", "iot-office", "--start", "2026-01-09T16:00:00+00:00", "--duration", "16bh"),
        ["2026-01-13T13:00:00+01:00"],
    ),
    # Office minutes: Fri 17:45-18:00 is 15, Monday 08:00-08:15 the other 15.
    "30bm": (
        ADD + ("--calendar", "iot-office", "--start", "2026-01-09T17:45", "--duration", "30bm"),
        ["2026-01-12T08:15:00+01:00"],
    ),
    # Budget ending at closing time ends at 18:00.
    "2bh-to-close": (
        ADD + ("--calendar", "iot-office", "--start", "2026-01-12T16:00", "--duration", "2bh"),
        ["2026-01-12T18:00:00+01:00"],
    ),
    # partner-office hours are 09:00-17:00.
    "partner-4bh": (
        ADD + ("--calendar", "partner-office", "--start", "2026-01-09T16:00", "--duration", "4bh"),
        ["2026-01-12T12:00:00+01:00"],
    ),
    # SPEC: Saturday 10:00 + 5 business days = next Friday 18:00.
    "5bd-saturday": (
        ADD + ("--calendar", "iot-office", "--start", "2026-01-10T10:00", "--duration", "5bd"),
        ["2026-01-16T18:00:00+01:00"],
    ),
    # SPEC: Monday 10:00 + 5 business days = next Monday 10:00.
    "5bd-monday": (
        ADD + ("--calendar", "iot-office", "--start", "2026-01-12T10:00", "--duration", "5bd"),
        ["2026-01-19T10:00:00+01:00"],
    ),
    # SPEC: P1 resolved Thu 24 Dec 2026 20:00, RFO 3 bd end of day = Wed 30 Dec 18:00.
    "3bd-end-of-day": (
        ADD + ("--calendar", "iot-office", "--start", "2026-12-24T20:00", "--duration", "3bd", "--end-of-day"),
        ["2026-12-30T18:00:00+01:00"],
    ),
    # The same through the profile: a P1's follow-up counts from its (first) resolution.
    "targets-p1-resolved": (
        (
            "targets",
            "--kind",
            "incident",
            "--priority",
            "P1",
            "--start",
            "2026-12-24T12:00",
            "--resolved",
            "2026-12-24T20:00",
        ),
        [
            "first_response 2026-12-24T12:15:00+01:00",
            "resolution 2026-12-24T20:00:00+01:00",
            "rfo 2026-12-30T18:00:00+01:00",
            "rca_target 2027-01-11T18:00:00+01:00",
            "rca 2027-01-25T18:00:00+01:00",
        ],
    ),
    # Not resolved yet: the follow-up has no due time.
    "targets-p1-open": (
        ("targets", "--kind", "incident", "--priority", "P1", "--start", "2026-12-24T12:00"),
        [
            "first_response 2026-12-24T12:15:00+01:00",
            "resolution 2026-12-24T20:00:00+01:00",
            "rfo from-resolution",
            "rca_target from-resolution",
            "rca from-resolution",
        ],
    ),
    # SPEC: elapsed hours are added in UTC; 00:30 on spring-forward night + 8h = 09:30 CEST.
    "8h-spring": (
        ADD + ("--calendar", "24x7", "--start", "2026-03-29T00:30", "--duration", "8h"),
        ["2026-03-29T09:30:00+02:00"],
    ),
    # Autumn: 00:30 CEST + 8h = 07:30 CET.
    "8h-autumn": (
        ADD + ("--calendar", "24x7", "--start", "2026-10-25T00:30", "--duration", "8h"),
        ["2026-10-25T07:30:00+01:00"],
    ),
    # Elapsed minutes: 01:00 CEST (23:00Z) + 90m = 00:30Z = the first 02:30, shown with +02:00.
    "90m-into-fold": (
        ADD + ("--calendar", "24x7", "--start", "2026-10-25T01:00", "--duration", "90m"),
        ["2026-10-25T02:30:00+02:00"],
    ),
    # An ambiguous local time is fine with an offset: the second 02:30 (01:30Z) + 8h = 10:30 CET.
    "8h-ambiguous-with-offset": (
        ADD + ("--calendar", "24x7", "--start", "2026-10-25T02:30+01:00", "--duration", "8h"),
        ["2026-10-25T10:30:00+01:00"],
    ),
    # between: Fri 1h + Mon 10h + Tue 5h.
    "between-16": (
        ("between", "--calendar", "iot-office", "--start", "2026-01-09T17:00", "--end", "2026-01-13T13:00"),
        ["16:00"],
    ),
    # between: hours beyond 24 are not wrapped (Mon 10h + Tue 10h + Wed 6h).
    "between-26": (
        ("between", "--calendar", "iot-office", "--start", "2026-01-05T08:00", "--end", "2026-01-07T14:00"),
        ["26:00"],
    ),
    # between: minutes shown; across the weekend Fri 17:15-18:00 + Mon 08:00-08:30.
    "between-minutes": (
        ("between", "--calendar", "iot-office", "--start", "2026-01-09T17:15", "--end", "2026-01-12T08:30"),
        ["01:15"],
    ),
    # between: start == end.
    "between-zero": (
        ("between", "--calendar", "iot-office", "--start", "2026-01-12T10:00", "--end", "2026-01-12T10:00"),
        ["00:00"],
    ),
}

# Bad input: exit 2, nothing on stdout, one line on stderr. (arguments, a word the line must contain)
BAD: dict[str, tuple[str, ...]] = {
    "unknown-calendar": ADD + ("--calendar", "mars-office", "--start", "2026-01-09T17:00", "--duration", "16bh"),
    "malformed-time": ADD + ("--start", "2026-13-45T17:00", "--duration", "16bh"),
    "not-a-time": ADD + ("--start", "tomorrow-ish", "--duration", "16bh"),
    "negative-duration": ADD + ("--start", "2026-01-09T17:00", "--duration", "-3bh"),
    "negative-duration-equals": ADD + ("--start", "2026-01-09T17:00", "--duration=-3bh"),
    "unparsable-duration": ADD + ("--start", "2026-01-09T17:00", "--duration", "16xx"),
    "duration-without-number": ADD + ("--start", "2026-01-09T17:00", "--duration", "bh"),
    "nonexistent-local-time": ADD + ("--start", "2026-03-29T02:30", "--duration", "1bh"),
    "ambiguous-local-time": ADD + ("--start", "2026-10-25T02:30", "--duration", "1bh"),
    "between-unknown-calendar": (
        "between",
        "--calendar",
        "mars-office",
        "--start",
        "2026-01-09T17:00",
        "--end",
        "2026-01-12T09:00",
    ),
    "between-malformed-end": ("between", "--start", "2026-01-09T17:00", "--end", "2026-01-12 nine"),
    "between-nonexistent": ("between", "--start", "2026-03-29T02:30", "--end", "2026-03-30T09:00"),
    "between-ambiguous": ("between", "--start", "2026-10-25T02:30", "--end", "2026-10-26T09:00"),
    "targets-malformed-time": (
        "targets",
        "--profile",
        "iot",
        "--kind",
        "incident",
        "--priority",
        "P2",
        "--start",
        "9 Jan 17h",
    ),
    "targets-resolved-before-start": (
        "targets",
        "--kind",
        "incident",
        "--priority",
        "P1",
        "--start",
        "2026-12-24T12:00",
        "--resolved",
        "2026-12-24T11:00",
    ),
    "targets-nonexistent": (
        "targets",
        "--profile",
        "iot",
        "--kind",
        "incident",
        "--priority",
        "P2",
        "--start",
        "2026-03-29T02:30",
    ),
    "targets-ambiguous": (
        "targets",
        "--profile",
        "iot",
        "--kind",
        "incident",
        "--priority",
        "P2",
        "--start",
        "2026-10-25T02:30",
    ),
    # Instants a datetime holds but no calendar should compute with: once an OverflowError and its traceback.
    "year-one": ADD + ("--start", "0001-01-01T00:00", "--duration", "8h"),
    "year-9999": ADD + ("--start", "9999-12-31T23:00", "--duration", "5bd"),
    "targets-year-9999": ("targets", "--priority", "P3", "--start", "9999-12-31T10:00"),
    # More hours than a timedelta holds: once an OverflowError.
    "huge-duration": ADD + ("--start", "2026-01-09T17:00", "--duration", "99999999999h"),
}

TARGETS = ("targets", "--profile", "iot", "--kind", "incident", "--priority", "P2", "--start", "2026-01-09T17:00")
P2_DUE = {
    "first_response": "2026-01-12T09:00:00+01:00",  # 2 office hours: Fri 17-18, Mon 08-09
    "resolution": "2026-01-13T13:00:00+01:00",  # 16 office hours: Fri 1h + Mon 10h + Tue 5h
}

ALL_CALLS: dict[str, tuple[str, ...]] = {
    **{f"good:{k}": v[0] for k, v in GOOD.items()},
    **{f"bad:{k}": v for k, v in BAD.items()},
    "targets": TARGETS,
    "targets-json": TARGETS + ("--json",),
}


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) * 2)) as pool:
        futures = {key: pool.submit(_run, args) for key, args in ALL_CALLS.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("case", list(GOOD))
def test_good_input_prints_exactly_the_answer(outcomes: dict[str, Outcome], case: str) -> None:
    out = outcomes[f"good:{case}"]
    assert out.status == 0, out.stderr
    assert out.stdout.splitlines() == GOOD[case][1]
    assert out.stdout.endswith("\n")


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_with_one_line_on_stderr(outcomes: dict[str, Outcome], case: str) -> None:
    out = outcomes[f"bad:{case}"]
    assert out.status == 2, (out.status, out.stdout, out.stderr)
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].strip(), out.stderr
    assert "Traceback" not in out.stderr


def test_bad_input_messages_say_what_is_wrong(outcomes: dict[str, Outcome]) -> None:
    # The one line names the offending value, so a script's log tells the reader what to fix.
    for case, needle in {
        "unknown-calendar": "mars-office",
        "malformed-time": "2026-13-45T17:00",
        "unparsable-duration": "16xx",
        "negative-duration": "-3bh",
        "nonexistent-local-time": "02:30",
        "ambiguous-local-time": "02:30",
        "year-one": "not between 2000-01-01 and 2099-12-31",
        "huge-duration": "at most 100000",
    }.items():
        assert needle in outcomes[f"bad:{case}"].stderr, (case, outcomes[f"bad:{case}"].stderr)


def test_targets_lines(outcomes: dict[str, Outcome]) -> None:
    out = outcomes["targets"]
    assert out.status == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()]
    assert all(len(row) == 2 for row in rows), out.stdout
    assert dict(rows) == P2_DUE
    assert [row[0] for row in rows] == ["first_response", "resolution"]


def test_targets_json(outcomes: dict[str, Outcome]) -> None:
    out = outcomes["targets-json"]
    assert out.status == 0, out.stderr
    data = json.loads(out.stdout)
    assert isinstance(data, list)
    assert {row["target"]: row["due"] for row in data} == P2_DUE
