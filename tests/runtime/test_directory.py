"""The directory's person records: refreshed without rewriting the row on every command."""

from datetime import timedelta

from storage import directory


def test_touch_person_keeps_name_and_moves_last_seen_once_a_minute(db, clock):
    t0 = clock.now()
    with db.scope() as s:
        directory.touch_person(s, email="Anna@Acme.example", person_id="P1", display_name="Anna", now=t0)
    with db.scope() as s:
        person = directory.touch_person(s, email="anna@acme.example", person_id=None, display_name="", now=t0 + timedelta(seconds=59))
        assert (person.display_name, person.person_id, person.last_seen) == ("Anna", "P1", t0)
        assert not s.dirty
    with db.scope() as s:
        person = directory.touch_person(s, email="anna@acme.example", person_id="P1", display_name="Anna de Vries",
                                        now=t0 + timedelta(minutes=1))
        assert (person.display_name, person.last_seen) == ("Anna de Vries", t0 + timedelta(minutes=1))
    with db.scope() as s:
        assert directory.person(s, email="ANNA@acme.example").display_name == "Anna de Vries"
