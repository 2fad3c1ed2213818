"""Every line a command writes on the audit timeline names the person who acted, the space they
acted in and the instant (ctx.audit, commands/common/timeline.py)."""

from sqlalchemy import select

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, SANNE_EMAIL, STAFF_ROOM
from storage.models.directory import AuditEntry
from tests.harness import answer, local


def test_timeline_lines_name_the_actor_the_space_and_the_instant(harness, db):
    harness.at(local(2026, 11, 23, 10, 0))
    answer(harness, ANNA_EMAIL, ACME_ROOM, "/subscribe M2M")
    answer(harness, ANNA_EMAIL, ACME_ROOM, "/incident service=M2M devices=3 Modems offline")
    harness.at(local(2026, 11, 23, 10, 5))
    answer(harness, SANNE_EMAIL, STAFF_ROOM, "/take INC-1001")
    answer(harness, SANNE_EMAIL, STAFF_ROOM, "/wait INC-1001 Which modems?")
    with db.read() as session:
        rows = {
            (e.subject, e.action): (e.actor, e.room_id, e.at)
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action.in_(["subscribed", "taken", "question"]))
            )
        }
    staff, acme = harness.room(STAFF_ROOM)["id"], harness.room(ACME_ROOM)["id"]
    assert rows == {
        (acme, "subscribed"): (ANNA_EMAIL, acme, local(2026, 11, 23, 10, 0)),
        ("INC-1001", "taken"): (SANNE_EMAIL, staff, local(2026, 11, 23, 10, 5)),
        ("INC-1001", "question"): (SANNE_EMAIL, staff, local(2026, 11, 23, 10, 5)),
    }
