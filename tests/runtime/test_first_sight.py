"""A person or space seen for the first time by two events at once (two workers on PostgreSQL)
gets one record, and neither handler fails on its key (found by the scale-out drill)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from storage.directory import ensure_space, touch_person
from storage.models import Person, SpaceRecord

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def _first(session):
    return touch_person(session, email="New.Person@Example.com", person_id="P1", display_name="New Person", now=NOW)


def _second(session):
    return touch_person(session, email="new.person@example.com", person_id="P1", display_name="New P.", now=NOW)


def _space(session):
    return ensure_space(session, room_id="ROOM-NEW", room_type="group")


@pytest.mark.parametrize(("first", "second", "model"), [(_first, _second, Person), (_space, _space, SpaceRecord)],
                         ids=["person", "space"])
def test_two_transactions_seeing_a_newcomer_at_once_make_one_record(db, first, second, model):
    first_done, let_first_commit = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run_first() -> None:
        try:
            with db.scope() as session:
                first(session)
                first_done.set()
                let_first_commit.wait(10)
        except BaseException as exc:  # reported below
            errors.append(exc)
            first_done.set()

    def run_second() -> None:
        try:
            with db.scope() as session:  # waits for the first's row (or, on SQLite, its lock)
                second(session)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run_first)]
    threads[0].start()
    assert first_done.wait(10)
    threads.append(threading.Thread(target=run_second))
    threads[1].start()
    threads[1].join(0.3)  # the second is now waiting on the first
    let_first_commit.set()
    for thread in threads:
        thread.join(10)
    assert not errors
    with db.scope() as session:
        assert session.scalar(select(func.count()).select_from(model)) == 1
        if model is Person:
            person = session.get(Person, "new.person@example.com")
            assert (person.person_id, person.display_name, person.last_seen) == ("P1", "New P.", NOW)
        else:
            assert session.get(SpaceRecord, "ROOM-NEW").kind == "unbound"
