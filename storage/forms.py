"""One-shot cards: the first press of a form claims the card's message; later presses find the claim.

Keyword-only functions on a session; the caller's scope commits. The claim is made in the
transaction of the handler that acts on the press, so a refused or failed handler (whose
transaction is rolled back) leaves the card unused.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.db import is_postgres
from storage.models.runtime import FormSubmission

_T = cast(Table, FormSubmission.__table__)  # a mapped class's table is typed as any FromClause


def claim(session: Session, *, message_id: str, action: str, actor: str, now: datetime) -> FormSubmission | None:
    """Mark the card `message_id` used by this press; None when it was unused, else the earlier submission.

    INSERT … ON CONFLICT DO NOTHING: on PostgreSQL a second press at the same moment waits on
    the key until the first press's transaction ends, then finds its row (or, when the first
    was rolled back, claims the card itself); SQLite runs one writing transaction at a time.
    """
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = (
        insert(_T)
        .values(message_id=message_id, action=action, submitted_by=actor, submitted_at=now)
        .on_conflict_do_nothing(index_elements=[_T.c.message_id])
        .returning(_T.c.message_id)
    )
    if session.execute(stmt).scalar() is not None:
        return None
    return session.get(FormSubmission, message_id)


def record(session: Session, *, message_id: str, number: str | None) -> None:
    """What the press of a claimed card made (the number a later press is told)."""
    session.execute(update(_T).where(_T.c.message_id == message_id).values(number=number))
