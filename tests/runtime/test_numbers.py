"""Ticket, disruption and maintenance numbers: consecutive per prefix, never handed out twice,
also when two workers number the first of a prefix at the same moment (found by the scale-out drill)."""

from __future__ import annotations

import threading

from storage.tickets import next_number


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
    first_numbered, let_first_commit = threading.Event(), threading.Event()
    numbers: dict[str, str] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with db.scope() as session:
                numbers["first"] = next_number(session, prefix="RFC")
                first_numbered.set()
                let_first_commit.wait(10)
        except BaseException as exc:  # reported below
            errors.append(exc)
            first_numbered.set()

    def second() -> None:
        try:
            with db.scope() as session:  # waits for the first's counter row (or, on SQLite, its lock)
                numbers["second"] = next_number(session, prefix="RFC")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert first_numbered.wait(10)
    threads.append(threading.Thread(target=second))
    threads[1].start()
    threads[1].join(0.3)  # the second is now waiting on the first
    let_first_commit.set()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert numbers == {"first": "RFC-1001", "second": "RFC-1002"}
