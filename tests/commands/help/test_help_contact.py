"""/help for one command and /contact, through the whole path."""

import pytest

from bot.config import ConfigError, load_settings
from sandbox.demo import ACME_ROOM, ANNA_EMAIL
from tests.shipped import RULES as SHIPPED

pytestmark = pytest.mark.bare


def _ask(harness, text: str) -> str:
    harness.say(ANNA_EMAIL, ACME_ROOM, text)
    harness.run()
    return harness.bot_messages(ACME_ROOM)[-1]["markdown"]


def test_help_for_one_command(harness):
    assert _ask(harness, "/help sla") == (
        "`/sla P2 2026-01-09 17:00 | /sla INC-1001` — the SLA deadlines of a ticket, "
        "or of a P1/P2/P3, RFC, RFI or complaint opened at a given time"
    )


def test_help_for_an_unknown_command(harness):
    assert (
        _ask(harness, "/help frobnicate")
        == "I don't know the command **frobnicate**. Type `/help` to see what you can do here."
    )


def test_help_for_a_command_that_needs_a_role(harness):
    router = harness.runtime.router

    @router.command("test staffonly", roles=frozenset({"agent"}), summary="cmd.ping")
    def staff_only(ctx, args):  # pragma: no cover - never allowed here
        raise AssertionError

    try:
        assert _ask(harness, "/help test staffonly") == "`/test staffonly` is for someone with the **agent** role."
    finally:
        del router.commands[("test", "staffonly")]


def test_contact(harness):
    # A space bound to no organisation: the desk's own office hours and closed days (DESK_FILE's calendar).
    reply = _ask(harness, "/contact")
    assert reply.splitlines() == [
        "**IoT Service Desk**",
        "- Phone: [+31 88 1200 043](tel:+31881200043)",
        "- E-mail: iotservicedesk@kpn.com",
        "- Portal: https://portal.example.net/iot",
        "- Office hours: Mon–Fri 08:00–18:00 (Amsterdam time), except the closed days below",
        "- Outside office hours only P1 incidents are handled: report the ticket and call [+31 88 1200 043](tel:+31881200043).",
        "",
        "**Closed days in 2026** — only P1 incidents are handled",
        "- Thu 1 Jan: New Year's Day",
        "- Sun 5 Apr: Easter Sunday",
        "- Mon 6 Apr: Easter Monday",
        "- Mon 27 Apr: King's Day",
        "- Thu 14 May: Ascension Day",
        "- Sun 24 May: Whit Sunday",
        "- Mon 25 May: Whit Monday",
        "- Fri 25 Dec: Christmas Day",
        "- Sat 26 Dec: Boxing Day",
        "",
        "**Escalation** — always start at level 1; every level can be reached 24/7.",
        "1. IoT Service Desk — Team Member — [+31 88 1200 043](tel:+31881200043)",
        "2. IoT Team Operations — Team Member — [+31 88 1200 000](tel:+31881200000), pin 1261",
        "3. VP Operations IoT — Richard van der Wel — [+31 6 4640 4963](tel:+31646404963)",
    ]


def test_contact_takes_no_arguments(harness):
    assert _ask(harness, "/contact now").startswith("This command takes no arguments.")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[contact]\nname = "Desk"\n', "needs phone"),
        (
            '[contact]\nname="D"\nphone="088 1200 043"\nemail="a@b.c"\nportal="https://x"\noffice_hours="iot-office"\n'
            '[[escalation]]\nlevel=1\nrole="r"\nname="n"\nphone="+31 88 1"\n[[services]]\ncode="M2M"\nname="M2M"\n',
            "must be international",
        ),
        (
            '[contact]\nname="D"\nphone="+31 88 1200 043"\nemail="a@b.c"\nportal="https://x"\noffice_hours="iot-office"\n'
            '[[services]]\ncode="M2M"\nname="M2M"\n',
            "escalation matrix is empty",
        ),
    ],
)
def test_bad_desk_file_stops_start_up(tmp_path, text, message):
    path = tmp_path / "desk.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"DESK_FILE: .*{message}"):
        load_settings({"DESK_FILE": str(path)}, cwd=tmp_path)


def test_services_catalogue():
    assert [s.code for s in SHIPPED.desk.services] == ["M2M", "Things", "LoRa", "DSH", "Other"]
    assert SHIPPED.desk.service("dsh").name == "Data Services Hub"
