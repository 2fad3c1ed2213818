"""The life of the bot's spaces through the sandbox: removed, added again, unreachable."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from bot import spaces
from bot.outbox import URGENT
from bot.security import sign
from sandbox.delivery import HOOK_PAYLOAD_FIELDS, MEMBERSHIP_DATA_FIELDS
from sandbox.demo import (
    ACME_ROOM,
    ADA_EMAIL,
    ANNA_EMAIL,
    BOT_EMAIL,
    BRAM_EMAIL,
    ERIK_EMAIL,
    FATIMA_EMAIL,
    POLDER_ROOM,
    SANNE_EMAIL,
    STAFF_ROOM,
)
from storage import directory
from storage.models.directory import AuditEntry, SpaceRecord
from storage.models.runtime import InboxEvent, OutboxMessage
from storage.models.tickets import Ticket
from tests.harness import SECRET, Harness, local, race, tick
from tests.harness import answer as _do

HELLO = (
    "Hello! I'm the service desk bot: report and follow incidents, changes, questions and complaints here, "
    "and get maintenance and disruption notices. Type `/help` to see what you can do."
)
REMOVED_ACME = (
    "⚠️ I was removed from the customer space of **Acme Logistics**. Its link to the organisation is kept, but "
    "nothing reaches that space now: no notices, countdowns or messages about its tickets. Add me to the space "
    "again to resume."
)
REMOVED_STAFF = (
    "⚠️ I was removed from the staff space. Alerts for the staff (P1 incidents, SLA warnings, pages nobody "
    "answered) cannot reach them until someone adds me to the staff space again, or an admin marks another space "
    "with `/space staff`."
)


def _monday_ten(h: Harness) -> None:
    h.clock.set(local(2026, 11, 23, 10, 0))


# The demo desk; Sanne is an admin from configuration, Ada one granted in chat.
pytestmark = [pytest.mark.admins(SANNE_EMAIL), pytest.mark.prepare.with_args(_monday_ten)]


def _state(db, harness, title) -> tuple[str, int | None, str]:
    with db.scope() as s:
        record = s.get(SpaceRecord, harness.room(title)["id"])
        return record.kind, record.org_id, record.state


def _rows_to(db, harness, title) -> int:
    """Messages the bot queued for a space (whether or not Webex took them)."""
    with db.scope() as s:
        return s.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.room_id == harness.room(title)["id"])
        )


def _staff(harness) -> list[str]:
    return [m["markdown"] for m in harness.bot_messages(STAFF_ROOM)]


def _announce(harness) -> str:
    return _do(
        harness,
        SANNE_EMAIL,
        STAFF_ROOM,
        '/maintenance announce services=M2M start="2026-12-08 01:00" end="2026-12-08 05:00" impact="Short interruptions"',
    )


def _deliver(harness, resource: str, event: str, membership: dict, actor_email: str) -> dict:
    """Post a signed memberships event to the bot's endpoint, as Webex sends it (a retry of a delivery,
    or one from a webhook without the bot's filter)."""
    hook = next(w for w in harness.state.webhooks.values() if (w["resource"], w["event"]) == (resource, event))
    payload = {k: hook[k] for k in HOOK_PAYLOAD_FIELDS if k in hook}
    payload |= {
        "event": event,
        "actorId": harness.state.person_by_email(actor_email)["id"],
        "data": {k: membership[k] for k in MEMBERSHIP_DATA_FIELDS},
    }
    body = json.dumps(payload).encode()
    response = requests.post(
        f"{harness.bot.url}/webhooks/webex",
        data=body,
        timeout=10,
        headers={"X-Spark-Signature": sign(body, SECRET), "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    return response.json()


# -- removed from a customer space and added again -----------------------------------------------------


def test_removed_from_a_customer_space_it_is_suspended_and_added_again_it_is_back(harness, db):
    acme_org = _state(db, harness, ACME_ROOM)[1]
    harness.remove_bot(ACME_ROOM, ANNA_EMAIL)
    harness.run()
    assert _staff(harness) == [REMOVED_ACME]
    assert _state(db, harness, ACME_ROOM) == ("customer", acme_org, "suspended")  # the binding is kept

    # A maintenance notice goes to Polder only: nothing is even queued for Acme.
    rows_before = _rows_to(db, harness, ACME_ROOM)
    assert _announce(harness) == "**MNT-1001** announced to 1 spaces."
    assert _rows_to(db, harness, ACME_ROOM) == rows_before
    assert len(harness.bot_messages(POLDER_ROOM)) == 1

    # Added again a minute later: the same membership id, a new created time; introduced again.
    harness.clock.advance(timedelta(minutes=1))
    harness.add_bot(ACME_ROOM, ANNA_EMAIL)
    harness.run()
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"].split("\n\n") == [
        HELLO,
        "I'm back in the customer space of **Acme Logistics**: its tickets, notices and countdowns reach this space again.",
    ]
    assert _state(db, harness, ACME_ROOM) == ("customer", acme_org, "active")
    assert (
        _staff(harness)[-1]
        == "✅ I was added to the customer space of **Acme Logistics** again: notices and countdowns go there again."
    )
    assert _announce(harness) == "**MNT-1002** announced to 2 spaces."
    assert harness.bot_messages(ACME_ROOM)[-1]["markdown"].startswith("🛠 **Maintenance MNT-1002**")
    with db.scope() as s:
        timeline = directory.timeline(s, subject_type="space", subject=harness.room(ACME_ROOM)["id"])
        assert [(e.action, e.actor, e.old, e.new) for e in timeline[1:]] == [
            ("suspended", "system", {"state": "active"}, {"state": "suspended", "reason": "the bot was removed"}),
            ("active", "system", {"state": "suspended"}, {"state": "active", "reason": "the bot was added again"}),
        ]


def test_while_suspended_no_ticket_message_or_countdown_goes_there_and_a_response_is_refused(harness, db):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.remove_bot(ACME_ROOM, ANNA_EMAIL)
    harness.run()
    rows_before = _rows_to(db, harness, ACME_ROOM)
    # Taking the ticket changes it; the customer's thread (message and countdown) is left out.
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/take INC-1001") == "You took **INC-1001**."
    assert _rows_to(db, harness, ACME_ROOM) == rows_before
    # A response or a question is what the command is for: refused, nothing changed.
    refusal = (
        "**INC-1001**: I can't post in the customer's space now (I was removed from it, or Webex refused my posts "
        "there), so nothing was sent or changed. Once I'm in the space again, repeat this."
    )
    with db.scope() as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry))
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/respond INC-1001 We are on it") == refusal
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which modems?") == refusal
    with db.scope() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
    assert _rows_to(db, harness, ACME_ROOM) == rows_before

    harness.clock.advance(timedelta(minutes=1))
    harness.add_bot(ACME_ROOM, ANNA_EMAIL)
    harness.run()
    assert (
        _do(harness, SANNE_EMAIL, STAFF_ROOM, "/respond INC-1001 We are on it")
        == "Sent to the customer in **INC-1001**."
    )
    assert any("We are on it" in m["markdown"] for m in harness.bot_messages(ACME_ROOM))


def test_a_ticket_resolved_meanwhile_asks_and_reminds_nobody_there_and_still_closes(harness, db):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    harness.remove_bot(ACME_ROOM, ANNA_EMAIL)
    harness.run()
    rows_before = _rows_to(db, harness, ACME_ROOM)
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/resolve INC-1001")
    harness.press(
        SANNE_EMAIL,
        harness.bot_messages(STAFF_ROOM)[-1],
        {"action": "ticket.resolve", "ticket": "INC-1001", "cause": "APN", "resolution": "Fixed"},
    )
    harness.run()
    for day in (25, 27):  # the two reminders, two business days apart
        tick(harness, local(2026, 11, day, 10, 0))
    tick(harness, local(2026, 12, 1, 10, 0))  # and the closure
    assert _rows_to(db, harness, ACME_ROOM) == rows_before
    with db.scope() as s:
        assert s.scalars(select(Ticket.status)).one() == "closed"


def test_a_p1_acknowledged_meanwhile_tells_the_staff_only(harness, db):
    harness.clock.set(local(2026, 11, 29, 3, 0))  # Sunday night
    _do(
        harness,
        ANNA_EMAIL,
        ACME_ROOM,
        "/incident service=M2M devices=4000 priority=P1 phone=+31612345678 Everything down",
    )
    harness.remove_bot(ACME_ROOM, ANNA_EMAIL)
    harness.run()
    rows_before = _rows_to(db, harness, ACME_ROOM)
    [page] = [m for m in harness.direct_messages(ERIK_EMAIL) if m["markdown"].startswith("P1 page")]
    harness.clock.set(local(2026, 11, 29, 3, 4))
    harness.press(ERIK_EMAIL, page, page["attachments"][0]["content"]["actions"][0]["data"])
    harness.run()
    assert _staff(harness)[-1] == "INC-1001: Erik Visser acknowledged the page and is working on it since 03:04."
    assert _rows_to(db, harness, ACME_ROOM) == rows_before


def test_a_disruption_does_not_reach_a_suspended_space_through_a_linked_ticket(harness, db):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe LoRa")
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Modems offline")
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/subscribe LoRa")
    opened = '/disruption open services=M2M severity=P2 impact="SIMs lose data" actions="Restarted" next_steps="Watching" next_update=10:30'
    assert _do(harness, SANNE_EMAIL, STAFF_ROOM, opened) == "**DIS-1001** opened; 0 spaces are being told."
    _do(harness, SANNE_EMAIL, STAFF_ROOM, "/disruption link DIS-1001 INC-1001")
    harness.remove_bot(ACME_ROOM, ANNA_EMAIL)
    harness.run()
    rows_before = _rows_to(db, harness, ACME_ROOM)
    assert (
        _do(
            harness,
            SANNE_EMAIL,
            STAFF_ROOM,
            '/disruption update DIS-1001 impact="less" actions="a" next_steps="b" next_update="2026-11-23 11:30"',
        )
        == "**DIS-1001** updated; 0 spaces are being told."
    )
    assert _rows_to(db, harness, ACME_ROOM) == rows_before


def test_problem_updates_leave_a_suspended_space_out_and_say_so(harness, db):
    _do(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M Drops")
    _do(harness, BRAM_EMAIL, POLDER_ROOM, "/incident service=M2M Drops too")
    _do(harness, FATIMA_EMAIL, STAFF_ROOM, "/problem open Intermittent APN drops INC-1001 INC-1002")
    harness.remove_bot(ACME_ROOM, ANNA_EMAIL)
    harness.run()
    rows_before = _rows_to(db, harness, ACME_ROOM)
    for scope in ("customer", "generic"):
        assert _do(harness, SANNE_EMAIL, STAFF_ROOM, f"/problem update PRB-1001 {scope} Root cause found") == (
            "Update of **PRB-1001** sent to 1 places."
        )
    assert _rows_to(db, harness, ACME_ROOM) == rows_before
    assert len([m for m in harness.bot_messages(POLDER_ROOM) if "PRB-1001" in m["markdown"]]) == 2


# -- removed from the staff space ---------------------------------------------------------------------


def test_removed_from_the_staff_space_every_admin_is_told_in_a_one_to_one_at_once(harness, db):
    assert harness.say_direct(SANNE_EMAIL, "/language nl")
    harness.run()
    harness.remove_bot(STAFF_ROOM, ERIK_EMAIL)
    harness.run()
    assert harness.direct_messages(ADA_EMAIL)[-1]["markdown"] == REMOVED_STAFF
    assert harness.direct_messages(SANNE_EMAIL)[-1]["markdown"] == (
        "⚠️ Ik ben verwijderd uit de staff-space. Meldingen voor de staff (P1-incidenten, SLA-waarschuwingen, onbeantwoorde "
        "oproepen) bereiken hen niet tot iemand me weer toevoegt aan de staff-space, of een admin een andere space aanwijst met "
        "`/space staff`."
    )
    with db.scope() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "space:removed")).all()
        assert sorted((r.to_person_email, r.priority) for r in rows) == [(ADA_EMAIL, URGENT), (SANNE_EMAIL, URGENT)]
    assert _state(db, harness, STAFF_ROOM) == ("staff", None, "suspended")

    # Meanwhile what the staff should hear goes to the admins too.
    harness.remove_bot(POLDER_ROOM, BRAM_EMAIL)
    harness.run()
    assert harness.direct_messages(ADA_EMAIL)[-1]["markdown"].startswith(
        "⚠️ I was removed from the customer space of **Polder Energy**"
    )

    harness.clock.advance(timedelta(minutes=1))
    harness.add_bot(STAFF_ROOM, SANNE_EMAIL)
    harness.run()
    assert _staff(harness)[-1].split("\n\n")[1] == (
        "I'm back in the staff space: alerts, pages and reminders for the staff come here again."
    )
    assert _state(db, harness, STAFF_ROOM) == ("staff", None, "active")


# -- replays and other people's memberships -----------------------------------------------------------


def test_a_replayed_removal_has_one_effect_and_a_late_older_join_none(harness, db):
    joined = dict(
        next(
            m
            for m in harness.state.memberships.values()
            if m["roomId"] == harness.room(ACME_ROOM)["id"] and m["personEmail"] == BOT_EMAIL
        )
    )
    removed = harness.remove_bot(ACME_ROOM, ANNA_EMAIL)
    # Webex delivers the removal again: it is the same event, stored once.
    assert _deliver(harness, "memberships", "deleted", removed, ANNA_EMAIL) == {"accepted": True, "duplicate": True}
    harness.run()
    rows_before = _rows_to(db, harness, ACME_ROOM)
    # The join of the membership that ended, delivered late: a new event, but older than the removal.
    assert _deliver(harness, "memberships", "created", joined, ANNA_EMAIL)["duplicate"] is False
    harness.run()
    assert _staff(harness) == [REMOVED_ACME]
    assert _rows_to(db, harness, ACME_ROOM) == rows_before  # no introduction to a space the bot is not in
    assert _state(db, harness, ACME_ROOM)[2] == "suspended"
    with db.scope() as s:
        actions = [e.action for e in directory.timeline(s, subject_type="space", subject=harness.room(ACME_ROOM)["id"])]
    assert actions == ["bound", "suspended"]

    # Added again; then the removal of a membership older than this one arrives late: nothing changes.
    harness.clock.advance(timedelta(minutes=1))
    harness.add_bot(ACME_ROOM, ANNA_EMAIL)
    harness.run()
    older = dict(removed, created="2026-11-23T08:00:00.000Z")
    assert _deliver(harness, "memberships", "deleted", older, ANNA_EMAIL)["duplicate"] is False
    harness.run()
    assert _state(db, harness, ACME_ROOM)[2] == "active"
    assert len(_staff(harness)) == 2  # the removal and the return, nothing more


def _bots_membership(harness, title: str) -> dict:
    return dict(
        next(
            m
            for m in harness.state.memberships.values()
            if m["roomId"] == harness.room(title)["id"] and m["personEmail"] == BOT_EMAIL
        )
    )


def _membership_events(db) -> list[tuple[str, str | None]]:
    with db.scope() as s:
        return [
            (e.status, e.error)
            for e in s.scalars(select(InboxEvent).where(InboxEvent.resource == "memberships").order_by(InboxEvent.id))
        ]


def test_a_join_or_removal_webex_does_not_confirm_changes_nothing_and_says_nothing(harness, db):
    # Deliveries that say the bot joined or left, while Webex shows it in each space since the start:
    # signed as Webex signs them (a replay whose row is gone, or a leaked secret), they are read back first.
    acme, staff = _bots_membership(harness, ACME_ROOM), _bots_membership(harness, STAFF_ROOM)
    harness.clock.advance(timedelta(minutes=1))
    now = harness.state.stamp()
    forged = [
        ("created", dict(acme, created=now)),  # "added again now": Webex has it from the start
        ("created", dict(acme, id="Y2lzY29zcGFyazovL3VzL01FTUJFUlNISVAvbm9uZQ", created=now)),  # no such membership
        ("created", dict(acme, roomId=harness.room(POLDER_ROOM)["id"])),  # Acme's membership, said to be Polder's
        ("deleted", acme),  # "removed", while Webex still shows the bot in the space
        ("deleted", dict(staff, created=now)),
    ]
    for event, membership in forged:
        assert _deliver(harness, "memberships", event, membership, ANNA_EMAIL)["duplicate"] is False
    harness.run()
    assert [status for status, _ in _membership_events(db)] == ["ignored"] * 5
    assert harness.bot_messages(ACME_ROOM) == [] and harness.bot_messages(POLDER_ROOM) == [] and _staff(harness) == []
    assert [_state(db, harness, title)[2] for title in (ACME_ROOM, POLDER_ROOM, STAFF_ROOM)] == ["active"] * 3
    with db.scope() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.subject_type == "space", AuditEntry.action.in_(("suspended", "active")))
            )
            == 0
        )


def test_a_join_replayed_after_the_retention_is_refused(harness, db):
    room = harness.add_bot_to_new_room("Pilot project", ANNA_EMAIL)
    harness.run()
    assert [m["markdown"].split("\n\n")[0] for m in harness.bot_messages("Pilot project")] == [HELLO]
    joined = _bots_membership(harness, "Pilot project")
    assert joined["roomId"] == room["id"]
    # A month on, when the retention may have deleted the join's event, it is refused by its age.
    harness.clock.advance(timedelta(days=30))
    hook = next(w for w in harness.state.webhooks.values() if (w["resource"], w["event"]) == ("memberships", "created"))
    payload = {k: hook[k] for k in HOOK_PAYLOAD_FIELDS if k in hook}
    payload |= {
        "event": "created",
        "actorId": harness.state.person_by_email(ANNA_EMAIL)["id"],
        "data": {k: joined[k] for k in MEMBERSHIP_DATA_FIELDS},
    }
    body = json.dumps(payload).encode()
    response = requests.post(
        f"{harness.bot.url}/webhooks/webex",
        data=body,
        timeout=10,
        headers={"X-Spark-Signature": sign(body, SECRET), "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()) == (400, {"error": "event older than the retention window"})
    harness.run()
    assert len(harness.bot_messages("Pilot project")) == 1


def test_memberships_of_other_people_change_nothing(harness, db):
    # The bot's webhooks filter on the bot: Bram joining is not delivered at all.
    before = len(harness.state.deliveries)
    bram = harness.add_member(ACME_ROOM, BRAM_EMAIL)
    ping = harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")  # delivered after anything queued before it
    assert [d["data_id"] for d in harness.state.deliveries[before:]] == [ping["id"]]
    # A webhook without the filter (an earlier release's) would deliver them: they are ignored.
    assert _deliver(harness, "memberships", "created", bram, ANNA_EMAIL)["duplicate"] is False
    harness.state.remove_member(bram["roomId"], BRAM_EMAIL, actor_email=ANNA_EMAIL)
    assert _deliver(harness, "memberships", "deleted", bram, ANNA_EMAIL)["duplicate"] is False
    harness.run()
    with db.scope() as s:
        handled = s.scalars(select(InboxEvent.status).where(InboxEvent.resource == "memberships")).all()
    assert handled == ["ignored", "ignored"]
    assert [m["markdown"][:4] for m in harness.bot_messages(ACME_ROOM)] == ["pong"]
    assert _staff(harness) == [] and _state(db, harness, ACME_ROOM)[2] == "active"


# -- unreachable: the outbox's 403/404 ----------------------------------------------------------------


def _unreachable(harness, title: str, error: str = "create message: 403 Failed to post") -> bool:
    with harness.runtime.db.scope() as s:
        return spaces.unreachable(
            s,
            room_id=harness.room(title)["id"],
            now=harness.clock.now(),
            error=error,
            admins=harness.settings.bot_admins,
        )


def test_a_refused_post_marks_the_space_unreachable_and_tells_the_staff_once(harness, db):
    assert _unreachable(harness, ACME_ROOM, "create message: 404 The requested resource could not be found.") is True
    assert _unreachable(harness, ACME_ROOM) is False  # the next refused message: already known
    harness.run()
    assert _staff(harness) == [
        "⚠️ Webex refused my post to the customer space of **Acme Logistics** (create message: 404 The requested resource could "
        "not be found\\.). I send nothing more there of my own accord (no notices, countdowns or messages about its tickets) "
        "until someone adds me to the space again."
    ]
    assert _state(db, harness, ACME_ROOM)[2] == "unreachable"
    assert _announce(harness) == "**MNT-1001** announced to 1 spaces."
    # /space info shows it (where Webex still lets the bot answer).
    assert _do(harness, ANNA_EMAIL, ACME_ROOM, "/space info").splitlines()[3] == (
        "- State: unreachable since Mon 23 Nov 2026 10:00 (Webex refused my posts here)"
    )

    # A post that goes through after all makes it active again, told once.
    with db.scope() as s:
        assert (
            spaces.reached(s, room_id=harness.room(ACME_ROOM)["id"], now=harness.clock.now(), admins=frozenset())
            is True
        )
        assert (
            spaces.reached(s, room_id=harness.room(ACME_ROOM)["id"], now=harness.clock.now(), admins=frozenset())
            is False
        )
    harness.run()
    assert _staff(harness)[-1] == (
        "✅ My posts reach the customer space of **Acme Logistics** again: notices and countdowns go there again."
    )
    assert len(_staff(harness)) == 3  # unreachable, the maintenance's confirmation, reached


def test_the_staff_space_unreachable_is_told_to_the_admins(harness, db):
    assert _unreachable(harness, STAFF_ROOM) is True
    harness.run()
    assert harness.direct_messages(ADA_EMAIL)[-1]["markdown"].startswith("⚠️ Webex refused my post to the staff space (")
    assert harness.direct_messages(SANNE_EMAIL)[-1]["markdown"].startswith(
        "⚠️ Webex refused my post to the staff space ("
    )
    assert _staff(harness) == []


def test_unbound_suspended_or_unknown_spaces_are_not_marked(harness, db):
    room = harness.add_bot_to_new_room("Somewhere", ANNA_EMAIL)
    harness.run()
    with db.scope() as s:
        directory.ensure_space(s, room_id=room["id"], room_type="group")
    assert _unreachable(harness, "Somewhere") is False
    harness.remove_bot(POLDER_ROOM, BRAM_EMAIL)
    harness.run()
    assert _unreachable(harness, POLDER_ROOM) is False
    with db.scope() as s:
        assert (
            spaces.unreachable(s, room_id="NO-SUCH-ROOM", now=harness.clock.now(), error="404", admins=frozenset())
            is False
        )
        assert s.get(SpaceRecord, "NO-SUCH-ROOM") is None
    assert _state(db, harness, "Somewhere")[2] == "active" and _state(db, harness, POLDER_ROOM)[2] == "suspended"
    harness.run()
    assert len(_staff(harness)) == 1  # Polder's removal only


def test_two_senders_refused_at_once_tell_the_staff_once(harness, db):
    room_id = harness.room(ACME_ROOM)["id"]

    def refused(session):
        return spaces.unreachable(session, room_id=room_id, now=harness.clock.now(), error="403", admins=frozenset())

    assert sorted(race(db, refused, refused)) == [False, True]
    with db.scope() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.purpose == "space:unreachable")
            )
            == 1
        )


def test_an_announcement_only_space_refusing_the_bots_posts_is_marked_unreachable_once(harness, db):
    room_id = harness.room(ACME_ROOM)["id"]
    harness.state.set_moderator(room_id, ANNA_EMAIL)
    harness.state.set_announcement_only(room_id)  # only moderators post now: Webex answers the bot 403
    harness.say(ANNA_EMAIL, ACME_ROOM, "/ping")
    harness.say(ANNA_EMAIL, ACME_ROOM, "/tickets")
    harness.run()
    tick(harness, harness.clock.now())  # the refusals' listeners run
    staff = [m["markdown"] for m in harness.bot_messages(STAFF_ROOM)]
    assert (
        len([m for m in staff if m.startswith("⚠️ Webex refused my post to the customer space of **Acme Logistics**")])
        == 1
    ), staff
    with db.scope() as s:
        assert s.get(SpaceRecord, room_id).state == "unreachable"
