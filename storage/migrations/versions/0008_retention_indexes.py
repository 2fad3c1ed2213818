"""retention: indexes on the columns that point at an outbox row

The retention deletes a sent message only when no ticket and no other message points at it;
these indexes answer that, and the foreign-key checks of the delete, without a table scan.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _partial(name: str, table: str, column: str) -> None:
    # Only rows that point somewhere: most point at nothing, and each claim and send of a message
    # rewrites its index entries.
    where = sa.text(f"{column} IS NOT NULL")
    op.create_index(name, table, [column], postgresql_where=where, sqlite_where=where)


def upgrade() -> None:
    _partial("ix_outbox_parent", "outbox_messages", "parent_outbox_id")
    _partial("ix_outbox_target", "outbox_messages", "target_outbox_id")
    _partial("ix_tickets_root_outbox", "tickets", "root_outbox_id")


def downgrade() -> None:
    op.drop_index("ix_tickets_root_outbox", table_name="tickets")
    op.drop_index("ix_outbox_target", table_name="outbox_messages")
    op.drop_index("ix_outbox_parent", table_name="outbox_messages")
