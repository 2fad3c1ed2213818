"""The directory's person records: refreshed without rewriting the row on every command."""

from datetime import timedelta

from storage import directory


def test_touch_person_keeps_name_and_moves_last_seen_once_a_minute(db, clock):
    t0 = clock.now()
    with db.scope() as s:
        directory.touch_person(s, email="Anna@Acme.example", person_id="P1", display_name="Anna", now=t0)
    with db.scope() as s:
        person = directory.touch_person(
            s, email="anna@acme.example", person_id=None, display_name="", now=t0 + timedelta(seconds=59)
        )
        assert (person.display_name, person.person_id, person.last_seen) == ("Anna", "P1", t0)
        assert not s.dirty
    with db.scope() as s:
        person = directory.touch_person(
            s, email="anna@acme.example", person_id="P1", display_name="Anna de Vries", now=t0 + timedelta(minutes=1)
        )
        assert (person.display_name, person.last_seen) == ("Anna de Vries", t0 + timedelta(minutes=1))
    with db.scope() as s:
        assert directory.person(s, email="ANNA@acme.example").display_name == "Anna de Vries"


def test_a_space_comes_with_its_organisation(db, clock):
    now = clock.now()
    with db.scope() as s:
        acme = directory.create_org(
            s, name="Acme Logistics", actor="ada@desk.example", room_id=None, now=now, language="nl"
        )
        directory.set_space_kind(
            s, room_id="R-BOUND", room_type="group", kind="customer", org=acme, actor="ada@desk.example", now=now
        )
        directory.ensure_space(s, room_id="R-UNBOUND", room_type="group")
    with db.scope() as s:
        record, org = directory.space_and_org(s, room_id="R-BOUND")
        assert (record.kind, org.name) == ("customer", "Acme Logistics")
        assert directory.space_language(s, room_id="R-BOUND") == "nl"
        record, org = directory.space_and_org(s, room_id="R-UNBOUND")
        assert (record.kind, org) == ("unbound", None)
        assert directory.space_and_org(s, room_id="R-NEVER-SEEN") == (None, None)
        assert directory.space_language(s, room_id="R-NEVER-SEEN") is None
