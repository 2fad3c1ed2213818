"""inbox order: the space of each event, so a space's events are handled in the order they arrived

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_events") as batch_op:
        batch_op.add_column(sa.Column("order_key", sa.String(length=300), nullable=True))
        batch_op.create_index("ix_inbox_head", ["order_key", "status", "id"], unique=False)
    # Events still waiting keep their space's order across the upgrade.
    events = sa.table(
        "inbox_events",
        sa.column("id", sa.Integer()),
        sa.column("payload", sa.JSON()),
        sa.column("status", sa.String()),
        sa.column("order_key", sa.String()),
    )
    bind = op.get_bind()
    for row in bind.execute(
        sa.select(events.c.id, events.c.payload).where(events.c.status.in_(("pending", "claimed")))
    ):
        data = row.payload.get("data") if isinstance(row.payload, dict) else None
        room = data.get("roomId") if isinstance(data, dict) else None
        if isinstance(room, str) and 0 < len(room) <= 300:
            bind.execute(sa.update(events).where(events.c.id == row.id).values(order_key=room))


def downgrade() -> None:
    with op.batch_alter_table("inbox_events") as batch_op:
        batch_op.drop_index("ix_inbox_head")
        batch_op.drop_column("order_key")
