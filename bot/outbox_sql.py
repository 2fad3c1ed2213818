"""The sender's statements: lease the head row of a space (urgent, then conversation, then bulk),
and record an outcome only while the row is still leased to the sender that holds it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    String,
    Table,
    Update,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    union_all,
    update,
)

from bot.outbox import UNFINISHED
from storage.models.runtime import OutboxMessage
from storage.types import UTCDateTime

# The instant of a claim or outcome, typed so every use binds it as the columns store it.
_NOW = bindparam("now", type_=UTCDateTime())
_T = cast(Table, OutboxMessage.__table__)  # a mapped class's table is typed as any FromClause
# A claimed message as its claim returns it: a row with the table's columns, not a mapped object.
Claimed = Row[Any]


def _claim_statements(*candidate_filters: Callable[[Any], ColumnElement[bool]]) -> tuple[Update, Update]:
    """UPDATE … RETURNING that leases the head row of a space matching the first of
    `candidate_filters` (built on the columns of the `cand` alias) that finds one: (SQLite,
    PostgreSQL). The PostgreSQL one locks the head with FOR UPDATE SKIP LOCKED, so concurrent
    senders pass over each other's rows instead of waiting. With several filters, the picks are
    branches of one UNION ALL … LIMIT 1: a later branch runs only when the earlier found nothing.

    Built once at import and on the table, not the mapped class: constructing the correlated
    subquery, and the ORM's copy of the statement on every run (whose cache key is then computed
    afresh), cost more than running it.
    """
    cand = _T.alias("cand").c
    earlier = _T.alias("earlier").c
    # The head: no unfinished row of its space before it. One NOT EXISTS per status, so each is a
    # single probe of ix_outbox_head (order_key, status, id); the minimum over both statuses was
    # a scan of the space's unfinished rows for every candidate, quadratic in a space's backlog.
    is_head = and_(
        *(
            ~exists().where(earlier.order_key == cand.order_key, earlier.status == status, earlier.id < cand.id)
            for status in UNFINISHED
        )
    )
    take = update(_T).values(
        status="sending",
        claimed_by=bindparam("worker_id"),
        lease_until=bindparam("new_lease", type_=UTCDateTime()),
        attempts=_T.c.attempts + 1,
        # A retry of an attempt that may have reached Webex keeps its time, so deliver() looks for it.
        attempt_started_at=func.coalesce(_T.c.attempt_started_at, _NOW),
    )
    statements = []
    for locked in (False, True):
        picks = []
        for candidate_filter in candidate_filters:
            pick = (
                select(cand.id)
                .where(candidate_filter(cand), is_head, cand.priority <= bindparam("max_priority"))
                .order_by(cand.priority, cand.id)
                .limit(1)
            )
            picks.append(pick.with_for_update(skip_locked=True, of=cand.id.table) if locked else pick)
        if len(picks) == 1:
            chosen = picks[0].scalar_subquery()
        else:
            chosen = union_all(*(select(pick.subquery().c.id) for pick in picks)).limit(1).scalar_subquery()
        statements.append(take.where(_T.c.id == chosen).returning(*_T.c))
    return statements[0], statements[1]


# Any space's oldest due head row: pending and due, or sending with its lease run out.
def _any_head(cand: Any) -> ColumnElement[bool]:
    return or_(
        and_(cand.status == "pending", cand.next_attempt_at <= _NOW),
        and_(cand.status == "sending", cand.lease_until < _NOW),
    )


# The head row of one space, when it is pending and due (a busy space keeps its sender).
def _head_in_space(cand: Any) -> ColumnElement[bool]:
    return and_(cand.order_key == bindparam("space_key"), cand.status == "pending", cand.next_attempt_at <= _NOW)


CLAIM_HEAD = _claim_statements(_any_head)
# After a send: the same space's next row, else any space's head, in one statement.
CLAIM_AFTER_SEND = _claim_statements(_head_in_space, _any_head)
# Outcomes are recorded only while the row is still leased to this sender (rowcount 0: lease lost).
OWNED = and_(
    _T.c.id == bindparam("row_id"),
    _T.c.claimed_by == bindparam("worker_id"),
    _T.c.status == "sending",
)
FINISH_CREATE = (
    update(_T)
    .where(OWNED)
    .values(
        status="sent",
        sent_at=_NOW,
        lease_until=None,
        webex_message_id=bindparam("sent_id"),
        room_id=func.coalesce(_T.c.room_id, bindparam("result_room_id", type_=String())),
    )
)
FINISH_OTHER = update(_T).where(OWNED).values(status="sent", sent_at=_NOW, lease_until=None)
RETRY = (
    update(_T)
    .where(OWNED)
    .values(
        status="pending",
        next_attempt_at=bindparam("retry_at", type_=UTCDateTime()),
        lease_until=None,
        claimed_by=None,
        last_error=bindparam("error"),
    )
)
RETRY_CLEAN = RETRY.values(attempt_started_at=None)
# A request Webex refused for the token's sake says nothing about the row: not counted either.
RETRY_UNCOUNTED = RETRY_CLEAN.values(attempts=_T.c.attempts - 1)
FAIL = update(_T).where(OWNED).values(status="failed", lease_until=None, last_error=bindparam("error"))
