"""Each organisation's own terms, from its SLA profile: /contact, the out-of-hours answer of a new
ticket, the change types and lead times of the RFC form, the maintenance window of `een`, and a
fourth profile added by configuration alone."""

import pytest
from sqlalchemy import func, select

from rules.calendar_config import DEFAULT_FILE
from sandbox.demo import ACME_ORG, ACME_ROOM, ANNA_EMAIL, BRAM_EMAIL, POLDER_ROOM, SANNE_EMAIL, STAFF_ROOM
from storage import directory
from storage.models.operations import Maintenance
from storage.models.runtime import OutboxMessage
from storage.models.tickets import Ticket
from tests.harness import answer as _do
from tests.harness import ask as _said
from tests.harness import local
from tests.harness import tick as _at
from tests.shipped import load_levels

PHONE = "[+31 88 1200 043](tel:+31881200043)"


def _use_profile(harness, profile, org=ACME_ORG):
    with harness.runtime.db.scope() as s:
        directory.find_org(s, name=org).sla_profile = profile


def _count(db, model):
    with db.scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def _root(harness, room):
    """The latest ticket confirmation in a space: the root of its thread."""
    return [
        m
        for m in harness.bot_messages(room)
        if m.get("parentId") is None
        and ("registered" in m["markdown"].split("\n")[0] or "geregistreerd" in m["markdown"].split("\n")[0])
    ][-1]


def _ticket(db, number):
    with db.scope() as s:
        return s.scalars(select(Ticket).where(Ticket.number == number)).one()


def _contact_terms(reply):
    """The lines of /contact between the portal and the escalation matrix: the organisation's own terms."""
    lines = reply.splitlines()
    return lines[
        4 : lines.index(next(line for line in lines if line.startswith(("**Escalation**", "**Escalatie**")))) - 1
    ]


# -- /contact ------------------------------------------------------------------------------------------


def test_contact_in_an_iot_space_gives_its_office_hours_and_this_years_closed_days(harness):
    harness.clock.set(local(2026, 11, 23, 10, 0))
    assert _contact_terms(_do(harness, ANNA_EMAIL, ACME_ROOM, "/contact")) == [
        "- Office hours: Mon–Fri 08:00–18:00 (Amsterdam time), except the closed days below",
        f"- Outside office hours only P1 incidents are handled: report the ticket and call {PHONE}.",
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
    ]


def test_contact_of_a_partner_customer_in_dutch_names_liberation_day_in_the_years_it_is_closed(harness):
    _use_profile(harness, "partner")
    harness.clock.set(local(2025, 6, 2, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/language nl")
    assert _contact_terms(_do(harness, ANNA_EMAIL, ACME_ROOM, "/contact")) == [
        "- Kantooruren: ma–vr 09:00–17:00 (Nederlandse tijd), behalve op de gesloten dagen hieronder",
        f"- Buiten kantooruren worden alleen P1-incidenten behandeld: meld het ticket en bel {PHONE}.",
        "",
        "**Gesloten dagen in 2025** — alleen P1-incidenten worden behandeld",
        "- wo 1 jan: Nieuwjaarsdag",
        "- zo 20 apr: Eerste Paasdag",
        "- ma 21 apr: Tweede Paasdag",
        "- za 26 apr: Koningsdag",
        "- ma 5 mei: Bevrijdingsdag",
        "- do 29 mei: Hemelvaartsdag",
        "- zo 8 jun: Eerste Pinksterdag",
        "- ma 9 jun: Tweede Pinksterdag",
        "- do 25 dec: Eerste Kerstdag",
        "- vr 26 dec: Tweede Kerstdag",
    ]
    # The same customer a year on: this year's days, and 5 May is a working day in 2026.
    harness.clock.set(local(2026, 1, 5, 10, 0))
    terms = _contact_terms(_do(harness, ANNA_EMAIL, ACME_ROOM, "/contact"))
    assert terms[3] == "**Gesloten dagen in 2026** — alleen P1-incidenten worden behandeld"
    assert not any("mei: Bevrijdingsdag" in line for line in terms)
    assert len(terms) == 4 + 9


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            [
                "- Service hours: around the clock, every day of the year",
                "- Maintenance window: every day 00:00–07:00 (Amsterdam time); planned work on your services is done only then",
            ],
        ),
        (
            "nl",
            [
                "- Servicetijden: dag en nacht, elke dag van het jaar",
                "- Onderhoudsvenster: elke dag 00:00–07:00 (Nederlandse tijd); gepland onderhoud aan je diensten gebeurt alleen dan",
            ],
        ),
    ],
)
def test_contact_of_an_een_customer_is_around_the_clock_with_its_maintenance_window(harness, lang, expected):
    _use_profile(harness, "een")
    _do(harness, ANNA_EMAIL, ACME_ROOM, f"/language {lang}")
    assert _contact_terms(_do(harness, ANNA_EMAIL, ACME_ROOM, "/contact")) == expected
    # Another organisation's space keeps its own (iot) terms.
    assert _contact_terms(_do(harness, BRAM_EMAIL, POLDER_ROOM, "/contact"))[0] == (
        "- Office hours: Mon–Fri 08:00–18:00 (Amsterdam time), except the closed days below"
    )


# -- the out-of-hours answer of a new ticket ------------------------------------------------------------


OFFICE = "An agent will pick this up; you will hear from us in this thread."


def _out_of_hours(when):
    return (
        f"It is outside office hours: your ticket is registered and we pick it up from {when}. "
        f"Only P1 incidents are handled now (call {PHONE})."
    )


@pytest.mark.parametrize(
    ("profile", "instant", "expected"),
    [
        ("partner", local(2026, 11, 23, 8, 59), _out_of_hours("Mon 23 Nov 2026 09:00")),
        ("partner", local(2026, 11, 23, 9, 0), OFFICE),
        ("iot", local(2026, 11, 23, 8, 59), OFFICE),
        ("partner", local(2026, 11, 23, 16, 59), OFFICE),
        ("partner", local(2026, 11, 23, 17, 0), _out_of_hours("Tue 24 Nov 2026 09:00")),
        ("iot", local(2026, 11, 23, 17, 0), OFFICE),
        ("iot", local(2026, 11, 23, 18, 0), _out_of_hours("Tue 24 Nov 2026 08:00")),
        # Christmas: the iot desk opens again on Monday; an een customer is served around the clock.
        ("iot", local(2026, 12, 25, 3, 0), _out_of_hours("Mon 28 Dec 2026 08:00")),
        ("een", local(2026, 12, 25, 3, 0), OFFICE),
    ],
)
def test_a_new_ticket_is_picked_up_within_the_organisations_own_office_hours(harness, profile, instant, expected):
    _use_profile(harness, profile)
    harness.clock.set(instant)
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.run()
    assert _root(harness, ACME_ROOM)["markdown"].splitlines()[-1] == expected


def test_the_out_of_hours_answer_in_dutch_follows_the_partner_hours(harness):
    _use_profile(harness, "partner")
    harness.clock.set(local(2026, 11, 23, 8, 59))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/language nl")
    harness.say(ANNA_EMAIL, ACME_ROOM, "/rfi service=M2M Hoe lang duurt een nummerbehoud?")
    harness.run()
    assert _root(harness, ACME_ROOM)["markdown"].splitlines()[-1] == (
        "Het is buiten kantooruren: je ticket is geregistreerd en we pakken het op vanaf ma 23 nov 2026 09:00. "
        f"Nu worden alleen P1-incidenten behandeld (bel {PHONE})."
    )


# -- RFC types and lead times ---------------------------------------------------------------------------


def _rfc_type_field(message):
    body = message["attachments"][0]["content"]["body"]
    return next(field for field in body if field.get("id") == "rfc_type")


@pytest.mark.parametrize(
    ("profile", "lang", "choices"),
    [
        (
            "een",
            "en",
            [
                ("Standard software change, no extra licences or hardware — 1 business day", "software"),
                ("Software change with extra licences, no hardware — 2 business days", "licences"),
                ("Software change with extra licences and hardware — 5 business days", "licences-hardware"),
                ("Extra hardware without licences — 5 business days", "hardware"),
            ],
        ),
        (
            "een",
            "nl",
            [
                ("Standaard softwarematige wijziging zonder extra licenties of hardware — 1 werkdag", "software"),
                ("Softwarematige wijziging met extra licenties, zonder hardware — 2 werkdagen", "licences"),
                ("Softwarematige wijziging met extra licenties en hardware — 5 werkdagen", "licences-hardware"),
                ("Extra hardware zonder licenties — 5 werkdagen", "hardware"),
            ],
        ),
        ("iot", "en", [("Standard", "standard"), ("Non-standard", "non-standard")]),
        ("partner", "nl", [("Standaard", "standard"), ("Niet-standaard", "non-standard")]),
    ],
)
def test_the_rfc_form_offers_the_profiles_change_types(harness, profile, lang, choices):
    _use_profile(harness, profile)
    _do(harness, ANNA_EMAIL, ACME_ROOM, f"/language {lang}")
    field = _rfc_type_field(_said(harness, ANNA_EMAIL, ACME_ROOM, "/rfc Extra users"))
    assert [(c["title"], c["value"]) for c in field["choices"]] == choices
    assert field["value"] == choices[0][1]


@pytest.mark.parametrize(
    ("rfc_type", "due"),
    [
        ("software", "Mon 30 Nov 2026 10:00"),
        ("licences", "Tue 1 Dec 2026 10:00"),
        ("licences-hardware", "Fri 4 Dec 2026 10:00"),
        ("hardware", "Fri 4 Dec 2026 10:00"),
    ],
)
def test_an_een_change_is_due_after_its_types_lead_time(harness, db, rfc_type, due):
    _use_profile(harness, "een")
    harness.clock.set(local(2026, 11, 27, 10, 0))  # a Friday
    asked = _said(harness, ANNA_EMAIL, ACME_ROOM, "/rfc")
    harness.press(
        ANNA_EMAIL,
        asked,
        {
            "action": "ticket.create",
            "kind": "rfc",
            "rfc_type": rfc_type,
            "service": "Things",
            "title": "Five more seats",
            "description": "For the new office",
        },
    )
    harness.run()
    assert f"- Resolution: {due} — running" in _root(harness, ACME_ROOM)["markdown"].splitlines()
    assert _ticket(db, "RFC-1001").details["rfc_type"] == rfc_type


def test_the_next_business_day_of_a_software_change_skips_christmas_and_the_breach_warns_at_that_instant(harness):
    _use_profile(harness, "een")
    harness.clock.set(local(2026, 12, 24, 14, 30))
    harness.say(ANNA_EMAIL, ACME_ROOM, '/rfc type=software service=Things description="Two more seats" More seats')
    harness.run()
    assert "- Resolution: Mon 28 Dec 2026 14:30 — running" in _root(harness, ACME_ROOM)["markdown"].splitlines()

    def breaches() -> list[str]:
        return [
            m["markdown"].splitlines()[0] for m in harness.bot_messages(STAFF_ROOM) if m["markdown"].startswith("🚨")
        ]

    _at(harness, local(2026, 12, 28, 14, 29))
    assert breaches() == []
    _at(harness, local(2026, 12, 28, 14, 30))
    assert breaches() == ["🚨 RFC-1001: Resolution breached — it was due Mon 28 Dec 2026 14:30."]


@pytest.mark.parametrize(
    ("lang", "refusal"),
    [
        (
            "en",
            "Nothing was registered:\n- Choose one of the types of change: software, licences, licences-hardware, hardware.",
        ),
        (
            "nl",
            "Er is niets geregistreerd:\n- Kies een van de soorten wijziging: software, licences, licences-hardware, hardware.",
        ),
    ],
)
def test_a_change_type_the_profile_does_not_offer_is_refused(harness, db, lang, refusal):
    _use_profile(harness, "een")
    _do(harness, ANNA_EMAIL, ACME_ROOM, f"/language {lang}")
    assert (
        _do(harness, ANNA_EMAIL, ACME_ROOM, '/rfc type=non-standard service=Things description="x" More seats')
        == refusal
    )
    asked = _said(harness, ANNA_EMAIL, ACME_ROOM, "/rfc")
    harness.press(
        ANNA_EMAIL,
        asked,
        {
            "action": "ticket.create",
            "kind": "rfc",
            "rfc_type": "standard",
            "service": "Things",
            "title": "More seats",
            "description": "x",
        },
    )
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"] == refusal
    assert _count(db, Ticket) == 0


# -- the een maintenance window ------------------------------------------------------------------------


def _announce(harness, start, end, services="M2M", extra=""):
    return _do(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        f'/maintenance announce services={services} start="{start}" end="{end}" impact="Short interruptions" {extra}',
    )


def _refusal(start, end):
    return (
        "Planned maintenance must fall inside the maintenance window of every organisation that uses these services; "
        f"{start} to {end} does not for:\n- Acme Logistics: every day 00:00–07:00 (Amsterdam time)\n"
        "Plan it inside the window, or mark it ad-hoc with a reason."
    )


@pytest.mark.parametrize(
    ("start", "end", "accepted"),
    [
        ("2026-12-08 00:00", "2026-12-08 07:00", True),
        ("2026-12-08 06:00", "2026-12-08 07:01", False),
        ("2026-12-07 23:59", "2026-12-08 01:00", False),
        ("2026-12-08 01:00", "2026-12-09 05:00", False),  # two nights and the day between
    ],
)
def test_planned_work_for_an_een_customer_must_fall_inside_its_window(harness, db, start, end, accepted):
    _use_profile(harness, "een")
    harness.clock.set(local(2026, 11, 23, 10, 0))
    reply = _announce(harness, start, end)
    if accepted:
        assert reply == "**MNT-1001** announced to 2 spaces."
        return
    wall = {
        "2026-12-08 00:00": "Tue 8 Dec 2026 00:00",
        "2026-12-08 06:00": "Tue 8 Dec 2026 06:00",
        "2026-12-08 07:01": "Tue 8 Dec 2026 07:01",
        "2026-12-07 23:59": "Mon 7 Dec 2026 23:59",
        "2026-12-08 01:00": "Tue 8 Dec 2026 01:00",
        "2026-12-09 05:00": "Wed 9 Dec 2026 05:00",
    }
    assert reply == _refusal(wall[start], wall[end])
    assert _count(db, Maintenance) == 0
    assert not any("MNT-" in m["markdown"] for m in harness.bot_messages(ACME_ROOM) + harness.bot_messages(POLDER_ROOM))
    # The same work, ad hoc with a reason, goes ahead.
    assert (
        _announce(harness, start, end, extra='adhoc=true reason="Security patch"')
        == "**MNT-1001** announced to 2 spaces."
    )


def test_the_window_counts_only_for_services_the_een_customer_uses(harness):
    _use_profile(harness, "een")
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe M2M")
    # LoRa work in the afternoon: Acme does not use LoRa, Polder (iot) has no window.
    assert (
        _announce(harness, "2026-12-08 13:00", "2026-12-08 15:00", services="LoRa")
        == "**MNT-1001** announced to 1 spaces."
    )
    assert _announce(harness, "2026-12-08 13:00", "2026-12-08 15:00", services="M2M") == _refusal(
        "Tue 8 Dec 2026 13:00", "Tue 8 Dec 2026 15:00"
    )


def test_moving_or_widening_planned_work_outside_the_window_is_refused_and_changes_nothing(harness, db):
    _use_profile(harness, "een")
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe M2M")
    assert (
        _announce(harness, "2026-12-08 13:00", "2026-12-08 15:00", services="LoRa")
        == "**MNT-1001** announced to 1 spaces."
    )
    sent = _count(db, OutboxMessage)
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/maintenance scope MNT-1001 LoRa M2M") == _refusal(
        "Tue 8 Dec 2026 13:00", "Tue 8 Dec 2026 15:00"
    )
    assert _announce(harness, "2026-12-08 02:00", "2026-12-08 04:00") == "**MNT-1002** announced to 2 spaces."
    assert _do(
        harness, SANNE_EMAIL, STAFF_ROOM, '/maintenance reschedule MNT-1002 "2026-12-08 06:30" "2026-12-08 08:00"'
    ) == _refusal("Tue 8 Dec 2026 06:30", "Tue 8 Dec 2026 08:00")
    with db.scope() as s:
        rows = {m.number: (m.services, m.starts_at, m.ends_at) for m in s.scalars(select(Maintenance))}
    assert rows == {
        "MNT-1001": (["LoRa"], local(2026, 12, 8, 13, 0), local(2026, 12, 8, 15, 0)),
        "MNT-1002": (["M2M"], local(2026, 12, 8, 2, 0), local(2026, 12, 8, 4, 0)),
    }
    # Only the refusals and MNT-1002's announcement were sent since: no notice of a change.
    assert _count(db, OutboxMessage) == sent + 5
    assert _do(
        harness, SANNE_EMAIL, STAFF_ROOM, '/maintenance reschedule MNT-1002 "2026-12-09 01:00" "2026-12-09 06:59"'
    ) == ("**MNT-1002** rescheduled; 2 spaces told.")


def test_the_window_refusal_in_dutch(harness):
    _use_profile(harness, "een")
    harness.clock.set(local(2026, 11, 23, 10, 0))
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/language nl")
    assert _announce(harness, "2026-12-08 06:00", "2026-12-08 08:00") == (
        "Gepland onderhoud moet binnen het onderhoudsvenster vallen van elke organisatie die deze diensten gebruikt; "
        "di 8 dec 2026 06:00 tot di 8 dec 2026 08:00 doet dat niet voor:\n- Acme Logistics: elke dag 00:00–07:00 (Nederlandse tijd)\n"
        "Plan het binnen het venster, of markeer het als ad-hoc met een reden."
    )


# -- a fourth profile, from configuration alone ---------------------------------------------------------


GOLD = """
[calendars.gold-office]
zone = "Europe/Amsterdam"
hours = { mon = "07:00-19:00", tue = "07:00-19:00", wed = "07:00-19:00", thu = "07:00-19:00", fri = "07:00-19:00", sat = "07:00-19:00" }
holidays = "NL"
closed_holidays = ["New Year's Day", "Christmas Day"]
closed_dates = ["2026-12-31"]

[calendars.gold-night]
zone = "Europe/Amsterdam"
hours = { sat = "22:00-24:00", sun = "00:00-06:00" }

[profiles.gold]
description = "A fourth profile"
office_hours = "gold-office"
maintenance_window = "gold-night"

[[profiles.gold.incident.P3]]
target = "resolution"
budget = "12bh"
calendar = "gold-office"

[[profiles.gold.rfc]]
target = "resolution"
budget = "3bd"
calendar = "gold-office"

[[profiles.gold.rfc_types]]
id = "express"
lead_time = "4bh"
title = { en = "Express change", nl = "Spoedwijziging" }

[[profiles.gold.rfc_types]]
id = "standard"
"""


@pytest.fixture
def gold(tmp_path, harness):
    """The shipped service levels plus a `gold` profile with its own calendars, in a file of its own."""
    path = tmp_path / "service_levels.toml"
    path.write_text(DEFAULT_FILE.read_text() + GOLD)
    harness.runtime.rules = load_levels(str(path))


def test_a_fourth_profile_from_toml_alone(harness, db, gold):
    _use_profile(harness, "gold")
    # Its maintenance window: Saturday night into Sunday morning is inside, Sunday 06:00 is not.
    harness.clock.set(local(2026, 11, 23, 10, 0))
    assert _announce(harness, "2026-12-12 23:00", "2026-12-13 06:00") == "**MNT-1001** announced to 2 spaces."
    assert _announce(harness, "2026-12-12 23:00", "2026-12-13 06:01") == (
        "Planned maintenance must fall inside the maintenance window of every organisation that uses these services; "
        "Sat 12 Dec 2026 23:00 to Sun 13 Dec 2026 06:01 does not for:\n"
        "- Acme Logistics: Sat 22:00–24:00; Sun 00:00–06:00 (Amsterdam time)\n"
        "Plan it inside the window, or mark it ad-hoc with a reason."
    )
    harness.clock.set(local(2026, 12, 5, 18, 59))  # a Saturday, inside gold's office hours
    terms = _contact_terms(_do(harness, ANNA_EMAIL, ACME_ROOM, "/contact"))
    assert terms == [
        "- Office hours: Mon–Sat 07:00–19:00 (Amsterdam time), except the closed days below",
        f"- Outside office hours only P1 incidents are handled: report the ticket and call {PHONE}.",
        "- Maintenance window: Sat 22:00–24:00; Sun 00:00–06:00 (Amsterdam time); planned work on your services is done only then",
        "",
        "**Closed days in 2026** — only P1 incidents are handled",
        "- Thu 1 Jan: New Year's Day",
        "- Fri 25 Dec: Christmas Day",
        "- Thu 31 Dec: closed",
    ]
    # Its office hours decide the intake answer: open on Saturday until 19:00.
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.run()
    assert _root(harness, ACME_ROOM)["markdown"].splitlines()[-1] == OFFICE
    assert "- Resolution: Mon 7 Dec 2026 18:59 — running" in _root(harness, ACME_ROOM)["markdown"].splitlines()
    harness.clock.set(local(2026, 12, 5, 19, 0))
    harness.say(ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline again")
    harness.run()
    assert _root(harness, ACME_ROOM)["markdown"].splitlines()[-1] == _out_of_hours("Mon 7 Dec 2026 07:00")
    # Its change types, one with a lead time of its own (4 office hours from Saturday 18:00: 1 on Saturday, 3 on Monday).
    harness.clock.set(local(2026, 12, 5, 18, 0))
    field = _rfc_type_field(_said(harness, ANNA_EMAIL, ACME_ROOM, "/rfc"))
    assert [(c["title"], c["value"]) for c in field["choices"]] == [
        ("Express change — 4 office hours", "express"),
        ("Standard", "standard"),
    ]
    harness.say(ANNA_EMAIL, ACME_ROOM, '/rfc type=express service=M2M description="Now" New APN')
    harness.run()
    assert "- Resolution: Mon 7 Dec 2026 10:00 — running" in _root(harness, ACME_ROOM)["markdown"].splitlines()
    harness.say(ANNA_EMAIL, ACME_ROOM, '/rfc type=standard service=M2M description="Later" Another APN')
    harness.run()
    assert "- Resolution: Wed 9 Dec 2026 18:00 — running" in _root(harness, ACME_ROOM)["markdown"].splitlines()
