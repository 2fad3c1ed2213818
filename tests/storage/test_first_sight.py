"""A person or space seen for the first time by two events at once (two workers on PostgreSQL)
gets one record, and neither handler fails on its key (found by the scale-out drill)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from storage.directory import ensure_space, touch_person
from storage.models.directory import Person, SpaceRecord
from tests.harness import race

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _first(session):
    return touch_person(session, email="New.Person@Example.com", person_id="P1", display_name="New Person", now=NOW)


def _second(session):
    return touch_person(session, email="new.person@example.com", person_id="P1", display_name="New P.", now=NOW)


def _space(session):
    return ensure_space(session, room_id="ROOM-NEW", room_type="group")


@pytest.mark.parametrize(
    ("first", "second", "model"), [(_first, _second, Person), (_space, _space, SpaceRecord)], ids=["person", "space"]
)
def test_two_transactions_seeing_a_newcomer_at_once_make_one_record(db, first, second, model):
    race(db, first, second)  # neither fails on the key
    with db.scope() as session:
        assert session.scalar(select(func.count()).select_from(model)) == 1
        if model is Person:
            person = session.get(Person, "new.person@example.com")
            assert (person.person_id, person.display_name, person.last_seen) == ("P1", "New P.", NOW)
        else:
            assert session.get(SpaceRecord, "ROOM-NEW").kind == "unbound"
