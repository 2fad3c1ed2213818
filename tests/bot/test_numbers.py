"""Ticket, disruption and maintenance numbers: consecutive per prefix, never handed out twice,
also when two workers number the first of a prefix at the same moment (found by the scale-out drill)."""

from __future__ import annotations

from storage.tickets import next_number
from tests.harness import race


def test_numbers_count_up_per_prefix(db):
    with db.scope() as session:
        assert [next_number(session, prefix="INC") for _ in range(3)] == ["INC-1001", "INC-1002", "INC-1003"]
        assert next_number(session, prefix="DIS") == "DIS-1001"
    with db.scope() as session:
        assert next_number(session, prefix="INC") == "INC-1004"


def test_a_number_rolled_back_is_handed_out_again(db):
    try:
        with db.scope() as session:
            next_number(session, prefix="INC")
            raise RuntimeError("the handler failed")
    except RuntimeError:
        pass
    with db.scope() as session:
        assert next_number(session, prefix="INC") == "INC-1001"


def test_two_transactions_numbering_a_new_prefix_at_once_both_get_a_number(db):
    numbers = race(
        db, lambda session: next_number(session, prefix="RFC"), lambda session: next_number(session, prefix="RFC")
    )
    assert numbers == ("RFC-1001", "RFC-1002")
