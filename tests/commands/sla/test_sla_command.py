"""/sla in chat: the deadlines a record would have, in local time, and clear refusals."""

from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.clock import AMSTERDAM
from commands.sla.flows import render_what_if, what_if
from sandbox.demo import ACME_ROOM, ANNA_EMAIL
from storage.models.runtime import OutboxMessage
from tests.shipped import RULES

pytestmark = pytest.mark.bare


def _ask(harness, text: str) -> str:
    harness.say(ANNA_EMAIL, ACME_ROOM, text)
    harness.run()
    return harness.bot_messages(ACME_ROOM)[-1]["markdown"]


def test_p2_opened_friday_evening(harness):
    reply = _ask(harness, "/sla P2 2026-01-09 17:00")
    assert reply.splitlines() == [
        "**SLA for a P2 opened Fri 9 Jan 2026 17:00** (Amsterdam time)",
        "- First response: **Mon 12 Jan 2026 09:00** (2 office hours)",
        "- Resolution: **Tue 13 Jan 2026 13:00** (16 office hours)",
    ]


def test_p1_runs_around_the_clock_and_lists_the_follow_up(harness):
    reply = _ask(harness, "sla p1 9-1-2026 17:00")
    assert reply.splitlines() == [
        "**SLA for a P1 opened Fri 9 Jan 2026 17:00** (Amsterdam time)",
        "- First response: **Fri 9 Jan 2026 17:15** (15 minutes, around the clock)",
        "- Resolution: **Sat 10 Jan 2026 01:00** (8 hours, around the clock)",
        "- Reason For Outage: end of business day 3 after the resolution",
        "- Root Cause Analysis (target): end of business day 10 after the resolution",
        "- Root Cause Analysis (deadline): end of business day 20 after the resolution",
    ]


def test_without_a_time_it_means_now(harness, clock):
    # The test clock stands at Monday 23 November 2026 10:00 Amsterdam time.
    reply = _ask(harness, "/sla RFC")
    assert reply.splitlines()[0] == "**SLA for a request for change opened Mon 23 Nov 2026 10:00** (Amsterdam time)"
    assert reply.splitlines()[2] == "- Resolution: **Mon 30 Nov 2026 10:00** (5 business days)"


def test_a_time_alone_is_today(harness):
    reply = _ask(harness, "/sla P3 17:30")
    assert reply.splitlines()[1] == "- First response: **Tue 24 Nov 2026 09:30** (2 office hours)"


def test_complaint_has_no_resolution_deadline(harness):
    reply = _ask(harness, "/sla complaint 2026-01-09 17:00")
    assert reply.splitlines()[1:] == [
        "- First response: **Mon 12 Jan 2026 17:00** (1 business day)",
        "- Resolution: in joint consultation, no deadline",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/sla", "Tell me what to compute, for example `/sla P2 2026-01-09 17:00`."),
        ("/sla P9 2026-01-09 17:00", "**P9** is not something with an SLA: use P1, P2, P3, RFC, RFI or complaint."),
        (
            "/sla P2 someday",
            "**Opened**: give a date and time from 2000-01-01 00:00 to 2099-12-31 23:59 (Amsterdam time), "
            "such as 2026-01-09 17:00; **someday** is not one.",
        ),
        # Dates a datetime or the calendar cannot hold: once a failed handler and an apology.
        (
            "/sla P2 0001-01-01 00:00",
            r"**Opened**: give a date and time from 2000-01-01 00:00 to 2099-12-31 23:59 (Amsterdam time), "
            r"such as 2026-01-09 17:00; **0001\-01\-01 00:00** is not one.",
        ),
        (
            "/sla P2 9999-12-31 23:00",
            r"**Opened**: give a date and time from 2000-01-01 00:00 to 2099-12-31 23:59 (Amsterdam time), "
            r"such as 2026-01-09 17:00; **9999\-12\-31 23:00** is not one.",
        ),
        # What people typed is echoed inert (typed with backslashes, the text holds the asterisks).
        (r"/sla \*\*P9\*\*", r"**\*\*P9\*\*** is not something with an SLA: use P1, P2, P3, RFC, RFI or complaint."),
        (
            "/sla P2 2026-03-29 02:30",
            r"**2026\-03\-29 02:30** does not exist in Amsterdam: the clocks jump from 02:00 to 03:00 that night.",
        ),
        (
            "/sla P2 2026-10-25 02:30",
            r"**2026\-10\-25 02:30** happens twice in Amsterdam that night; add the offset: "
            "2026-10-25T02:30+02:00 (summer time) or 2026-10-25T02:30+01:00 (winter time).",
        ),
        ("/sla INC-1001", "There is no ticket **INC-1001**."),  # no tickets yet
    ],
)
def test_bad_input_is_refused_and_nothing_else_is_sent(harness, db, text, expected):
    reply = _ask(harness, text)
    assert reply.splitlines()[0] == expected
    with db.scope() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_an_offset_settles_the_repeated_hour(harness):
    reply = _ask(harness, "/sla P1 2026-10-25 02:30+01:00")
    assert reply.splitlines()[2] == "- Resolution: **Sun 25 Oct 2026 10:30** (8 hours, around the clock)"


def test_dutch_rendering():
    result = what_if("incident", "P2", datetime(2026, 1, 9, 17, tzinfo=AMSTERDAM), rules=RULES)
    assert render_what_if("nl", result).splitlines() == [
        "**SLA voor een P2 gemeld op vr 9 jan 2026 17:00** (Nederlandse tijd)",
        "- Eerste reactie: **ma 12 jan 2026 09:00** (2 kantooruren)",
        "- Oplossing: **di 13 jan 2026 13:00** (16 kantooruren)",
    ]


def test_sla_of_a_ticket_shows_used_left_and_paused(harness, clock):
    from datetime import timedelta

    from sandbox.demo import BRAM_EMAIL, POLDER_ROOM, SANNE_EMAIL, STAFF_ROOM

    harness.seed_directory()
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.run()
    clock.advance(timedelta(minutes=90))
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which APN?")
    harness.run()
    clock.advance(timedelta(hours=1))
    assert _ask(harness, "/sla inc-1001").splitlines() == [
        "**INC-1001** (waiting for the customer) — SLA clocks (Amsterdam time):",
        "- First response: due Mon 23 Nov 2026 12:00 — used 1:30 of 2:00, 0:30 left — met",
        "- Resolution: due Mon 30 Nov 2026 11:00 — used 1:30 of 50:00, 48:30 left — paused — waiting for you",
    ]
    harness.say(BRAM_EMAIL, POLDER_ROOM, "/sla INC-1001")
    harness.run()
    assert harness.bot_messages(POLDER_ROOM)[-1]["markdown"] == "There is no ticket **INC-1001**."


def test_a_member_of_the_staff_space_without_a_staff_role_reads_no_clocks(harness):
    # Once anyone in the staff space read any organisation's clocks with /sla INC-… (while /ticket refused).
    from sandbox.demo import DESK_ORG, SANNE_EMAIL, STAFF_ROOM

    harness.seed_directory()
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.run()
    harness.state.add_person("intern@iot-desk.example", "Iris Intern", org=DESK_ORG)
    harness.add_member(STAFF_ROOM, "intern@iot-desk.example")
    for text, refusal in (
        (
            "/sla INC-1001",
            "Only someone with the **admin or agent or engineer or problem-manager** role can use `/sla <number>`.",
        ),
        ("/ticket INC-1001", "Only someone with the **agent** role can use `/ticket`."),
    ):
        harness.say("intern@iot-desk.example", STAFF_ROOM, text)
        harness.run()
        assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"] == refusal
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/language nl")
    harness.say("intern@iot-desk.example", STAFF_ROOM, "/sla INC-1001")
    harness.run()
    assert (
        harness.bot_messages(STAFF_ROOM)[-1]["markdown"]
        == "Alleen iemand met de rol **admin or agent or engineer or problem-manager** kan `/sla <number>` gebruiken."
    )
    harness.say(SANNE_EMAIL, STAFF_ROOM, "/sla INC-1001")
    harness.run()
    assert harness.bot_messages(STAFF_ROOM)[-1]["markdown"].startswith("**INC-1001** (nieuw) — SLA-klokken")
