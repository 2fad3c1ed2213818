"""The inbox's statements: accept a delivery once, lease the oldest due event of each space, close
or retry an event only while it is still leased to the worker that holds it.

Statements are built once at import: building them and computing their cache keys on every
call cost more than running them.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Integer, Row, Table, Update, and_, bindparam, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.models.runtime import InboxEvent
from storage.types import UTCDateTime

# An event in one of these states holds back the later events of its space.
UNFINISHED = ("pending", "claimed")

_NOW = bindparam("now", type_=UTCDateTime())
_T = cast(Table, InboxEvent.__table__)  # a mapped class's table is typed as any FromClause
# A claimed event as its claim returns it: a row with the table's columns, not a mapped object.
Claimed = Row[Any]
# On the table, not the mapped class: the ORM's bulk-insert path costs more than the insert itself.
ACCEPT = {
    dialect: insert(_T).on_conflict_do_nothing(index_elements=["event_key"]).returning(_T.c.id)
    for dialect, insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


def _claim_statement(*, skip_locked: bool) -> Update:
    """UPDATE … RETURNING that leases the oldest due events (up to :batch) to :worker_id.

    On the table, not the mapped class: the ORM copies such a statement on every run and its
    cache key is then computed afresh, which cost more than running it.
    """
    cand = _T.alias("cand").c
    earlier = _T.alias("earlier").c
    due = or_(
        and_(cand.status == "pending", cand.next_attempt_at <= _NOW),
        and_(cand.status == "claimed", cand.lease_until < _NOW),
    )
    # The oldest unfinished event of its space (an event without a space is always first). One NOT
    # EXISTS per status, each a single probe of ix_inbox_head (order_key, status, id).
    first_of_space = and_(
        *(
            ~exists().where(earlier.order_key == cand.order_key, earlier.status == status, earlier.id < cand.id)
            for status in UNFINISHED
        )
    )
    pick = select(cand.id).where(due, first_of_space).order_by(cand.id).limit(bindparam("batch", type_=Integer()))
    if skip_locked:
        # Concurrent workers pass over each other's rows instead of waiting for them.
        pick = pick.with_for_update(skip_locked=True, of=cand.id.table)
    return (
        update(_T)
        .where(_T.c.id.in_(pick))
        .values(
            status="claimed",
            claimed_by=bindparam("worker_id"),
            lease_until=bindparam("new_lease", type_=UTCDateTime()),
            attempts=_T.c.attempts + 1,
        )
        .returning(*_T.c)
    )


CLAIM = {"sqlite": _claim_statement(skip_locked=False), "postgresql": _claim_statement(skip_locked=True)}
# Closing an event (done, ignored, failed, or back to pending for a retry) happens only while it
# is still leased to this worker; rowcount 0 means the lease was lost to another worker.
OWNED = and_(
    _T.c.id == bindparam("row_id"),
    _T.c.claimed_by == bindparam("worker_id"),
    _T.c.status == "claimed",
)
CLOSE = (
    update(_T)
    .where(OWNED)
    .values(status=bindparam("new_status"), error=bindparam("error_text"), processed_at=_NOW, lease_until=None)
)
RETRY = (
    update(_T)
    .where(OWNED)
    .values(
        status="pending",
        claimed_by=None,
        lease_until=None,
        next_attempt_at=bindparam("retry_at", type_=UTCDateTime()),
        error=bindparam("error_text"),
    )
)
# While Webex refuses the token an attempt says nothing about the event: it does not count
# towards MAX_FETCH_ATTEMPTS, so no outage, however long, marks an event failed.
RETRY_UNCOUNTED = RETRY.values(attempts=_T.c.attempts - 1)
