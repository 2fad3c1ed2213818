"""Binding spaces, the staff space, roles, languages, the introduction and the rate limit, end to end."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sandbox.demo import (
    ACME_ROOM,
    ADA_EMAIL,
    ANNA_EMAIL,
    BRAM_EMAIL,
    ERIK_EMAIL,
    POLDER_ROOM,
    SANNE_EMAIL,
    STAFF_ROOM,
)
from storage import directory
from storage.models.directory import AuditEntry, Organisation, RoleGrant, SpaceRecord
from storage.models.runtime import OutboxMessage
from tests.harness import Harness


def _admin_visits_the_customer_spaces(h: Harness) -> None:
    """The admin visits the customer spaces to set them up."""
    for title in (ACME_ROOM, POLDER_ROOM):
        h.add_member(title, ADA_EMAIL)


pytestmark = [
    pytest.mark.bare,
    pytest.mark.admins(ADA_EMAIL),
    pytest.mark.prepare.with_args(_admin_visits_the_customer_spaces),
]


def _said(harness, email, room, text):
    harness.say(email, room, text)
    harness.run()
    return harness.bot_messages(room)[-1]


def _direct(harness, email, text):
    """Say `text` to the bot in the 1:1 space and return its answer there."""
    harness.say_direct(email, text)
    harness.run()
    return harness.direct_messages(email)[-1]["markdown"]


def _space(db, harness, title):
    with db.scope() as s:
        record = s.get(SpaceRecord, harness.room(title)["id"])
        return None if record is None else (record.kind, record.org_id)


def _count(db, model):
    with db.scope() as s:
        return s.scalar(select(func.count()).select_from(model))


# -- binding ----------------------------------------------------------------------------------------


def test_binding_to_a_new_org_asks_with_a_card_then_creates_and_binds(harness, db):
    asked = _said(harness, ADA_EMAIL, ACME_ROOM, "/space bind Acme Logistics")
    assert asked["markdown"] == "There is no organisation **Acme Logistics** yet. Create it and link this space to it?"
    card = asked["attachments"][0]["content"]
    assert [a["title"] for a in card["actions"]] == ["Create and link", "Cancel"]
    assert _count(db, Organisation) == 0  # nothing until confirmed

    harness.press(
        ADA_EMAIL,
        asked,
        {"action": "space.bind.confirm", "org": "Acme Logistics", "sla_profile": "partner", "language": "nl"},
    )
    harness.run()
    reply = harness.bot_messages(ACME_ROOM)[-1]
    assert reply["markdown"] == (
        "Organisatie **Acme Logistics** is aangemaakt (SLA-profiel partner) en deze space is eraan gekoppeld. "
        "De leden zijn klanten van Acme Logistics."
    )
    assert reply["parentId"] == asked["id"]
    with db.scope() as s:
        org = s.scalars(select(Organisation)).one()
        assert (org.name, org.sla_profile, org.language, org.created_by) == (
            "Acme Logistics",
            "partner",
            "nl",
            ADA_EMAIL,
        )
    assert _space(db, harness, ACME_ROOM) == ("customer", org.id)


def test_cancel_changes_nothing(harness, db):
    asked = _said(harness, ADA_EMAIL, ACME_ROOM, "/space bind Acme")
    harness.press(ADA_EMAIL, asked, {"action": "space.bind.cancel", "org": "Acme"})
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"] == "Nothing changed: this space is not linked."
    assert _count(db, Organisation) == 0 and _space(db, harness, ACME_ROOM) is None


def test_binding_to_an_existing_org_is_immediate_and_any_case(harness, db):
    harness.seed_directory()
    reply = _said(harness, ADA_EMAIL, STAFF_ROOM, "/space unbind")
    assert reply["markdown"] == "This space is no longer the staff space."
    reply = _said(harness, ADA_EMAIL, STAFF_ROOM, "/space bind   acme   LOGISTICS ")
    assert (
        reply["markdown"]
        == "This space is now linked to **Acme Logistics** (SLA profile iot). Its members are Acme Logistics's customers."
    )
    assert _count(db, Organisation) == 2


def test_a_customer_cannot_bind_and_the_refusal_names_the_role(harness, db):
    reply = _said(harness, ANNA_EMAIL, ACME_ROOM, "/space bind Acme")
    assert reply["markdown"] == "Only someone with the **admin** role can use `/space bind`."
    assert _count(db, Organisation) == 0


def test_a_customer_cannot_press_the_confirmation_either(harness, db):
    asked = _said(harness, ADA_EMAIL, ACME_ROOM, "/space bind Acme")
    harness.press(
        ANNA_EMAIL, asked, {"action": "space.bind.confirm", "org": "Acme", "sla_profile": "iot", "language": "en"}
    )
    harness.run()
    assert (
        harness.bot_messages(ACME_ROOM)[-1]["markdown"]
        == "Only someone with the **admin** role can use `/space.bind.confirm`."
    )
    assert _count(db, Organisation) == 0


def test_rebinding_and_binding_the_staff_space_are_refused(harness, db):
    harness.seed_directory()
    assert _said(harness, ADA_EMAIL, ACME_ROOM, "/space bind Polder Energy")["markdown"] == (
        "This space is linked to **Acme Logistics**. `/space unbind` first if it should belong to another organisation."
    )
    assert _said(harness, ADA_EMAIL, ACME_ROOM, "/space bind acme logistics")["markdown"] == (
        "This space is already linked to **Acme Logistics**."
    )
    assert _said(harness, ADA_EMAIL, STAFF_ROOM, "/space bind Acme Logistics")["markdown"] == (
        "This is the staff space; it cannot also be a customer space. `/space unbind` first."
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "Name the organisation, for example `/space bind ACME Logistics`."),
        ("x" * 5_000, "An organisation name can be at most 100 characters; this one has 5000."),
        ("<@all>", "An organisation name cannot contain control characters or angle brackets."),
        ("Acme\x07Bell", "An organisation name cannot contain control characters or angle brackets."),
    ],
)
def test_bad_org_names_are_refused(harness, db, name, expected):
    reply = _said(harness, ADA_EMAIL, ACME_ROOM, f"/space bind {name}")
    assert reply["markdown"].splitlines()[0] == expected
    assert _count(db, Organisation) == 0


def test_markup_in_an_org_name_is_shown_literally(harness):
    asked = _said(harness, ADA_EMAIL, ACME_ROOM, "/space bind [x](javascript:alert(1)) Acme * Co_op")
    assert asked["markdown"] == (
        r"There is no organisation **\[x\]\(javascript:alert\(1\)\) Acme \* Co\_op** yet. "
        "Create it and link this space to it?"
    )


def test_staff_space_moves(harness, db):
    harness.seed_directory()
    assert _said(harness, ADA_EMAIL, POLDER_ROOM, "/space staff")["markdown"] == (
        "This space is linked to **Polder Energy**; `/space unbind` first to make it the staff space."
    )
    room = harness.add_bot_to_new_room("New staff room", ADA_EMAIL)
    harness.run()
    assert _said(harness, ADA_EMAIL, "New staff room", "/space staff")["markdown"] == (
        "This is now the staff space: alerts, pages and triage come here instead of the previous staff space."
    )
    assert _space(db, harness, STAFF_ROOM)[0] == "unbound"
    assert _space(db, harness, "New staff room")[0] == "staff"
    with db.scope() as s:
        actions = [e.action for e in directory.timeline(s, subject_type="space", subject=room["id"])]
    assert actions == ["marked staff"]


def test_space_info(harness):
    harness.seed_directory()
    assert _said(harness, ANNA_EMAIL, ACME_ROOM, "/space info")["markdown"].splitlines() == [
        "**This space**",
        "- the customer space of **Acme Logistics**",
        "- SLA profile: iot",
        "- State: active",
        "- Language: English",
    ]
    assert _said(harness, SANNE_EMAIL, STAFF_ROOM, "/space info")["markdown"].splitlines()[1] == "- the staff space"


# -- roles -----------------------------------------------------------------------------------------------


def test_grant_list_and_revoke_with_an_audit_trail(harness, db, clock):
    harness.seed_directory()
    assert _said(harness, ADA_EMAIL, STAFF_ROOM, "/role grant Bram@Polder-Energy.example agent")["markdown"] == (
        r"bram@polder\-energy\.example now holds the **agent** role."
    )
    assert _said(harness, ADA_EMAIL, STAFF_ROOM, "/role grant bram@polder-energy.example agent")["markdown"] == (
        r"bram@polder\-energy\.example already holds the **agent** role."
    )
    roles = _said(harness, SANNE_EMAIL, STAFF_ROOM, "/roles")["markdown"].splitlines()
    assert roles == [
        "**Staff roles**",
        r"- ada@iot\-desk\.example: admin",
        r"- bram@polder\-energy\.example: agent",
        r"- erik@iot\-desk\.example: engineer",
        r"- fatima@iot\-desk\.example: problem-manager",
        r"- sanne@iot\-desk\.example: agent",
    ]
    clock.advance(timedelta(minutes=5))
    assert _said(harness, ADA_EMAIL, STAFF_ROOM, "/role revoke bram@polder-energy.example agent")["markdown"] == (
        r"bram@polder\-energy\.example no longer holds the **agent** role; it stops working from their next command."
    )
    with db.scope() as s:
        trail = [
            (e.action, e.actor, e.at, e.room_id) for e in directory.timeline(s, subject_type="role", subject=BRAM_EMAIL)
        ]
        grants = s.scalars(select(RoleGrant).where(RoleGrant.email == BRAM_EMAIL)).all()
    staff_room = harness.room(STAFF_ROOM)["id"]
    start = clock.now() - timedelta(minutes=5)
    assert trail == [("granted", ADA_EMAIL, start, staff_room), ("revoked", ADA_EMAIL, clock.now(), staff_room)]
    assert [(g.revoked_by, g.revoked_at) for g in grants] == [(ADA_EMAIL, clock.now())]


def test_a_revoked_role_stops_at_the_next_command(harness):
    harness.seed_directory()
    assert _said(harness, SANNE_EMAIL, STAFF_ROOM, "/roles")["markdown"].startswith("**Staff roles**")
    _said(harness, ADA_EMAIL, STAFF_ROOM, "/role revoke sanne@iot-desk.example agent")
    assert _said(harness, SANNE_EMAIL, STAFF_ROOM, "/roles")["markdown"] == (
        "Only someone with the **admin or agent or engineer or problem-manager** role can use `/roles`."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/role grant", "Give an email address and a role (agent, engineer, problem-manager, admin)."),
        ("/role grant someone agent", "**someone** is not an email address."),
        (
            "/role grant x@y.example boss",
            "There is no role **boss**; roles are: agent, engineer, problem-manager, admin.",
        ),
        ("/role revoke erik@iot-desk.example agent", r"erik@iot\-desk\.example does not hold the **agent** role."),
    ],
)
def test_bad_role_commands_change_nothing(harness, db, text, expected):
    harness.seed_directory()
    before = _count(db, AuditEntry)
    assert _said(harness, ADA_EMAIL, STAFF_ROOM, text)["markdown"].splitlines()[0] == expected
    assert _count(db, AuditEntry) == before


def test_an_admin_from_configuration_cannot_be_revoked_in_chat(harness):
    assert _direct(harness, ADA_EMAIL, "role revoke ada@iot-desk.example admin") == (
        r"ada@iot\-desk\.example is an admin by configuration (BOT_ADMINS); remove it there."
    )


def test_admins_from_configuration_work_in_a_direct_space(harness):
    assert (
        _direct(harness, ADA_EMAIL, "role grant sanne@iot-desk.example agent")
        == r"sanne@iot\-desk\.example now holds the **agent** role."
    )


def test_role_commands_stay_out_of_customer_spaces(harness):
    harness.seed_directory()
    assert _said(harness, ADA_EMAIL, ACME_ROOM, "/roles")["markdown"] == (
        "`/roles` works only in: a 1:1 space with me, the staff space."
    )


# -- languages -----------------------------------------------------------------------------------------


def test_language_per_space(harness):
    harness.seed_directory()
    assert (
        _said(harness, ANNA_EMAIL, ACME_ROOM, "/language nl")["markdown"]
        == "Vanaf nu spreek ik Nederlands in deze space."
    )
    assert _said(harness, ANNA_EMAIL, ACME_ROOM, "/sla P2 2026-01-09 17:00")["markdown"].splitlines()[1] == (
        "- Eerste reactie: **ma 12 jan 2026 09:00** (2 kantooruren)"
    )
    # Another space keeps its own language.
    assert _said(harness, BRAM_EMAIL, POLDER_ROOM, "/space info")["markdown"].splitlines()[-1] == "- Language: English"


def test_language_per_person_in_a_direct_space(harness):
    assert _direct(harness, ERIK_EMAIL, "language nl") == "Vanaf nu spreek ik Nederlands met je, hier en in je pages."
    assert _direct(harness, ERIK_EMAIL, "frobnicate").startswith("Het commando **frobnicate** ken ik niet.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("/language", "Choose English or Dutch."), ("/language fr", "I don't speak **fr**; choose one of: en, nl.")],
)
def test_bad_language(harness, text, expected):
    assert _said(harness, ANNA_EMAIL, ACME_ROOM, text)["markdown"].splitlines()[0] == expected


# -- joining, unbound spaces, rate limit --------------------------------------------------------------


def test_added_to_a_space_the_bot_introduces_itself_and_explains_binding(harness):
    harness.add_bot_to_new_room("Delta Rail — IoT", ANNA_EMAIL)
    harness.run()
    [hello] = harness.bot_messages("Delta Rail — IoT")
    assert hello["markdown"].split("\n\n") == [
        "Hello! I'm the service desk bot: report and follow incidents, changes, questions and complaints here, "
        "and get maintenance and disruption notices. Type `/help` to see what you can do.",
        "This space is not linked to a customer organisation yet. An admin can link it with "
        "`@IoT Service Desk /space bind <organisation>`, or make it the staff space with `@IoT Service Desk /space staff`.",
    ]


def test_someone_else_joining_is_ignored(harness):
    harness.add_member(ACME_ROOM, BRAM_EMAIL)
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")  # delivered after anything Webex queued before it
    harness.run()
    assert [m["markdown"][:4] for m in harness.bot_messages(ACME_ROOM)] == ["pong"]


def test_a_customer_command_in_an_unbound_space_says_how_to_get_it_bound(harness):
    from bot.security import CUSTOMER, IN_CUSTOMER

    router = harness.runtime.router

    @router.command(
        "test customeronly", roles=frozenset({CUSTOMER}), spaces=frozenset({IN_CUSTOMER}), summary="cmd.ping"
    )
    def customer_only(ctx, args):
        ctx.reply("done")

    try:
        assert _said(harness, ANNA_EMAIL, ACME_ROOM, "/test customeronly")["markdown"] == (
            "This space is not linked to a customer organisation yet, so I can't do that here. An admin can link it with "
            "`/space bind <organisation>`; meanwhile `/help` and `/contact` work."
        )
        harness.seed_directory()
        assert _said(harness, ANNA_EMAIL, ACME_ROOM, "/test customeronly")["markdown"] == "done"
        assert _said(harness, SANNE_EMAIL, STAFF_ROOM, "/test customeronly")["markdown"] == (
            "`/test customeronly` works only in: a customer space."
        )
    finally:
        del router.commands[("test", "customeronly")]


def test_twenty_commands_a_minute_then_one_answer_saying_when(harness, db, clock):
    for _ in range(22):
        harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.run()
    texts = [m["markdown"] for m in harness.bot_messages(ACME_ROOM)]
    assert len(texts) == 21
    assert all(t.startswith("pong") for t in texts[:20])
    assert texts[20].startswith(
        "You sent more than 20 commands within a minute, so I did not act on this one. "
        "Send it again from 10:01:00 (Amsterdam time)."
    )
    # Another person is not affected; and a minute later Anna is back.
    assert _said(harness, BRAM_EMAIL, POLDER_ROOM, "/ping")["markdown"].startswith("pong")
    clock.advance(timedelta(seconds=61))
    assert _said(harness, ANNA_EMAIL, ACME_ROOM, "/ping")["markdown"].startswith("pong")
    with db.scope() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 23
