"""Demo people and spaces of the sandbox: two customer organisations, the staff and the bot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from rules.desk import Desk
from sandbox.state import SandboxState
from storage import directory
from storage.models.operations import OnCallTeam, Subscription

BOT_TOKEN = "sandbox-bot-token"
BOT_EMAIL = "servicedesk@webex.bot"
BOT_NAME = "IoT Service Desk"

ACME_ORG = "Acme Logistics"
POLDER_ORG = "Polder Energy"
DESK_ORG = "IoT Service Desk"

ANNA_EMAIL = "anna@acme-logistics.example"
BRAM_EMAIL = "bram@polder-energy.example"
SANNE_EMAIL = "sanne@iot-desk.example"
ERIK_EMAIL = "erik@iot-desk.example"
FATIMA_EMAIL = "fatima@iot-desk.example"
ADA_EMAIL = "ada@iot-desk.example"

CUSTOMER_EMAILS = (ANNA_EMAIL, BRAM_EMAIL)
STAFF_EMAILS = (SANNE_EMAIL, ERIK_EMAIL, FATIMA_EMAIL, ADA_EMAIL)

ACME_ROOM = "Acme Logistics — IoT support"
POLDER_ROOM = "Polder Energy — IoT support"
STAFF_ROOM = "IoT Service Desk — staff"

# (email, display name, organisation)
PEOPLE = (
    (ANNA_EMAIL, "Anna de Vries", ACME_ORG),
    (BRAM_EMAIL, "Bram Jansen", POLDER_ORG),
    (SANNE_EMAIL, "Sanne Bakker", DESK_ORG),
    (ERIK_EMAIL, "Erik Visser", DESK_ORG),
    (FATIMA_EMAIL, "Fatima El Amrani", DESK_ORG),
    (ADA_EMAIL, "Ada Admin", DESK_ORG),
)
ROOMS = (
    (ACME_ROOM, (ANNA_EMAIL,)),
    (POLDER_ROOM, (BRAM_EMAIL,)),
    (STAFF_ROOM, STAFF_EMAILS),
)


def token_for(email: str) -> str:
    """A demo person's API token: sandbox-token-<local part>."""
    return f"sandbox-token-{email.split('@')[0]}"


ANNA_TOKEN = token_for(ANNA_EMAIL)
BRAM_TOKEN = token_for(BRAM_EMAIL)
SANNE_TOKEN = token_for(SANNE_EMAIL)
ERIK_TOKEN = token_for(ERIK_EMAIL)
FATIMA_TOKEN = token_for(FATIMA_EMAIL)
ADA_TOKEN = token_for(ADA_EMAIL)


def build_demo_state(*, bot_token: str = BOT_TOKEN, now: Callable[[], datetime] | None = None) -> SandboxState:
    """A sandbox with the bot, the demo people and their spaces (the bot a member of each)."""
    state = SandboxState(now=now)
    state.add_person(BOT_EMAIL, BOT_NAME, bot=True, token=bot_token, org=DESK_ORG)
    for email, name, org in PEOPLE:
        state.add_person(email, name, token=token_for(email), org=org)
    for title, members in ROOMS:
        state.add_room(title, [*members, BOT_EMAIL], creator_email=members[0])
    state.roles.update({email: "customer" for email in CUSTOMER_EMAILS})
    state.roles.update(dict(DEMO_GRANTS))
    return state


def open_direct_spaces(state: SandboxState) -> None:
    """The on-call engineers' 1:1 spaces with the bot, where their pages arrive (listed on the page from the start)."""
    for email in DEMO_ROTA:
        state.direct_room(BOT_EMAIL, email)


# What the desk's directory holds in the demo: the customer spaces bound to their
# organisations, the staff space marked, and each staff member's role.
DEMO_BINDINGS = ((ACME_ROOM, ACME_ORG), (POLDER_ROOM, POLDER_ORG))
DEMO_GRANTS = (
    (SANNE_EMAIL, "agent"),
    (ERIK_EMAIL, "engineer"),
    (FATIMA_EMAIL, "problem-manager"),
    (ADA_EMAIL, "admin"),
)
# The on-call rota of the paging team: Erik first, then Sanne.
DEMO_ROTA = (ERIK_EMAIL, SANNE_EMAIL)
# The services whose maintenance and disruption notices each customer space has asked for.
DEMO_SUBSCRIPTIONS = ((ACME_ROOM, ("M2M", "LoRa")), (POLDER_ROOM, ("M2M", "Things", "DSH")))


def seed_directory(session: Session, state: SandboxState, *, now: datetime, desk: Desk) -> None:
    """Bind the demo spaces and grant the demo roles, as an admin would have (idempotent)."""
    actor = "sandbox-setup"
    for title, org_name in DEMO_BINDINGS:
        room = state.room_by_title(title)
        org = directory.find_org(session, name=org_name) or directory.create_org(
            session, name=org_name, actor=actor, room_id=None, now=now
        )
        record = directory.space(session, room_id=room["id"])
        if record is None or record.kind != "customer":
            directory.set_space_kind(
                session, room_id=room["id"], room_type="group", kind="customer", org=org, actor=actor, now=now
            )
    staff = state.room_by_title(STAFF_ROOM)
    record = directory.space(session, room_id=staff["id"])
    if record is None or record.kind != "staff":
        directory.set_space_kind(
            session, room_id=staff["id"], room_type="group", kind="staff", org=None, actor=actor, now=now
        )
    for email, role in DEMO_GRANTS:
        directory.grant_role(session, email=email, role=role, actor=actor, room_id=None, now=now)
    if session.get(OnCallTeam, desk.paging_team) is None:
        session.add(
            OnCallTeam(
                name=desk.paging_team,
                rota=list(DEMO_ROTA),
                repage_minutes=desk.repage_minutes,
                pages_per_engineer=desk.pages_per_engineer,
            )
        )


def seed_subscriptions(session: Session, state: SandboxState) -> None:
    """Each demo customer space's notice subscriptions, as its customers would have asked (idempotent)."""
    for title, services in DEMO_SUBSCRIPTIONS:
        room_id = state.room_by_title(title)["id"]
        for service in services:
            if session.get(Subscription, (room_id, service)) is None:
                session.add(Subscription(room_id=room_id, service=service))
