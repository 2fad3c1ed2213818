"""A transaction reads a row from the database once, however many helpers ask for it; the next
transaction reads it afresh (a role revoked or a name changed counts from the next command)."""

from __future__ import annotations

import gc

from sqlalchemy import event

from storage import directory


def test_a_row_is_read_once_per_transaction_and_again_in_the_next(db, clock):
    with db.scope() as s:
        directory.touch_person(s, email="ria@example.com", person_id="P1", display_name="Ria", now=clock.now())
    reads = []
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda _c, _cur, sql, *_rest: reads.append(sql) if "FROM people" in sql else None,
    )

    with db.scope() as s:
        assert directory.person(s, email="ria@example.com").display_name == "Ria"  # dropped at once
        gc.collect()
        assert directory.person(s, email="ria@example.com").display_name == "Ria"
    assert len(reads) == 1

    with db.scope() as s:
        directory.touch_person(s, email="ria@example.com", person_id=None, display_name="Ria V.", now=clock.now())
    with db.scope() as s:
        assert directory.person(s, email="ria@example.com").display_name == "Ria V."
    assert len(reads) == 3
