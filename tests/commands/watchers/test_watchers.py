"""Watchers (the incident form's "also inform" addresses) get the registration, the resolution and
the closure in a 1:1 message from the bot; an address Webex cannot reach is noted once on the
ticket's timeline and sent nothing more (SPEC §6)."""

from sqlalchemy import func, select

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BRAM_EMAIL, POLDER_ROOM, SANNE_EMAIL, STAFF_ROOM
from storage import directory
from storage.models.directory import AuditEntry
from storage.models.runtime import OutboxMessage
from storage.models.tickets import Ticket
from tests.harness import answer, ask, local, tick

JOOST_EMAIL = "joost@acme-logistics.example"
KEES_EMAIL = "kees@polder-energy.example"
NOBODY_EMAIL = "nobody@elsewhere.example"  # no Webex account: Webex answers 404


def _report(harness, watchers, email=ANNA_EMAIL, room=ACME_ROOM, title="Modems offline in Utrecht"):
    asked = ask(harness, email, room, "/incident")
    harness.press(
        email,
        asked,
        {
            "action": "ticket.create",
            "kind": "incident",
            "service": "M2M",
            "title": title,
            "contact_name": "Anna",
            "email": email,
            "priority": "P3",
            "watchers": watchers,
        },
    )
    harness.run()


def _resolve(harness, number="INC-1001"):
    form = ask(harness, SANNE_EMAIL, STAFF_ROOM, f"/resolve {number}")
    harness.press(
        SANNE_EMAIL,
        form,
        {
            "action": "ticket.resolve",
            "ticket": number,
            "cause": "A power cut at the mast",
            "resolution": "Power restored",
        },
    )
    harness.run()


def _told(harness, email):
    return [m["markdown"] for m in harness.direct_messages(email)]


def _sent_to(db, email):
    with db.scope() as s:
        return [
            row.status
            for row in s.scalars(
                select(OutboxMessage).where(OutboxMessage.to_person_email == email).order_by(OutboxMessage.id)
            )
        ]


def _notes(db, number="INC-1001"):
    with db.scope() as s:
        return [
            e.new["text"]
            for e in directory.timeline(s, subject_type="ticket", subject=number)
            if e.action == "watcher unreachable"
        ]


def test_watchers_hear_of_the_registration_the_resolution_and_the_closure(harness, db):
    harness.state.add_person(JOOST_EMAIL, "Joost Smit", org="Acme Logistics")  # a colleague outside the space
    # Anna names herself too: the thread is hers, she gets no 1:1 copy.
    _report(harness, f"{JOOST_EMAIL.upper()}, {ANNA_EMAIL}")
    with db.scope() as s:
        assert s.scalars(select(Ticket)).one().details["watchers"] == [JOOST_EMAIL, ANNA_EMAIL]
    assert _told(harness, JOOST_EMAIL) == [
        "**INC-1001** — incident registered for Acme Logistics by Anna de Vries: Modems offline in Utrecht\n"
        "- Service: M2M\n"
        "- Priority: P3\n\n"
        "You were named to be kept informed: you will hear here when it is resolved and when it is closed."
    ]
    assert _sent_to(db, ANNA_EMAIL) == []

    _resolve(harness)
    assert _told(harness, JOOST_EMAIL)[-1] == (
        "**INC-1001** (Acme Logistics) is resolved: Modems offline in Utrecht\n"
        "- Cause: A power cut at the mast\n"
        "- Resolution: Power restored\n\n"
        "The customer is asked to confirm the resolution."
    )
    answer(harness, ANNA_EMAIL, ACME_ROOM, "/confirm INC-1001")
    assert _told(harness, JOOST_EMAIL)[-1] == (
        "**INC-1001** (Acme Logistics) is closed: Modems offline in Utrecht\n"
        "- Cause: A power cut at the mast\n"
        "- Resolution: Power restored\n\n"
        "The customer confirmed the resolution."
    )
    assert len(_told(harness, JOOST_EMAIL)) == 3 and _sent_to(db, JOOST_EMAIL) == ["sent"] * 3


def test_an_address_webex_cannot_reach_is_noted_once_and_sent_nothing_more(harness, db):
    harness.state.add_person(JOOST_EMAIL, "Joost Smit", org="Acme Logistics")
    _report(harness, f"{NOBODY_EMAIL}; {JOOST_EMAIL}")
    assert _sent_to(db, NOBODY_EMAIL) == ["failed"]  # Webex: 404, no one-on-one conversation
    # Resolved before the failure's listener ran: the resolution to that address is tried (and fails) too.
    _resolve(harness)
    assert _sent_to(db, NOBODY_EMAIL) == ["failed", "failed"]
    tick(harness, harness.clock.now())  # the two failures' listeners
    assert _notes(db) == ["nobody@elsewhere.example: 404 Failed to get one on one conversation"]
    # From now on the address is skipped: the closure goes to Joost only, and nothing is noted again.
    answer(harness, ANNA_EMAIL, ACME_ROOM, "/confirm INC-1001")
    tick(harness, harness.clock.now())
    assert _sent_to(db, NOBODY_EMAIL) == ["failed", "failed"]
    assert len(_notes(db)) == 1
    assert [m.split("\n")[0] for m in _told(harness, JOOST_EMAIL)] == [
        "**INC-1001** — incident registered for Acme Logistics by Anna de Vries: Modems offline in Utrecht",
        "**INC-1001** (Acme Logistics) is resolved: Modems offline in Utrecht",
        "**INC-1001** (Acme Logistics) is closed: Modems offline in Utrecht",
    ]
    view = answer(harness, SANNE_EMAIL, STAFF_ROOM, "/ticket INC-1001")
    assert r"watcher unreachable: nobody@elsewhere\.example: 404 Failed to get one on one conversation" in view
    # Nobody in the spaces was bothered with it.
    assert not any(
        "nobody" in m["markdown"] for m in harness.bot_messages(STAFF_ROOM)[:-1] + harness.bot_messages(ACME_ROOM)
    )


def test_in_dutch_and_closed_by_the_two_two_two_method_at_its_instant(harness, db):
    harness.state.add_person(KEES_EMAIL, "Kees de Boer", org="Polder Energy")
    answer(harness, BRAM_EMAIL, POLDER_ROOM, "/language nl")
    harness.clock.set(local(2026, 11, 23, 9, 0))
    _report(harness, KEES_EMAIL, BRAM_EMAIL, POLDER_ROOM, "Gateway stil")
    assert _told(harness, KEES_EMAIL) == [
        "**INC-1001** — incident geregistreerd voor Polder Energy door Bram Jansen: Gateway stil\n"
        "- Dienst: M2M\n"
        "- Prioriteit: P3\n\n"
        "Je bent opgegeven om op de hoogte te blijven: je hoort hier wanneer het is opgelost en wanneer het is gesloten."
    ]
    harness.clock.set(local(2026, 11, 23, 11, 0))
    _resolve(harness)
    assert _told(harness, KEES_EMAIL)[-1] == (
        "**INC-1001** (Polder Energy) is opgelost: Gateway stil\n"
        "- Oorzaak: A power cut at the mast\n"
        "- Oplossing: Power restored\n\n"
        "De klant wordt gevraagd de oplossing te bevestigen."
    )
    # No answer: reminders after 2 and 4 business days, closed after 6: Tuesday 1 December 11:00.
    tick(harness, local(2026, 11, 25, 11, 0))
    tick(harness, local(2026, 11, 27, 11, 0))
    tick(harness, local(2026, 12, 1, 10, 59))
    assert len(_told(harness, KEES_EMAIL)) == 2
    tick(harness, local(2026, 12, 1, 11, 0))
    assert _told(harness, KEES_EMAIL)[-1] == (
        "**INC-1001** (Polder Energy) is gesloten: Gateway stil\n"
        "- Oorzaak: A power cut at the mast\n"
        "- Oplossing: Power restored\n\n"
        "De klant heeft niet gereageerd op de vragen om de oplossing te bevestigen."
    )
    assert len(_told(harness, KEES_EMAIL)) == 3


def test_a_watcher_who_set_a_language_is_told_in_it(harness, db):
    harness.state.add_person(JOOST_EMAIL, "Joost Smit", org="Acme Logistics")
    harness.say_direct(JOOST_EMAIL, "/language nl")
    harness.run()
    _report(harness, JOOST_EMAIL)
    assert _told(harness, JOOST_EMAIL)[-1].startswith(
        "**INC-1001** — incident geregistreerd voor Acme Logistics door Anna de Vries"
    )


def test_bad_addresses_are_refused_and_nothing_is_registered_or_sent(harness, db):
    harness.state.add_person(JOOST_EMAIL, "Joost Smit", org="Acme Logistics")
    with db.scope() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    for watchers in (f"{JOOST_EMAIL}, not-an-address", ", ".join(f"w{n}@acme-logistics.example" for n in range(21))):
        _report(harness, watchers)
        assert harness.bot_messages(ACME_ROOM)[-1]["markdown"] == (
            "Nothing was registered:\n- Give at most 20 valid e-mail addresses to inform."
        )
    assert answer(
        harness, ANNA_EMAIL, ACME_ROOM, f"/incident service=M2M watchers={JOOST_EMAIL},joost@ Modems offline"
    ) == ("Nothing was registered:\n- Give at most 20 valid e-mail addresses to inform.")
    with db.scope() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
        assert (
            s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_person_email.is_not(None)))
            == 0
        )


def test_inline_watchers(harness, db):
    harness.state.add_person(JOOST_EMAIL, "Joost Smit", org="Acme Logistics")
    answer(harness, ANNA_EMAIL, ACME_ROOM, f"/incident service=M2M watchers={JOOST_EMAIL} Modems offline")
    assert _told(harness, JOOST_EMAIL)[0].startswith(
        "**INC-1001** — incident registered for Acme Logistics by Anna de Vries"
    )


def test_the_longest_texts_reach_a_watcher_within_webexs_sizes(harness, db):
    from tests.commands.test_card_sizes import _check_everything_sent_fits, fill

    harness.state.add_person(JOOST_EMAIL, "Joost Smit", org="Acme Logistics")
    _report(harness, JOOST_EMAIL, title=fill("punctuation", 200))
    form = ask(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve INC-1001")
    harness.press(
        SANNE_EMAIL,
        form,
        {
            "action": "ticket.resolve",
            "ticket": "INC-1001",
            "cause": fill("punctuation", 4000),
            "resolution": fill("multibyte", 4000),
        },
    )
    harness.run()
    answer(harness, ANNA_EMAIL, ACME_ROOM, "/confirm INC-1001")
    _check_everything_sent_fits(harness, db)
    told = "".join(_told(harness, JOOST_EMAIL))
    assert fill("multibyte", 4000) in told and told.count("(Acme Logistics) is closed:") == 1
